// engine spec: the calculator's own. Its Dockerfile's stages, built and run on a real
// Docker engine, and its container over real HTTP. A team that replaces the calculator
// deletes this with app/; the platform's build tests are test/build.spec.ts.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

import { contextFiles } from "../../infra/source";
import {
    Containers,
    DockerError,
    build,
    buildSteps,
    docker,
    dockerEnv,
    dockerRaw,
    freePort,
    httpRequest,
    filesTheBuildSees,
    imageFiles,
    inspect,
    repoRoot,
    run,
    sleep,
    tail,
    waitForStatus,
} from "../../scripts/lib/docker";

/** The calculator's folder, the build context. */
const appDir = path.join(__dirname, "..");

const buildArgs = { VERSION: "src-0123456789ab", SOURCE_URL: "https://example.com/calculator" };
const imageTag = `calculator-test:${process.pid}`;

// ELF header: e_machine at offset 18 (little-endian).
const EM_X86_64 = 0x3e;
const EM_AARCH64 = 0xb7;
const EM_ARM = 0x28;
function elfMachine(file: string): number {
    const head = Buffer.alloc(20);
    const fd = fs.openSync(file, "r");
    fs.readSync(fd, head, 0, 20, 0);
    fs.closeSync(fd);
    assert.equal(head.subarray(0, 4).toString("latin1"), "\x7fELF", `${file} is not an ELF binary`);
    return head.readUInt16LE(18);
}

/** The build settings Go records in a binary (`go version -m`), read with this machine's Go. */
function buildSettings(bin: string): string {
    return execFileSync("go", ["version", "-m", bin], { encoding: "utf8" });
}

function sha256(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function tmpDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

async function buildBinary(platform?: string): Promise<string> {
    const dest = tmpDir("binary-");
    await build({ target: "binary", platform, output: `type=local,dest=${dest}`, buildArgs });
    return path.join(dest, "app");
}

/** Every container the spec starts; the spec's last hook removes them, whichever test failed. */
const containers = new Containers();

/** Runs the runtime image as a container on the host network; returns its name and URL. */
async function startContainer(image: string, env: Record<string, string> = {}, extra: string[] = []) {
    const port = await freePort();
    const name = `calculator-test-${process.pid}-${port}`;
    const envArgs = Object.entries({ PORT: String(port), ...env }).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
    await containers.run(name, ["--network", "host", "--read-only", ...envArgs, ...extra, image]);
    const url = `http://127.0.0.1:${port}`;
    await waitForStatus(`${url}/healthz`, 200, 10_000);
    return { name, url, port };
}

describe("image (real Docker engine)", function () {
    let imageId: string;

    before(async function () {
        dockerEnv(); // fails here, with how to get an engine, when there is none
        const res = await build({ target: "runtime", tags: [imageTag], buildArgs });
        assert.ok(res.imageId, "the runtime build produced no image ID");
        imageId = res.imageId;
    });

    after(async function () {
        await containers.removeAll();
        await dockerRaw(["rmi", "--force", imageTag]).catch(() => undefined);
    });

    describe("runtime stage", function () {
        it("has the image config users rely on: non-root user, JSON entrypoint, port, health check, OCI labels", async function () {
            const img = await inspect(imageId);
            assert.equal(img.Config.User, "65532:65532");
            assert.deepEqual(img.Config.Entrypoint, ["/app"]);
            assert.deepEqual(Object.keys(img.Config.ExposedPorts ?? {}), ["8080/tcp"]);
            assert.deepEqual(img.Config.Healthcheck.Test, ["CMD", "/app", "healthcheck"]);
            assert.equal(img.Os, "linux");
            assert.equal(img.Architecture, "amd64");
            const labels = img.Config.Labels;
            assert.equal(labels["org.opencontainers.image.title"], "calculator");
            assert.equal(labels["org.opencontainers.image.version"], buildArgs.VERSION);
            assert.equal(labels["org.opencontainers.image.source"], buildArgs.SOURCE_URL);
            // The revision is the source's content version; no commit reaches the build.
            assert.equal(labels["org.opencontainers.image.revision"], buildArgs.VERSION);
            const license = (JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { license: string }).license;
            assert.equal(labels["org.opencontainers.image.licenses"], license);
        });

        it("holds exactly the binary, the CA bundle, passwd and group: no shell, nothing else", async function () {
            const files = await imageFiles(imageId);
            assert.deepEqual(files, ["app", "etc/group", "etc/passwd", "etc/ssl/certs/ca-certificates.crt"]);

            const shell = await dockerRaw(["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", imageId, "-c", "true"]);
            assert.notEqual(shell.code, 0, "a /bin/sh ran inside the runtime image");
        });

        it("names the nonroot user 65532 in /etc/passwd and /etc/group", async function () {
            const dir = tmpDir("cp-");
            const id = (await docker(["create", imageId])).trim();
            try {
                await docker(["cp", `${id}:/etc/passwd`, path.join(dir, "passwd")]);
                await docker(["cp", `${id}:/etc/group`, path.join(dir, "group")]);
            } finally {
                await docker(["rm", id]);
            }
            assert.match(fs.readFileSync(path.join(dir, "passwd"), "utf8"), /^nonroot:x:65532:65532:/m);
            assert.match(fs.readFileSync(path.join(dir, "group"), "utf8"), /^nonroot:x:65532:/m);
            fs.rmSync(dir, { recursive: true, force: true });
        });
    });

    describe("runtime container", function () {
        let container: { name: string; url: string; port: number };

        before(async function () {
            // A 1s health interval so Docker's own health check verdict comes quickly.
            container = await startContainer(imageId, {}, ["--health-interval=1s", "--health-start-period=1s"]);
        });

        it("runs as UID 65532 with a read-only root file system", async function () {
            const c = await inspect(container.name);
            assert.equal(c.HostConfig.ReadonlyRootfs, true);
            const status = fs.readFileSync(`/proc/${c.State.Pid}/status`, "utf8");
            const uid = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
            assert.ok(uid, "no Uid line in /proc/PID/status");
            assert.deepEqual([uid[1], uid[2]], ["65532", "65532"], "the service's process is not running as 65532");
        });

        it("answers /healthz, /readyz, /version and /v1/evaluate over real HTTP", async function () {
            const health = await httpRequest(`${container.url}/healthz`);
            assert.equal(health.status, 200);
            const ready = await httpRequest(`${container.url}/readyz`);
            assert.equal(ready.status, 200);
            const version = JSON.parse((await httpRequest(`${container.url}/version`)).body);
            assert.equal(version.version, buildArgs.VERSION);
            assert.match(version.go, /^go1\.\d+/);

            const post = await httpRequest(`${container.url}/v1/evaluate`, {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ expression: "2*(3+4)" }),
            });
            assert.equal(post.status, 200);
            assert.deepEqual(JSON.parse(post.body), { expression: "2*(3+4)", result: 14 });

            const bad = await httpRequest(`${container.url}/v1/evaluate?expr=${encodeURIComponent("1/0")}`);
            assert.equal(bad.status, 400);
            assert.equal(JSON.parse(bad.body).error.code, "division_by_zero");
        });

        it("passes its own health check: `/app healthcheck` exits 0 and Docker reports healthy", async function () {
            const exec = await dockerRaw(["exec", container.name, "/app", "healthcheck"]);
            assert.equal(exec.code, 0, exec.stderr);
            const started = Date.now();
            let health = "";
            while (Date.now() - started < 15_000) {
                health = (await inspect(container.name)).State.Health?.Status ?? "";
                if (health === "healthy") break;
                await sleep(200);
            }
            assert.equal(health, "healthy");
        });

        it("logs one JSON line per request, within the log flush interval", async function () {
            await httpRequest(`${container.url}/v1/evaluate?expr=40%2B2`, { headers: { "X-Request-Id": "image-test-1" } });
            // The service buffers log lines (LOG_FLUSH_INTERVAL, 100ms by default).
            let line: { msg: string; status: number; path: string }[] = [];
            for (const started = Date.now(); line.length === 0 && Date.now() - started < 5000; await sleep(50)) {
                const logs = await dockerRaw(["logs", container.name]);
                line = logs.stdout
                    .split("\n")
                    .filter((l) => l.includes("image-test-1"))
                    .map((l) => JSON.parse(l));
            }
            assert.equal(line.length, 1, "the request's log line did not appear exactly once within 5s");
            assert.equal(line[0].msg, "request");
            assert.equal(line[0].status, 200);
            assert.equal(line[0].path, "/v1/evaluate");
        });
    });

    describe("docker stop under load", function () {
        it("loses no request the server accepted and exits 0 within the stop timeout", async function () {
            const stopTimeout = 10;
            const c = await startContainer(imageId, { SHUTDOWN_TIMEOUT: "5s" });
            try {
                // A request in flight when SIGTERM arrives: headers sent, body still coming.
                const body = JSON.stringify({ expression: "6*7" });
                const slow = net.connect({ host: "127.0.0.1", port: c.port });
                await new Promise<void>((resolve, reject) => slow.once("connect", resolve).once("error", reject));
                let slowResponse = "";
                let slowError: Error | undefined; // kept for the assertion instead of crashing the run
                slow.on("error", (err) => (slowError = err));
                slow.setEncoding("utf8").on("data", (d: string) => (slowResponse += d));
                const slowDone = new Promise<void>((resolve) => slow.on("close", () => resolve()));
                slow.write(
                    `POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 3)}`,
                );

                // A steady stream from 4 clients, a new connection per request.
                let stopping = false;
                const outcomes = { ok: 0, refused: 0, resetBeforeResponse: 0, serverErrors: 0, badBodies: 0 };
                const client = async () => {
                    for (let i = 0; i < 2000 && !(stopping && outcomes.refused > 0); i++) {
                        try {
                            const res = await httpRequest(`${c.url}/v1/evaluate?expr=6*7`, { timeoutMs: 5000 });
                            if (res.status >= 500) outcomes.serverErrors++;
                            else if (res.status !== 200 || JSON.parse(res.body).result !== 42) outcomes.badBodies++;
                            else outcomes.ok++;
                        } catch (err) {
                            const code = (err as NodeJS.ErrnoException).code;
                            if (code === "ECONNREFUSED") outcomes.refused++;
                            // Connected, but the listener closed before the server took the connection.
                            else if (code === "ECONNRESET" || /socket hang up/.test((err as Error).message)) outcomes.resetBeforeResponse++;
                            else throw err;
                            await sleep(5);
                        }
                    }
                };
                const clients = Promise.all([client(), client(), client(), client()]);
                await sleep(500);
                assert.ok(outcomes.ok > 0, "no request succeeded before the stop");

                stopping = true;
                const stopStarted = Date.now();
                const stop = docker(["stop", "--time", String(stopTimeout), c.name]);
                await sleep(300);
                slow.end(body.slice(3)); // finish the in-flight request after SIGTERM
                await Promise.all([stop, clients, slowDone]);
                const stopSeconds = (Date.now() - stopStarted) / 1000;

                assert.equal(outcomes.serverErrors, 0, `5xx during the stop: ${JSON.stringify(outcomes)}`);
                assert.equal(outcomes.badBodies, 0, `wrong or truncated answers: ${JSON.stringify(outcomes)}`);
                assert.ok(outcomes.refused > 0, `the server never stopped accepting: ${JSON.stringify(outcomes)}`);
                assert.match(
                    slowResponse,
                    /^HTTP\/1\.1 200 OK/,
                    `the in-flight request was lost (${slowError?.message ?? "no socket error"}): ${JSON.stringify(slowResponse)}`,
                );
                assert.match(slowResponse, /"result":42/);
                const state = (await inspect(c.name)).State;
                assert.equal(state.ExitCode, 0, "the service did not exit 0 on SIGTERM");
                assert.ok(stopSeconds < stopTimeout, `docker stop took ${stopSeconds}s; the stop timeout is ${stopTimeout}s`);
                console.log(`      stop under load: ${JSON.stringify(outcomes)}, stopped in ${stopSeconds.toFixed(2)} s`);
            } finally {
                await containers.remove(c.name);
            }
        });
    });

    describe("other stages", function () {
        it("--target test runs go vet and the Go tests inside the build", async function () {
            // The build fails when a test fails. A cached test step passed before on
            // these exact inputs (BuildKit caches only steps that succeeded).
            const res = await build({ target: "test", buildArgs });
            const steps = buildSteps(res.log);
            const step = steps.find((s) => s.name.startsWith("[test "));
            assert.ok(step, `no test step in the build log:\n${res.log}`);
            // The tests need the sources and modules only: not the cross-compile or the runtime's files.
            assert.deepEqual(
                steps.filter((s) => !/^\[(source|test) /.test(s.name)).map((s) => s.name),
                [],
                "the test stage waited for steps it does not need",
            );
            if (!step.cached) {
                assert.match(res.log, /ok\s+calculator\/internal\/calc/);
                assert.match(res.log, /ok\s+calculator\/internal\/server/);
            }
        });

        it("--target binary --output yields the static binary alone, which runs, without net/http's HTTP/2", async function () {
            const bin = await buildBinary();
            assert.deepEqual(fs.readdirSync(path.dirname(bin)), ["app"]);
            assert.equal(elfMachine(bin), EM_X86_64);
            // The load balancer speaks HTTP/1.1 to targets (the program pins the target group to HTTP1).
            assert.match(buildSettings(bin), /^\s*build\s+-tags=nethttpomithttp2$/m);
            const res = await run(bin, ["version"]);
            assert.equal(res.code, 0, res.stderr);
            assert.match(res.stdout, new RegExp(`^${buildArgs.VERSION} go1\\.`));
        });

        it("builds with go.mod's toolchain, and refuses a builder image of another Go", async function () {
            const toolchain = execFileSync(path.join(repoRoot, "scripts", "go-toolchain.sh"), { encoding: "utf8" }).trim();
            assert.match(toolchain, /^go\d+\.\d+\.\d+$/);
            const bin = await buildBinary();
            assert.match(buildSettings(bin), new RegExp(`^${bin}: ${toolchain.replace(/\./g, "\\.")}$`, "m"));
            // The same builder image against a go.mod that pins another Go: the build stops, saying why.
            const copy = tmpDir("other-go-");
            fs.cpSync(appDir, copy, { recursive: true });
            const gomod = path.join(copy, "go.mod");
            fs.writeFileSync(gomod, fs.readFileSync(gomod, "utf8").replace(/^toolchain .*$/m, "toolchain go1.27.2"));
            try {
                await assert.rejects(build({ context: copy, target: "source", buildArgs }), (err: Error) => {
                    assert.ok(err instanceof DockerError, String(err));
                    assert.match(
                        err.result.stderr,
                        new RegExp(`the builder image has ${toolchain.replace(/\./g, "\\.")}, but go.mod's toolchain is go1\\.27\\.2`),
                    );
                    return true;
                });
            } finally {
                fs.rmSync(copy, { recursive: true, force: true });
            }
        });

        it("--platform linux/arm64 cross-compiles an aarch64 binary, with no emulator on this machine", async function () {
            const binfmt = "/proc/sys/fs/binfmt_misc";
            const emulators = fs.existsSync(binfmt) ? fs.readdirSync(binfmt).filter((f) => /aarch64|arm64/.test(f)) : [];
            assert.deepEqual(emulators, [], "an arm64 emulator is registered; this test proves a native cross-compile only without one");
            const bin = await buildBinary("linux/arm64");
            assert.equal(elfMachine(bin), EM_AARCH64);

            const res = await build({ target: "runtime", platform: "linux/arm64", buildArgs });
            const img = await inspect(res.imageId!);
            assert.equal(img.Architecture, "arm64");
            await dockerRaw(["rmi", res.imageId!]);
        });
    });

    describe("32-bit ARM", function () {
        it("--platform linux/arm/v6 and v7 build for that ARM version (GOARM from the variant)", async function () {
            for (const variant of ["v6", "v7"]) {
                const bin = await buildBinary(`linux/arm/${variant}`);
                assert.equal(elfMachine(bin), EM_ARM);
                assert.match(buildSettings(bin), new RegExp(`^\\s*build\\s+GOARM=${variant.slice(1)}$`, "m"), variant);
            }
        });
    });

    describe("reproducibility and caching", function () {
        it("two clean builds, the second from a copy at another path, give a byte-identical binary and identical runtime layers", async function () {
            const clean = async (context: string) => {
                // Empty the Go build cache mounts too, so nothing is reused.
                await docker(["builder", "prune", "--force", "--filter", "type=exec.cachemount"]);
                const dest = tmpDir("binary-");
                await build({ context, target: "binary", output: `type=local,dest=${dest}`, buildArgs });
                const res = await build({ context, target: "runtime", buildArgs, noCache: true });
                const layers = (await inspect(res.imageId!)).RootFS.Layers;
                return { binary: sha256(path.join(dest, "app")), layers };
            };
            // Another path, other file times, as a second checkout has.
            const copy = path.join(tmpDir("checkout-"), "elsewhere", "app");
            fs.cpSync(appDir, copy, { recursive: true });
            try {
                const first = await clean(appDir);
                const second = await clean(copy);
                assert.equal(second.binary, first.binary);
                assert.deepEqual(second.layers, first.layers);
            } finally {
                fs.rmSync(path.dirname(path.dirname(copy)), { recursive: true, force: true });
            }
        });

    });

    it("the README's commands for an offline or bridgeless engine work as written", async function () {
        const readme = fs.readFileSync(path.join(appDir, "README.md"), "utf8");
        const block = /<!-- offline-build:start -->\s*```sh\n([\s\S]*?)```/.exec(readme);
        assert.ok(block, "app/README.md has no offline-build block");
        const out = path.join(appDir, "..", "bin");
        try {
            const res = await run("bash", ["-euo", "pipefail", "-c", block[1]], { cwd: path.join(appDir, "..") });
            assert.equal(res.code, 0, `${block[1]}\nfailed:\n${tail(res.stderr, 30)}`);
            assert.equal(elfMachine(path.join(out, "app")), EM_X86_64, "the --output build left no binary in bin/");
        } finally {
            fs.rmSync(path.join(out, "app"), { force: true });
        }
    });

    describe("build context", function () {
        it("keeps app/'s context to the Go sources, and the version's digest covers exactly those files", async function () {
            const ignored = path.join(appDir, `notes-${process.pid}.md`);
            fs.writeFileSync(ignored, "not for the image");
            try {
                const files = await filesTheBuildSees(appDir);
                assert.ok(files.includes("go.mod") && files.includes("main.go"), files.join("\n"));
                assert.ok(!files.some((f) => f.includes("notes-")), "a non-Go file reached the context");
                assert.ok(
                    files.every((f) => /\.go$|go\.(mod|sum)$|\/testdata\//.test(f)),
                    `unexpected files in the context:\n${files.join("\n")}`,
                );
                assert.deepEqual(contextFiles(appDir), files.sort());
            } finally {
                fs.rmSync(ignored, { force: true });
            }
        });

    });
});
