// engine spec: `npm start` end to end on the real engine: the program's image built and
// pushed to the local registry, its task definition run as a container.
import { strict as assert } from "assert";
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

import { docker, dockerEnv, dockerRaw, freePort, httpRequest, inspect, registryImage, repoRoot, sleep } from "../scripts/lib/docker";
import { UsageError, containerSpec, isHealthCheckLine, localSecrets, parseArgs, waitHealthy } from "../scripts/local-stack";
import { imageSource } from "../infra/source";
import { runUnderMocks } from "../scripts/lib/harness";
import { copyRepository } from "./repo-copy";
import { suiteConfigFile } from "./suite-stack";
import { escaped, healthPath, named, projectName, service, shared, svcName } from "./service-under-test";

const script = path.join(repoRoot, "scripts", "local-stack.ts");
const project = projectName;

/** `npm start` on the suite's own stack file (never the team's Pulumi.dev.yaml), unless `args` names one. */
function startLocal(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const own = args.some((a) => a === "--stack" || a.startsWith("--stack=") || a === "--config-file")
        ? []
        : ["--config-file", suiteConfigFile()];
    return spawn(process.execPath, ["-r", path.join(repoRoot, "scripts", "lib", "transpile-cache.cjs"), script, ...own, ...args], {
        cwd: repoRoot,
        env,
        stdio: ["ignore", "pipe", "pipe"],
    });
}

function runLocal(args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const p = startLocal(args, env);
        let stdout = "";
        let stderr = "";
        p.stdout!.on("data", (d) => (stdout += d));
        p.stderr!.on("data", (d) => (stderr += d));
        p.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
}

async function leftovers(stack: string): Promise<string> {
    return (
        await docker(["ps", "--all", "--quiet", "--filter", "label=com.pulumi.local=true", "--filter", `label=com.pulumi.stack=${stack}`])
    ).trim();
}

/** The version the program stamps on the service's image now. */
function sourceVersion(): string {
    return imageSource(service.dir, path.join(service.dir, "Dockerfile")).version;
}

/** `check: GET <url> -> 200`, the line npm start prints for its request to the health path. */
const checkLine = (port: number) => new RegExp(`check: GET http://127\\.0\\.0\\.1:${port}${escaped(healthPath)} -> 200`);

function digestOf(imageRef: unknown): { repository: string; digest: string } {
    const m = /^[^/]+\/([^@]+)@(sha256:[0-9a-f]{64})$/.exec(String(imageRef));
    assert.ok(m, `imageRef ${String(imageRef)} is not a registry digest reference`);
    return { repository: m[1], digest: m[2] };
}

describe("npm start's arguments (node:util parseArgs)", function () {
    it("takes each option in its long, short and --key=value forms, -c as often as given", function () {
        assert.deepEqual(
            parseArgs([
                "--stack=staging",
                "-c",
                "cpu=512",
                '--config=environment={"A":"1"}',
                "--check",
                "-v",
                "--service",
                "web",
                "--port=9000",
            ]),
            {
                stack: "staging",
                configFile: undefined,
                check: true,
                json: false,
                verbose: true,
                set: { cpu: "512", environment: '{"A":"1"}' },
                service: "web",
                port: 9000,
            },
        );
        assert.deepEqual(parseArgs([]), {
            stack: "dev",
            configFile: undefined,
            check: false,
            json: false,
            verbose: false,
            set: {},
            service: undefined,
            port: 8000,
        });
        assert.equal(parseArgs(["--config-file", "ci/Pulumi.ci.yaml"]).configFile, "ci/Pulumi.ci.yaml");
    });

    it("refuses what it does not know, with the usage", function () {
        for (const [argv, message] of [
            [["--chek"], /Unknown option '--chek'/],
            [["-c", "cpu"], /-c takes key=value, got "cpu"/],
            [["--stack"], /--stack.*argument missing/],
            [["extra"], /Unexpected argument 'extra'/],
            [["--port", "80"], /--port 80: the router's port, 1024 to 65535/],
        ] as [string[], RegExp][]) {
            assert.throws(
                () => parseArgs(argv),
                (err: Error) => err instanceof UsageError && message.test(err.message) && /usage: npm start/.test(err.message),
                argv.join(" "),
            );
        }
    });
});

describe("npm start (local stack on the real engine)", function () {
    this.timeout(600_000);

    it("--check: builds, pushes, runs, answers, tears down; outputs carry the registry's compressed size", async function () {
        const port = await freePort();
        // The single-stage comparison too, where the service declares one.
        const single = service.singleStageDockerfile ? ["-c", "compareSingleStage=true"] : [];
        const res = await runLocal(["--check", "-c", `containerPort=${port}`, ...single]);
        assert.equal(res.code, 0, res.stderr);
        const outputs = JSON.parse(res.stdout);
        assert.equal(outputs.url, `http://127.0.0.1:${port}`);
        const { repository, digest } = digestOf(outputs.imageRef);
        assert.equal(repository, named("dev"), "the local repository is named after the program's ECR repository");
        const pushed = await registryImage(dockerEnv().registry, repository, digest);
        assert.equal(outputs.imageSizeBytes, pushed.compressedBytes);
        assert.ok(outputs.imageSizeBytes > 1_000_000 && outputs.imageSizeBytes < 10_000_000, `size ${outputs.imageSizeBytes}`);
        assert.match(outputs.imageSize, /^\d+\.\d MB$/);
        if (single.length) {
            assert.ok(outputs.singleStageImageSizeBytes > outputs.imageSizeBytes, JSON.stringify(outputs));
            assert.match(outputs.imageSizeReduction, /^\d+x smaller$/);
        } else assert.equal(outputs.singleStageImageSizeBytes, undefined);
        assert.match(res.stderr, checkLine(port));
        assert.equal(await leftovers("dev"), "", "a container from the run is left");
    });

    it("runs the task definition field by field, serves until SIGTERM, then stops within the stop timeout and removes it", async function () {
        const port = await freePort();
        const task = (await runUnderMocks({ configFile: suiteConfigFile(), set: { containerPort: String(port) } })).inputs(
            "aws:ecs/taskDefinition:TaskDefinition",
        );
        const [def] = JSON.parse(task.containerDefinitions);

        const p = startLocal(["--json", "-c", `containerPort=${port}`]);
        let stdout = "";
        let stderr = "";
        p.stderr!.on("data", (d) => (stderr += d));
        const exited = new Promise<number | null>((resolve) => p.on("close", resolve));
        const outputs = await new Promise<Record<string, unknown>>((resolve, reject) => {
            p.stdout!.on("data", (d) => {
                stdout += d;
                try {
                    resolve(JSON.parse(stdout));
                } catch {
                    // not all of it yet
                }
            });
            void exited.then((code) => reject(new Error(`npm start exited (${code}) before printing outputs:\n${stderr}`)));
        });

        try {
            const c = await inspect(`${project}-dev`);
            assert.equal(c.Config.Image, outputs.imageRef, "the container runs the pushed image by digest");
            assert.match(def.image, /@sha256:[0-9a-f]{64}$/, "the task definition pins a digest too");
            for (const e of def.environment) assert.ok(c.Config.Env.includes(`${e.name}=${e.value}`), `env ${e.name} missing`);
            assert.equal(c.Config.User, def.user);
            assert.equal(c.HostConfig.ReadonlyRootfs, def.readonlyRootFilesystem);
            assert.deepEqual(c.Config.Healthcheck, {
                Test: def.healthCheck.command,
                Interval: def.healthCheck.interval * 1e9,
                Timeout: def.healthCheck.timeout * 1e9,
                Retries: def.healthCheck.retries,
                StartPeriod: def.healthCheck.startPeriod * 1e9,
            });
            assert.equal(c.Config.StopTimeout, def.stopTimeout);
            assert.equal(c.HostConfig.NanoCpus, (Number(task.cpu) / 1024) * 1e9);
            assert.equal(c.HostConfig.Memory, Number(task.memory) * 1024 * 1024);
            assert.equal(c.HostConfig.NetworkMode, "host");
            // The image's own EXPOSE stays; the task's port is added to it.
            assert.ok(Object.keys(c.Config.ExposedPorts).includes(`${def.portMappings[0].containerPort}/tcp`));

            // A request as the load balancer's health check makes it, through the stack's URL.
            const res = await httpRequest(`${String(outputs.url)}${healthPath}`);
            assert.equal(res.status, 200);

            const stopped = Date.now();
            p.kill("SIGTERM");
            assert.equal(await exited, 0, stderr);
            assert.ok((Date.now() - stopped) / 1000 < def.stopTimeout, "took longer than the stop timeout");
            assert.equal(await leftovers("dev"), "");
        } finally {
            p.kill("SIGKILL");
            await dockerRaw(["rm", "--force", `${project}-dev`]);
        }
    });

    it("runs a stack with every production option, modelling what it cannot run (network, DNS, certificate, logs bucket)", async function () {
        for (const options of [
            ["vpc=new", "natGateway=true", "domainName=calc.example.com", "accessLogs=true"],
            [
                "vpc=existing",
                "vpcId=vpc-0a1b2c3d4e5f60718",
                "publicSubnetIds=subnet-0a1b2c3d,subnet-0a1b2c3e",
                "privateSubnetIds=subnet-0b1b2c3d",
            ],
        ]) {
            const port = await freePort();
            const res = await runLocal(["--check", "-c", `containerPort=${port}`, ...options.flatMap((o) => ["-c", o])]);
            assert.equal(res.code, 0, res.stderr);
            const outputs = JSON.parse(res.stdout);
            assert.equal(outputs.url, `http://127.0.0.1:${port}`, "the local URL goes straight to the container");
            assert.match(res.stderr, checkLine(port));
            if (options.includes("domainName=calc.example.com")) {
                assert.match(
                    res.stderr,
                    /on AWS the stack serves https:\/\/calc\.example\.com; here the container serves http:\/\/127\.0\.0\.1:/,
                );
                assert.match(String(outputs.accessLogsBucket), new RegExp(`^${escaped(shared("access-logs"))}-`));
            }
            assert.equal(await leftovers("dev"), "");
        }
    });

    it("`npm start -s -- --check` writes only JSON to stdout (the command line the README pipes into jq)", async function () {
        const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
        assert.ok(readme.includes("npm start -s -- --json | jq -r .url"), "the README no longer shows the JSON command line");
        const port = await freePort();
        const res = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
            const p = spawn("npm", ["start", "-s", "--", "--check", "--config-file", suiteConfigFile(), "-c", `containerPort=${port}`], {
                cwd: repoRoot,
                stdio: ["ignore", "pipe", "pipe"],
            });
            let stdout = "";
            let stderr = "";
            p.stdout.on("data", (d) => (stdout += d));
            p.stderr.on("data", (d) => (stderr += d));
            p.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
        });
        assert.equal(res.code, 0, res.stderr);
        assert.equal(JSON.parse(res.stdout).url, `http://127.0.0.1:${port}`, `stdout is not JSON alone:\n${res.stdout}`);
        assert.match(res.stderr, new RegExp(`\\+ ecr\\.Repository ${escaped(svcName)}`), "no progress on stderr");
    });

    it("tells a health check's log line from others: a JSON line whose path is the health path, its query aside", function () {
        assert.ok(isHealthCheckLine(`{"level":"info","path":"${healthPath}","status":200}`, healthPath));
        assert.ok(isHealthCheckLine(`{"url":"${healthPath}?probe=1"}`, healthPath));
        assert.ok(!isHealthCheckLine(`{"path":"${healthPath}/more"}`, healthPath));
        assert.ok(!isHealthCheckLine(`{"path":"/other"}`, healthPath));
        assert.ok(!isHealthCheckLine(`GET ${healthPath} 200`, healthPath), "a line that is not JSON is always shown");
        assert.ok(!isHealthCheckLine("{not json", healthPath));
    });

    it("prints the outputs table the README shows, and follows the logs without the health checks' lines", async function () {
        const port = await freePort();
        const p = startLocal(["-c", `containerPort=${port}`]);
        let stdout = "";
        let stderr = "";
        p.stderr!.on("data", (d) => (stderr += d));
        const exited = new Promise<number | null>((resolve) => p.on("close", resolve));
        try {
            await new Promise<void>((resolve, reject) => {
                p.stdout!.on("data", (d) => {
                    stdout += d;
                    if (/^\s+url\s+\S+$/m.test(stdout)) resolve();
                });
                void exited.then((code) => reject(new Error(`npm start exited (${code}) before printing outputs:\n${stderr}`)));
            });
            const printed = outputRows(stdout);
            const documented = outputRows(
                /<!-- start-output:start -->\s*```\n([\s\S]*?)```/.exec(fs.readFileSync(path.join(repoRoot, "README.md"), "utf8"))![1],
            );
            assert.deepEqual(
                printed.map((r) => r[0]),
                documented.map((r) => r[0]),
                "the README shows other outputs than npm start prints",
            );
            assert.match(stdout, new RegExp(`^Current stack outputs \\(${printed.length}\\):$`, "m"));
            // The README shows the sample's outputs: its service's name (from its clusterName) stands for this one's.
            const shownService = /^(.+)-app-[0-9a-f]+$/.exec(documented.find((r) => r[0] === "serviceName")![1])![1];
            // Every service's outputs, by name, as JSON (the README shows the sample's, cut short).
            assert.deepEqual(Object.keys(JSON.parse(printed.find((r) => r[0] === "services")![1]) as object), [svcName]);
            for (const [name, value] of documented.filter(([n]) => n !== "services")) {
                const actual = printed.find((r) => r[0] === name)![1];
                assert.equal(
                    shapeOf(actual, port, svcName),
                    shapeOf(value, 8080, shownService),
                    `${name}: README shows ${value}, npm start prints ${actual}`,
                );
            }

            // The load balancer's probe: its line, if the service logs requests, is left out (isHealthCheckLine, below).
            await httpRequest(`http://127.0.0.1:${port}${healthPath}`);
            await sleep(1500);
            assert.ok(!stderr.split("\n").some((l) => isHealthCheckLine(l, healthPath)), "a health check's line was shown");
        } finally {
            p.kill("SIGTERM");
            assert.equal(await exited, 0, stderr);
        }
    });

    it("Ctrl-C while the container is starting: stops and removes it, exit 0", async function () {
        const port = await freePort();
        const p = startLocal(["-c", `containerPort=${port}`]);
        let stderr = "";
        const exited = new Promise<number | null>((resolve) => p.on("close", resolve));
        await new Promise<void>((resolve, reject) => {
            p.stderr!.on("data", (d) => {
                stderr += d;
                if (/^starting /m.test(stderr)) resolve();
            });
            void exited.then((code) => reject(new Error(`exited (${code}) before starting the container:\n${stderr}`)));
        });
        p.kill("SIGINT");
        assert.equal(await exited, 0, stderr);
        assert.match(stderr, /nothing is left running/);
        assert.equal(await leftovers("dev"), "");
    });

    it("with an ARM64 stack, pushes an arm64 image under its own tag, reports its size, and does not try to run it here", async function () {
        const res = await runLocal(["--check", "-c", "cpuArchitecture=ARM64"]);
        assert.equal(res.code, 0, res.stderr);
        const outputs = JSON.parse(res.stdout);
        assert.equal(outputs.url, undefined);
        const { repository, digest } = digestOf(outputs.imageRef);
        const pushed = await registryImage(dockerEnv().registry, repository, digest);
        assert.equal(pushed.architecture, "arm64");
        const tagged = await registryImage(dockerEnv().registry, repository, `${sourceVersion()}-arm64`);
        assert.equal(tagged.digest, digest, "the arm64 image is not under its -arm64 tag");
        assert.equal(outputs.imageSizeBytes, pushed.compressedBytes);
        assert.match(res.stderr, /the task runs on ARM64; this machine is X86_64/);
        assert.equal(await leftovers("dev"), "");
    });

    describe("a service of your own (README: Your own service)", function () {
        it("a different Go service in place of app/, with its declaration beside it, runs under npm start -- --check", async function () {
            this.timeout(600_000);
            // A copy of the repository as a team has it, app/ replaced by its own service.
            const copy = copyRepository((f) => f.startsWith("app/"));
            try {
                fs.cpSync(path.join(repoRoot, "test", "fixtures", "byo-service"), path.join(copy, "app"), { recursive: true });
                // What a team writes: its service's declaration in its folder, and its name in infra/services.ts.
                fs.writeFileSync(
                    path.join(copy, "app", "service.ts"),
                    `import { ServiceDeclaration } from "../infra/declaration";

export const greeter: ServiceDeclaration = {
    name: "greeter",
    dir: __dirname,
    container: {
        port: 9090,
        healthCheckPath: "/ready",
        user: "10001:10001",
        stopTimeoutSeconds: 10,
        environment: { GREETING: "hello" },
        secrets: {},
        protocolVersion: "HTTP1",
        readonlyRootFilesystem: true,
    },
};
`,
                );
                fs.writeFileSync(
                    path.join(copy, "infra", "services.ts"),
                    'import { greeter } from "../app/service";\nimport { ServiceDeclaration } from "./declaration";\n\nexport const services: ServiceDeclaration[] = [greeter];\n',
                );
                const port = await freePort();
                const res = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
                    execFile(
                        process.execPath,
                        [
                            "-r",
                            path.join(copy, "scripts", "lib", "transpile-cache.cjs"),
                            path.join(copy, "scripts", "local-stack.ts"),
                            "--check",
                            "--config-file",
                            suiteConfigFile(),
                            "-c",
                            `containerPort=${port}`,
                        ],
                        { cwd: copy, maxBuffer: 64 << 20 },
                        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
                    );
                });
                assert.equal(res.code, 0, res.stderr);
                assert.match(res.stderr, new RegExp(`check: GET http://127\\.0\\.0\\.1:${port}/ready -> 200 \\{"greeting":"hello"\\}`));
                const outputs = JSON.parse(res.stdout);
                assert.match(String(outputs.imageRef), /\/greeter-dev@sha256:/);
                assert.match(String(outputs.serviceName), /^greeter-app-/);
                // Its declared port, where the stack sets no containerPort: one place for the port.
                const planned = await runUnderMocks({ projectDir: copy, configFile: suiteConfigFile() });
                assert.equal(planned.inputs("aws:lb/targetGroup:TargetGroup").port, 9090);
                assert.equal((planned.inputs("aws:lb/targetGroup:TargetGroup").healthCheck as { path: string }).path, "/ready");
            } finally {
                fs.rmSync(copy, { recursive: true, force: true });
            }
        });
    });

    describe("errors a user can hit", function () {
        it("an invalid stack config: the message `pulumi preview` would give, exit 1, before anything starts", async function () {
            const res = await runLocal(["-c", "cpu=300", "-c", "vpc=mine"]);
            assert.equal(res.code, 1);
            assert.doesNotMatch(res.stderr, /running the program|docker-env/);
            assert.match(res.stderr, /invalid stack configuration \(2 problems\)/);
            assert.match(res.stderr, new RegExp(`${project}:cpu is "300"`));
            assert.match(res.stderr, new RegExp(`${project}:vpc is "mine"`));
        });

        it("a mistyped key: names the key it meant, exit 1, nothing built", async function () {
            const res = await runLocal(["-c", "contianerPort=9000"]);
            assert.equal(res.code, 1);
            assert.match(
                res.stderr,
                new RegExp(`${project}:contianerPort is not a setting of this project; did you mean ${project}:containerPort\\?`),
            );
            assert.doesNotMatch(res.stderr, /building /);
        });

        it("a port in use: says which, and how to pick another", async function () {
            const holder = net.createServer().listen(0, "127.0.0.1");
            await new Promise((r) => holder.once("listening", r));
            const port = (holder.address() as net.AddressInfo).port;
            try {
                const res = await runLocal(["-c", `containerPort=${port}`]);
                assert.equal(res.code, 1);
                assert.match(res.stderr, new RegExp(`port ${port} on 127.0.0.1 is in use`));
                assert.match(res.stderr, /-c containerPort=/);
                assert.equal(await leftovers("dev"), "");
            } finally {
                holder.close();
            }
        });

        it("a stack with secrets and no values for them here: names each, before anything is built", async function () {
            const stackFile = path.join(repoRoot, "Pulumi.local-secrets.yaml");
            fs.writeFileSync(
                stackFile,
                [
                    "config:",
                    "  aws:region: us-east-1",
                    `  ${project}:secrets:`,
                    "    DB_PASSWORD:",
                    "      secure: v1:AAAABBBBCCCCDDDD",
                    "    DB_URL: arn:aws:ssm:us-east-1:123456789012:parameter/shared/db-url",
                    "",
                ].join("\n"),
            );
            try {
                const env = { ...process.env };
                delete env.DB_PASSWORD;
                delete env.DB_URL;
                const res = await runLocal(["--check", "--stack", "local-secrets"], env);
                assert.equal(res.code, 1);
                assert.match(res.stderr, /only the Pulumi CLI can decrypt secure: values/);
                assert.match(res.stderr, /secrets\.DB_PASSWORD \(set DB_PASSWORD in npm start's environment\)/);
                assert.match(res.stderr, /secrets\.DB_URL \(set DB_URL in npm start's environment\)/);
                assert.doesNotMatch(res.stderr, /building|v1:AAAA/);
                assert.equal(await leftovers("local-secrets"), "");
            } finally {
                fs.rmSync(stackFile, { force: true });
            }
        });

        it("secrets take their values from npm start's environment, and reach the container as variables", function () {
            const config = {
                [`${project}:secrets`]: JSON.stringify({
                    DB_PASSWORD: { secure: "v1:AAAA" },
                    DB_URL: "arn:aws:ssm:us-east-1:123456789012:parameter/x",
                }),
                "aws:accessKey": JSON.stringify({ secure: "v1:BBBB" }),
                [`${project}:domainName`]: JSON.stringify({ secure: "v1:CCCC" }),
            };
            const got = localSecrets(config, project, { DB_PASSWORD: "pw", DB_URL: "postgres://db" });
            assert.deepEqual(JSON.parse(got.config[`${project}:secrets`]), {
                DB_PASSWORD: "pw",
                DB_URL: "arn:aws:ssm:us-east-1:123456789012:parameter/x",
            });
            assert.deepEqual(got.secretKeys.sort(), ["aws:accessKey", `${project}:secrets`]);
            assert.deepEqual(got.values, { DB_PASSWORD: "pw", DB_URL: "postgres://db" });
            assert.ok(!got.config["aws:accessKey"].includes("v1:"), "no ciphertext passed on as a value");
            assert.deepEqual(got.missing, [
                `${project}:domainName (a secure value only the Pulumi CLI decrypts; pass it with -c domainName=VALUE)`,
            ]);
            const spec = containerSpec(
                { image: "x", environment: [{ name: "A", value: "1" }], secrets: [{ name: "DB_PASSWORD", valueFrom: "arn:…" }] },
                { cpu: "256", memory: "512" },
                {},
                got.values,
            );
            assert.deepEqual(spec.Env, ["A=1", "DB_PASSWORD=pw"]);
        });

        it("a service's own secrets (services.NAME.secrets) take their values from npm start's environment too", function () {
            const config = {
                [`${project}:services`]: JSON.stringify({
                    ledger: { cpu: 512, secrets: { LEDGER_TOKEN: { secure: "v1:DDDD" } } },
                    web: { cpu: 256 },
                }),
            };
            const got = localSecrets(config, project, { LEDGER_TOKEN: "tok" });
            assert.deepEqual(JSON.parse(got.config[`${project}:services`]), {
                ledger: { cpu: 512, secrets: { LEDGER_TOKEN: "tok" } },
                web: { cpu: 256 },
            });
            assert.deepEqual(got.secretKeys, [`${project}:services`]);
            assert.deepEqual(got.values, { LEDGER_TOKEN: "tok" });
            assert.deepEqual(localSecrets(config, project, {}).missing, [
                `${project}:services.ledger.secrets.LEDGER_TOKEN (set LEDGER_TOKEN in npm start's environment)`,
            ]);
        });

        it("no Docker engine: says how to get one", async function () {
            const env = { ...process.env, ...envOf(dockerEnv()), DOCKER_HOST: "unix:///nonexistent/docker.sock" };
            const res = await runLocal(["--check"], env);
            assert.equal(res.code, 1);
            assert.match(res.stderr, /no Docker engine answers on unix:\/\/\/nonexistent\/docker.sock/);
            assert.match(res.stderr, /scripts\/docker-env\.sh/);
        });

        it("a build failure: shows the failing step's output, exit 1, nothing left running", async function () {
            const env = { ...process.env, ...envOf(dockerEnv()), GO_IMAGE: "local/no-such-builder:0" };
            const res = await runLocal(["--check"], env);
            assert.equal(res.code, 1);
            assert.match(
                res.stderr,
                new RegExp(`the image build failed \\(127\\.0\\.0\\.1:\\d+/${escaped(svcName)}-dev:[^)]+\\); the failing step said:`),
            );
            assert.match(res.stderr, /no-such-builder/);
            assert.equal(await leftovers("dev"), "");
        });

        // Containers of the builder image's shell (a service's own image may have none), as a service that fails would behave.
        describe("a container that never turns healthy", function () {
            const started: string[] = [];
            after(async function () {
                for (const name of started) await dockerRaw(["rm", "--force", name]);
            });
            async function serve(script: string): Promise<{ name: string; port: number }> {
                const port = await freePort();
                const name = `${svcName}-unhealthy-${process.pid}-${started.length}`;
                started.push(name);
                await docker(["run", "--detach", "--network", "host", "--name", name, dockerEnv().goImage, "sh", "-c", script]);
                return { name, port };
            }

            it("one that exits at start: says so, with its last log lines", async function () {
                const c = await serve("echo 'config: LOG_LEVEL is not a level'; exit 3");
                await assert.rejects(waitHealthy(c.name, `http://127.0.0.1:${c.port}${healthPath}`, "200", 30_000), (err: Error) => {
                    assert.match(err.message, /the container exited \(code 3\) before turning healthy; its last lines:/);
                    assert.match(err.message, /LOG_LEVEL is not a level/, "the service's own message is not among the lines shown");
                    return true;
                });
            });

            it("one that never answers the health check: gives up in time, with its last log lines", async function () {
                const c = await serve("echo 'listening elsewhere'; sleep 120");
                const url = `http://127.0.0.1:${c.port}${healthPath}`;
                await assert.rejects(waitHealthy(c.name, url, "200", 1500), (err: Error) => {
                    assert.match(err.message, new RegExp(`did not answer ${escaped(url)} with 200 within 1.5s; its last lines:`));
                    assert.match(err.message, /listening elsewhere/, "the container's log lines are not shown");
                    return true;
                });
            });
        });

        it("an unknown stack: names the stacks there are", async function () {
            const res = await runLocal(["--stack", "nope"]);
            assert.equal(res.code, 1);
            assert.match(res.stderr, /no stack configuration .*Pulumi\.nope\.yaml; stacks here: dev/);
        });
    });
});

/** [name, value] rows of a `pulumi stack output` table. */
function outputRows(table: string): [string, string][] {
    return table
        .split("\n")
        .map((l) => /^ {4}(\S+)\s+(\S.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && m[1] !== "OUTPUT")
        .map((m) => [m[1], m[2]]);
}

/** What a value looks like, its particulars left out: digests, numbers, the port, the project's and the service's names. */
function shapeOf(value: string, port: number, serviceName: string): string {
    return value
        .replaceAll(projectName, "PROJECT")
        .replaceAll(serviceName, "SERVICE")
        .replace(/-[0-9a-f]{7}$/, "-HEX")
        .replace(`:${port}`, ":PORT")
        .replace(/@sha256:[0-9a-f]+(…)?$/, "@sha256:DIGEST")
        .replace(/^\d+$/, "INTEGER")
        .replace(/^\d+\.\d MB$/, "N.N MB");
}

function envOf(e: ReturnType<typeof dockerEnv>): NodeJS.ProcessEnv {
    return { DOCKER: e.docker, DOCKER_HOST: e.dockerHost, REGISTRY: e.registry, GO_IMAGE: e.goImage };
}
