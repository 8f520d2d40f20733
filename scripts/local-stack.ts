// `npm start`: the stack in infra/ on this machine, without AWS or the Pulumi
// CLI. The program runs exactly as `pulumi up` runs it, with the stack's
// config; the Docker side is real (the image is built and pushed to a
// registry on 127.0.0.1 that plays ECR, and the task definition runs as a
// container), the rest of AWS is modelled by stand-ins.
//
//   npm start [-- --stack NAME] [-- --config-file PATH] [-- -c key=value ...] [-- --check] [-- --json] [-- --verbose]
//
// Progress goes to stderr, the outputs to stdout: `npm start -s -- --json`
// (npm's -s keeps its banner off stdout) pipes into jq as it is.
//
// Ctrl-C (or SIGTERM) stops the container within its stop timeout, removes
// it and exits 0: a `pulumi destroy` for the local stack.
import { ChildProcess, spawn } from "child_process";
import { parseArgs as parseArgv } from "util";
import * as pulumi from "@pulumi/pulumi";

import { ConfigError, loadConfig, mapConfigSource } from "../infra/config";
import { webServiceType } from "../infra/service";
import { services } from "../infra/services";
import {
    DockerError,
    DockerEnv,
    build,
    buildProgress,
    dockerEnv,
    dockerRaw,
    httpRequest,
    portInUse,
    push,
    registryImage,
    tail,
} from "./lib/docker";
import { engine } from "./lib/engine";
import { Target, routeTable, startRouter } from "./lib/local-router";
import { poll } from "./lib/poll";
import { FakeWorld, defaultWorld, fakeAws } from "./lib/fake-aws";
import { ProgramError, ProgramRun, runProgram } from "./lib/mock-program";
import { effectiveConfig, readConfigFile, readProject, readStackFile } from "./lib/stack-config";

const T = {
    repository: "aws:ecr/repository:Repository",
    image: "docker:index/image:Image",
    lb: "aws:lb/loadBalancer:LoadBalancer",
    tg: "aws:lb/targetGroup:TargetGroup",
    taskDef: "aws:ecs/taskDefinition:TaskDefinition",
};

/** AWS resources the program declares that `npm start` models but does not run. */
const modelled =
    "VPC, subnets and NAT gateway, load balancer and listeners (the URL goes straight to the container), DNS records and certificate, ECS cluster and service, autoscaling, IAM roles, SSM parameters (the secrets come from this environment), CloudWatch Logs (the container's output is shown here instead), alarms, dashboard and notifications, the access logs' bucket";

/**
 * The account the lookups see: the default one, plus whatever the stack's
 * config names (its own VPC's subnets, its domain's hosted zone), so that
 * every option runs here as the program would run it against AWS.
 */
export function localWorld(config: Record<string, string>, project: string): Partial<FakeWorld> {
    const get = (key: string) => (config[`${project}:${key}`] ?? "").trim();
    const ids = (key: string) =>
        get(key)
            .split(",")
            .map((id) => id.trim())
            .filter(Boolean);
    const configured = [...ids("publicSubnetIds"), ...ids("privateSubnetIds")].map((id, i) => {
        const zone = defaultWorld.zones[i % 2];
        return { id, vpcId: get("vpcId"), availabilityZone: zone.name, availabilityZoneId: zone.zoneId, defaultForAz: false };
    });
    const domain = get("domainName").toLowerCase();
    const zoneName = domain.slice(domain.indexOf(".") + 1);
    return {
        subnets: [...defaultWorld.subnets, ...configured],
        hostedZones: domain ? [{ zoneId: get("hostedZoneId") || "ZLOCALSTANDIN", name: get("hostedZoneId") ? domain : zoneName }] : [],
    };
}

interface Args {
    stack: string;
    /** The stack's config file, in place of Pulumi.<stack>.yaml. */
    configFile?: string;
    check: boolean;
    json: boolean;
    /** BuildKit's whole log, and the health checks' lines among the followed logs. */
    verbose: boolean;
    set: Record<string, string>;
    /** Run this service alone. */
    service?: string;
    /** The router's port, for a stack of several services (the load balancer's, here). */
    port: number;
}

const usage =
    "usage: npm start -s -- [--stack NAME] [--config-file PATH] [-c|--config key=value]... [--service NAME] [--port N] [--check] [--json] [--verbose]";

export class UsageError extends Error {}

export function parseArgs(argv: string[]): Args {
    let parsed;
    try {
        parsed = parseArgv({
            args: argv,
            options: {
                stack: { type: "string", short: "s", default: "dev" },
                // As the CLI's --config-file: the stack's config from this file, not Pulumi.<stack>.yaml.
                "config-file": { type: "string" },
                config: { type: "string", short: "c", multiple: true, default: [] },
                check: { type: "boolean", default: false },
                json: { type: "boolean", default: false },
                verbose: { type: "boolean", short: "v", default: false },
                service: { type: "string" },
                port: { type: "string", default: "8000" },
                help: { type: "boolean", short: "h", default: false },
            },
        });
    } catch (err) {
        throw new UsageError(`${(err as Error).message}\n${usage}`);
    }
    const { stack, config, check, json, verbose, help, service } = parsed.values;
    const port = Number(parsed.values.port);
    if (!/^\d+$/.test(parsed.values.port) || port < 1024 || port > 65535) {
        throw new UsageError(`--port ${parsed.values.port}: the router's port, 1024 to 65535\n${usage}`);
    }
    const configFile = parsed.values["config-file"];
    if (help) throw new UsageError(usage);
    const set: Record<string, string> = {};
    for (const kv of config) {
        const eq = kv.indexOf("=");
        if (eq <= 0) throw new UsageError(`-c takes key=value, got ${JSON.stringify(kv)}\n${usage}`);
        set[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    return { stack, configFile, check, json, verbose, set, service, port };
}

const say = (msg: string) => process.stderr.write(`${msg}\n`);

/** Fails the run with a message for the user (no stack trace). */
class Fatal extends Error {}

/** The AWS side as stand-ins, with ECR played by the local registry and the image built for real. */
class LocalAws {
    private failed!: (err: Error) => void;
    /** Rejects as soon as a stand-in fails, so a failed build does not leave the program waiting. */
    readonly failure = new Promise<never>((_, reject) => (this.failed = reject));
    readonly fake: pulumi.runtime.Mocks;
    readonly pushed: { ref: string; repository: string; digest: string; platform?: string }[] = [];

    constructor(
        private readonly env: DockerEnv,
        private readonly stack: string,
        private readonly containerPort: number,
        world: Partial<FakeWorld>,
        private readonly verbose: boolean,
    ) {
        this.fake = fakeAws({ world });
    }

    readonly mocks: pulumi.runtime.Mocks = {
        newResource: async (args) => {
            say(`  + ${shortType(args.type)} ${args.name}`);
            switch (args.type) {
                case T.repository: {
                    const name = `${args.name}-${this.stack}`.toLowerCase();
                    return {
                        id: name,
                        state: {
                            ...args.inputs,
                            name,
                            registryId: "local",
                            repositoryUrl: `${this.env.registry}/${name}`,
                            arn: `local:ecr:${name}`,
                        },
                    };
                }
                case T.image:
                    try {
                        const repoDigest = await this.buildAndPush(args.name, args.inputs);
                        return { id: repoDigest, state: { ...args.inputs, repoDigest, baseImageName: args.inputs.imageName } };
                    } catch (err) {
                        this.failed(err as Error);
                        throw err;
                    }
                case T.lb: {
                    const result = await this.fake.newResource(args);
                    return { ...result, state: { ...result.state, dnsName: `127.0.0.1:${this.containerPort}` } };
                }
                default:
                    return this.fake.newResource(args);
            }
        },
        call: async (args) => {
            switch (args.token) {
                case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                    return {
                        id: "local",
                        userName: "local",
                        password: "local",
                        proxyEndpoint: `http://${this.env.registry}`,
                        authorizationToken: "",
                    };
                case "aws:ecr/getImage:getImage": {
                    const reference = String(args.inputs.imageDigest ?? args.inputs.imageTag);
                    const image = await registryImage(this.env.registry, args.inputs.repositoryName, reference);
                    return {
                        id: image.digest,
                        imageDigest: image.digest,
                        repositoryName: args.inputs.repositoryName,
                        imageSizeInBytes: image.compressedBytes,
                    };
                }
                default:
                    return this.fake.call(args);
            }
        },
    };

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- docker.Image's inputs, as the program gave them
    private async buildAndPush(resourceName: string, inputs: any): Promise<string> {
        const imageName = String(inputs.imageName);
        // Paths in the inputs are relative to the program's folder, which the run is in.
        const b = inputs.build ?? {};
        say(`  building ${imageName} (${b.dockerfile?.split("/").pop()}${b.target ? `, target ${b.target}` : ""}, ${b.platform})`);
        const progress = buildProgress((line) => say(`    ${resourceName}: ${line}`));
        try {
            await build({
                context: b.context,
                dockerfile: b.dockerfile,
                target: b.target,
                platform: b.platform,
                buildArgs: b.args ?? {},
                cacheFrom: b.cacheFrom?.images,
                tags: [imageName],
                onLine: (line) => {
                    if (this.verbose) {
                        if (!/^#\d+ sha256:/.test(line) && line.trim() !== "") say(`    ${resourceName} | ${line}`);
                    } else progress(line);
                },
            });
        } catch (err) {
            if (err instanceof DockerError) {
                // The whole log of the step that failed (BuildKit prints it after the error).
                throw new Fatal(`the image build failed (${imageName}); the failing step said:\n${tail(err.result.stderr, 40)}`);
            }
            throw err;
        }
        say(`  pushing ${imageName}`);
        const digest = await push(imageName);
        const repository = imageName.slice(this.env.registry.length + 1, imageName.lastIndexOf(":"));
        this.pushed.push({ ref: imageName, repository, digest, platform: b.platform });
        return `${this.env.registry}/${repository}@${digest}`;
    }
}

/** "aws:ecr/repository:Repository" -> "ecr.Repository", "docker:index/image:Image" -> "docker.Image". */
function shortType(type: string): string {
    const [pkg, module, name] = type.split(":");
    const group = module.split("/")[0];
    return `${group === "index" ? pkg : group}.${name}`;
}

const hostArchitecture = process.arch === "arm64" ? "ARM64" : "X86_64";

/** Prints outputs as `pulumi stack output` does. */
function outputTable(outputs: Record<string, unknown>): string {
    const keys = Object.keys(outputs).sort();
    const width = Math.max("OUTPUT".length, ...keys.map((k) => k.length)) + 2;
    return [
        `Current stack outputs (${keys.length}):`,
        `    ${"OUTPUT".padEnd(width)}VALUE`,
        // As the CLI prints them: a map of outputs (services) as JSON.
        ...keys.map((k) => {
            const v = outputs[k];
            return `    ${k.padEnd(width)}${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`;
        }),
    ].join("\n");
}

/**
 * The stack's config with its secrets resolved as `npm start` can: only the Pulumi CLI decrypts a
 * `secure:` value, and only AWS holds what an ARN names, so each of the container's secrets
 * (`secrets.NAME`) takes its value from the variable NAME in npm start's environment. An `aws:`
 * setting held secret is not read here (nothing talks to AWS); any other one is `missing` unless
 * `-c` gives it.
 */
export function localSecrets(
    config: Record<string, string>,
    project: string,
    env: NodeJS.ProcessEnv,
): { config: Record<string, string>; secretKeys: string[]; values: Record<string, string>; missing: string[] } {
    const isSecure = (v: unknown) => typeof v === "object" && v !== null && Object.keys(v).length === 1 && "secure" in v;
    const parse = (v: string): unknown => {
        try {
            return JSON.parse(v);
        } catch {
            return undefined;
        }
    };
    const out = { ...config };
    const secretKeys: string[] = [];
    const values: Record<string, string> = {};
    const missing: string[] = [];
    /** A secrets map with each value the task would read taken from npm start's environment; whether one was secure. */
    const resolve = (label: string, secrets: Record<string, unknown>): { resolved: Record<string, unknown>; secure: boolean } => {
        const resolved: Record<string, unknown> = {};
        let secure = false;
        for (const [name, entry] of Object.entries(secrets)) {
            const value = env[name];
            if (value === undefined || value === "") missing.push(`${label}.${name} (set ${name} in npm start's environment)`);
            else values[name] = value;
            // An ARN stays an ARN (the task definition names it); a stored value becomes the value.
            resolved[name] = isSecure(entry) ? (value ?? "") : entry;
            secure ||= isSecure(entry);
        }
        return { resolved, secure };
    };
    const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    for (const [key, raw] of Object.entries(config)) {
        const v = parse(raw);
        if (key === `${project}:secrets` && isMap(v)) {
            const { resolved, secure } = resolve(key, v);
            out[key] = JSON.stringify(resolved);
            if (secure) secretKeys.push(key);
        } else if (key === `${project}:services` && isMap(v)) {
            // Each service's own secrets (services.NAME.secrets), as the stack's.
            let secure = false;
            const services = Object.fromEntries(
                Object.entries(v).map(([name, settings]) => {
                    if (!isMap(settings) || !isMap(settings.secrets)) return [name, settings];
                    const r = resolve(`${key}.${name}.secrets`, settings.secrets);
                    secure ||= r.secure;
                    return [name, { ...settings, secrets: r.resolved }];
                }),
            );
            out[key] = JSON.stringify(services);
            if (secure) secretKeys.push(key);
        } else if (isSecure(v)) {
            if (key.startsWith("aws:")) {
                out[key] = "(held secret; npm start does not talk to AWS)";
                secretKeys.push(key);
            } else {
                missing.push(`${key} (a secure value only the Pulumi CLI decrypts; pass it with -c ${key.split(":").pop()}=VALUE)`);
            }
        }
    }
    return { config: out, secretKeys: [...new Set(secretKeys)], values, missing };
}

/** The container an ECS task definition describes, as the Docker Engine takes it; `secrets` are the values of its secrets, by name. */
export function containerSpec(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- container definition and Engine API JSON
    def: any,
    task: { cpu: string; memory: string },
    labels: Record<string, string>,
    secrets: Record<string, string> = {},
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Engine API JSON
): any {
    const seconds = (s: number | undefined, fallback: number) => (s ?? fallback) * 1e9;
    const hc = def.healthCheck;
    const secretEnv = (def.secrets ?? []).map((x: { name: string }) => {
        if (!(x.name in secrets)) throw new Fatal(`the task reads the secret ${x.name}, which npm start has no value for`);
        return `${x.name}=${secrets[x.name]}`;
    });
    return {
        Image: def.image,
        Env: [...(def.environment ?? []).map((e: { name: string; value: string }) => `${e.name}=${e.value}`), ...secretEnv],
        Cmd: def.command,
        User: def.user,
        ExposedPorts: Object.fromEntries((def.portMappings ?? []).map((p: { containerPort: number }) => [`${p.containerPort}/tcp`, {}])),
        Healthcheck: hc
            ? {
                  Test: hc.command,
                  Interval: seconds(hc.interval, 30),
                  Timeout: seconds(hc.timeout, 5),
                  Retries: hc.retries ?? 3,
                  StartPeriod: seconds(hc.startPeriod, 0),
              }
            : undefined,
        StopTimeout: def.stopTimeout,
        StopSignal: "SIGTERM",
        Labels: labels,
        HostConfig: {
            NetworkMode: "host", // awsvpc gives the task its own address; here, loopback
            ReadonlyRootfs: def.readonlyRootFilesystem === true,
            NanoCpus: Math.round((Number(task.cpu) / 1024) * 1e9),
            Memory: Number(task.memory) * 1024 * 1024,
        },
    };
}

async function removeContainer(name: string): Promise<void> {
    try {
        await engine("DELETE", `/containers/${name}?force=true`);
    } catch {
        // already gone
    }
}

async function containerLogs(name: string, lines = 30): Promise<string> {
    const res = await dockerRaw(["logs", "--tail", String(lines), name]);
    return (res.stdout + res.stderr).trimEnd() || "(no output)";
}

/**
 * Probes the target group's health check path as the load balancer would, until it answers the
 * matcher; fails with the container's last log lines if it exits first or the time runs out.
 */
/**
 * Whether a service's log line is its health check's request, which the followed logs leave out:
 * a JSON line whose "path" is the target group's health check path (lines of another shape are all shown).
 */
export function isHealthCheckLine(line: string, healthPath: string): boolean {
    if (!line.trimStart().startsWith("{")) return false;
    try {
        const entry = JSON.parse(line) as { path?: unknown; url?: unknown; uri?: unknown };
        const requested = [entry.path, entry.url, entry.uri].find((v): v is string => typeof v === "string");
        return requested !== undefined && requested.split("?")[0] === healthPath;
    } catch {
        return false;
    }
}

export async function waitHealthy(name: string, url: string, matcher: string, timeoutMs: number): Promise<void> {
    const want = matcher.split(",").map((m) => m.trim());
    await poll(
        async () => {
            const state = (await engine("GET", `/containers/${name}/json`)).State;
            if (!state.Running) {
                throw new Fatal(
                    `the container exited (code ${state.ExitCode}) before turning healthy; its last lines:\n${await containerLogs(name)}`,
                );
            }
            try {
                const res = await httpRequest(url, { timeoutMs: 2000 });
                if (want.includes(String(res.status))) return true;
            } catch {
                // not listening yet
            }
            return undefined;
        },
        {
            timeoutMs,
            intervalMs: 100,
            timedOut: async () =>
                new Fatal(
                    `the container did not answer ${url} with ${matcher} within ${timeoutMs / 1000}s; its last lines:\n${await containerLogs(name)}`,
                ),
        },
    );
}

/** A service of the run, as npm start runs it: its task definition, its container, and its target group if public. */
interface Unit {
    name: string;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded inputs are loosely typed JSON
    task: any;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the container definition ECS takes
    def: any;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded inputs are loosely typed JSON
    tg?: any;
    tgArn?: string;
    /** Whether the stack's other services call it by name (Service Connect). */
    internal: boolean;
}

/** Each service the program made, by its component (its children's parent). */
function unitsOf(run: ProgramRun): Unit[] {
    return run.resources
        .filter((r) => r.type === webServiceType)
        .map((component) => {
            const mine = (type: string) =>
                run.resources.filter((r) => r.type === type && r.parent === `${webServiceType}::${component.name}`);
            const [task] = mine(T.taskDef);
            const [tg] = mine(T.tg);
            const [service] = mine("aws:ecs/service:Service");
            const internal = Boolean(
                service?.inputs.serviceConnectConfiguration &&
                (service.inputs.serviceConnectConfiguration as { services?: unknown[] }).services,
            );
            return {
                name: component.name,
                task: task.inputs,
                def: (JSON.parse(String(task.inputs.containerDefinitions)) as unknown[])[0],
                tg: tg?.inputs,
                tgArn: tg?.state?.arn as string | undefined,
                internal,
            };
        });
}

/** Waits for Docker's verdict on the container's own health check (the task definition's); fails if it exits or turns unhealthy. */
async function waitContainerHealthy(name: string, timeoutMs: number): Promise<void> {
    await poll(
        async () => {
            const state = (await engine("GET", `/containers/${name}/json`)).State;
            if (!state.Running) {
                throw new Fatal(
                    `${name} exited (code ${state.ExitCode}) before turning healthy; its last lines:\n${await containerLogs(name)}`,
                );
            }
            const health = state.Health?.Status;
            if (health === "unhealthy") throw new Fatal(`${name}'s own health check failed; its last lines:\n${await containerLogs(name)}`);
            return health === "healthy" || health === undefined ? true : undefined;
        },
        {
            timeoutMs,
            intervalMs: 200,
            timedOut: async () =>
                new Fatal(`${name} did not turn healthy within ${timeoutMs / 1000}s; its last lines:\n${await containerLogs(name)}`),
        },
    );
}

/**
 * Every service of the stack on this machine: a container each (host networking, so each on its
 * own port; the internal ones found by name, as Service Connect names them, through /etc/hosts
 * entries for 127.0.0.1), and the router on --port playing the load balancer's listener rules.
 * Ctrl-C stops and removes them all.
 */
async function runEnvironment(
    run: ProgramRun,
    units: Unit[],
    args: Args,
    env: DockerEnv,
    project: string,
    secretValues: Record<string, string>,
    local: LocalAws,
): Promise<number> {
    const outputs: Record<string, unknown> = JSON.parse(JSON.stringify(run.outputs));
    const routerUrl = `http://127.0.0.1:${args.port}`;
    const own = outputs.services as Record<string, Record<string, unknown>>;
    const awsUrl = typeof outputs.url === "string" ? outputs.url : "";
    if (outputs.url !== undefined) outputs.url = routerUrl;
    for (const o of Object.values(own)) if (typeof o.url === "string") o.url = o.url.replace(awsUrl, routerUrl);

    const foreign = units.filter((u) => (u.task.runtimePlatform?.cpuArchitecture ?? "X86_64") !== hostArchitecture);
    if (foreign.length > 0) {
        say(
            `${foreign.map((u) => u.name).join(", ")} run on another architecture than this ${hostArchitecture} machine's, and npm start runs no emulation: nothing is started.`,
        );
        say(`built and pushed: ${local.pushed.map((p) => `${p.ref} (${p.platform})`).join(", ")}`);
        report(outputs, args, `Not run: containers of another architecture; and ${modelled}.`);
        return 0;
    }
    const portOf = (u: Unit) => u.def.portMappings?.[0]?.containerPort as number | undefined;
    const byPort = new Map<number, string>();
    for (const u of units) {
        const p = portOf(u);
        if (p === undefined) continue;
        if (byPort.has(p) || p === args.port) {
            throw new Fatal(
                `${u.name} and ${byPort.get(p) ?? "the router"} both listen on ${p}, and here they share 127.0.0.1; give one another port: -c 'services={"${u.name}":{"containerPort":NNNN}}' (or --port for the router)`,
            );
        }
        byPort.set(p, u.name);
    }
    for (const p of [args.port, ...byPort.keys()]) {
        if (await portInUse(p))
            throw new Fatal(`port ${p} on 127.0.0.1 is in use (${byPort.get(p) ?? "the router"} listens there); stop what holds it`);
    }
    const byTargetGroup = new Map(units.filter((u) => u.tgArn).map((u) => [u.tgArn!, { service: u.name, port: portOf(u)! }]));
    const table = run.resources.some((r) => r.type === "aws:lb/listener:Listener") ? routeTable(run, byTargetGroup) : undefined;

    const labels = { "com.pulumi.project": project, "com.pulumi.stack": args.stack, "com.pulumi.local": "true" };
    const hosts = units.filter((u) => u.internal).map((u) => `${u.name}:127.0.0.1`);
    const nameOf = (u: Unit) => `${project}-${args.stack}-${u.name}`;
    const logs: ChildProcess[] = [];
    let router: import("http").Server | undefined;
    let stopping: Promise<void> | undefined;
    const teardown = () =>
        (stopping ??= (async () => {
            router?.close();
            for (const l of logs) l.kill();
            await Promise.all(
                units.map(async (u) => {
                    const t = u.def.stopTimeout ?? 30;
                    try {
                        await engine("POST", `/containers/${nameOf(u)}/stop?t=${t}`, undefined, (t + 10) * 1000);
                    } catch {
                        // already stopped
                    }
                    await removeContainer(nameOf(u));
                }),
            );
            say(`removed ${units.map(nameOf).join(", ")}: nothing is left running`);
        })());
    const onSignal = () => void teardown().then(() => process.exit(0));
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);

    try {
        for (const u of units) {
            await removeContainer(nameOf(u)); // left over from a run that was killed
            await engine("POST", `/images/create?fromImage=${encodeURIComponent(u.def.image)}`);
            const spec = containerSpec(u.def, u.task, { ...labels, "com.pulumi.service": u.name }, secretValues);
            spec.HostConfig.ExtraHosts = hosts;
            await engine("POST", `/containers/create?name=${encodeURIComponent(nameOf(u))}`, spec);
            await engine("POST", `/containers/${nameOf(u)}/start`);
            say(`started ${nameOf(u)} from ${u.def.image}`);
        }
        await Promise.all(
            units.map(async (u) => {
                if (u.tg) {
                    const healthUrl = `http://127.0.0.1:${portOf(u)}${u.tg.healthCheck?.path ?? "/"}`;
                    await waitHealthy(nameOf(u), healthUrl, u.tg.healthCheck?.matcher ?? "200", 60_000);
                    say(
                        `healthy: ${u.name}: ${healthUrl} answers ${u.tg.healthCheck?.matcher ?? "200"}, as its target group's health check wants`,
                    );
                } else {
                    await waitContainerHealthy(nameOf(u), 60_000);
                    say(`healthy: ${u.name}: its own health check (${(u.def.healthCheck?.command ?? []).join(" ")}) passes`);
                }
            }),
        );
        if (table) {
            router = await startRouter(table, args.port);
            const describe = (t: Target) => ("fixed" in t ? `answers ${t.fixed.statusCode}` : `-> ${t.service}`);
            say(`router on ${routerUrl}, as the load balancer's listener:`);
            for (const r of table.rules)
                say(
                    `  ${r.priority}: ${[...r.hosts.map((h) => `host ${h}`), ...r.paths.map((p) => `path ${p}`)].join(", ")} ${describe(r.target)}`,
                );
            say(`  default ${describe(table.default)}`);
        }
        if (args.check) {
            await teardown();
            process.stdout.write(JSON.stringify(outputs, null, 2) + "\n");
            return 0;
        }
        report(outputs, args, `Modelled, not run: ${modelled}.`);
        say(`serving at ${routerUrl}; Ctrl-C stops and removes the containers. Their logs follow:`);
        for (const u of units) {
            const l = spawn(env.docker, ["logs", "--follow", nameOf(u)], {
                env: { ...process.env, DOCKER_HOST: env.dockerHost },
                stdio: ["ignore", "pipe", "pipe"],
            });
            logs.push(l);
            const healthPath = u.tg?.healthCheck?.path;
            for (const stream of [l.stdout, l.stderr]) {
                let pending = "";
                stream.setEncoding("utf8").on("data", (d: string) => {
                    const lines = (pending + d).split("\n");
                    pending = lines.pop() ?? "";
                    for (const line of lines)
                        if (args.verbose || !healthPath || !isHealthCheckLine(line, healthPath)) say(`${u.name} | ${line}`);
                });
            }
        }
        // Runs until a signal, or until a service stops by itself (a failure, as ECS would see it).
        return await new Promise<number>((resolve) => {
            for (const u of units) {
                void engine("POST", `/containers/${nameOf(u)}/wait?condition=not-running`, undefined, 2 ** 31 - 1).then(
                    async (w: { StatusCode?: number } | undefined) => {
                        if (stopping) return;
                        say(`${u.name} exited by itself (code ${w?.StatusCode}); its last lines:\n${await containerLogs(nameOf(u))}`);
                        await teardown();
                        resolve(1);
                    },
                    () => undefined,
                );
            }
        });
    } catch (err) {
        await teardown();
        throw err;
    }
}

async function main(): Promise<number> {
    const args = parseArgs(process.argv.slice(2));
    const project = readProject();

    // The config first: a mistake is reported in a second, before anything slow starts.
    let config: Record<string, string>;
    let secrets: ReturnType<typeof localSecrets>;
    try {
        const file = args.configFile ? readConfigFile(args.configFile) : readStackFile(args.stack);
        secrets = localSecrets(effectiveConfig(file, args.set), project.name, process.env);
        if (secrets.missing.length > 0) {
            throw new Error(
                `the stack's secrets have no value here: only the Pulumi CLI can decrypt secure: values, and npm start does not read AWS:\n  - ${secrets.missing.join("\n  - ")}`,
            );
        }
        config = secrets.config;
        loadConfig(mapConfigSource(config, project.name), project.name, { secretKeys: secrets.secretKeys });
    } catch (err) {
        throw new Fatal((err as Error).message);
    }

    let env: DockerEnv;
    try {
        env = dockerEnv();
    } catch (err) {
        throw new Fatal(
            `${(err as Error).message}\n(npm start needs a Docker engine and a registry on 127.0.0.1; scripts/docker-env.sh sets both up)`,
        );
    }
    try {
        await engine("GET", "/_ping", undefined, 5000);
    } catch (err) {
        throw new Fatal(`no Docker engine answers on ${env.dockerHost} (${(err as Error).message}).
Bring one up with: eval "$(scripts/docker-env.sh)"  (as root on Debian it installs and starts one)`);
    }
    // The program passes GO_IMAGE to the build, as it would on an air-gapped builder.
    process.env.GO_IMAGE = env.goImage;

    // The port the task listens on: the stack's containerPort over the service's declared one.
    if (args.service !== undefined && !services.some((d) => d.name === args.service)) {
        throw new Fatal(
            `--service ${args.service}: no service of this stack is named so (infra/services.ts lists ${services.map((d) => d.name).join(", ")})`,
        );
    }
    // One service runs straight on its port; several, behind the router on --port.
    const many = args.service === undefined && services.length > 1;
    const listenPort = many
        ? args.port
        : Number(config[`${project.name}:containerPort`]) ||
          (services.find((d) => d.name === args.service) ?? services[0]).container.port ||
          args.port;
    const local = new LocalAws(env, args.stack, listenPort, localWorld(config, project.name), args.verbose);
    say(`running the program in infra/ for stack "${args.stack}" (AWS modelled locally, Docker real); its resources:`);
    let run: ProgramRun;
    try {
        run = await Promise.race([
            runProgram({ stack: args.stack, config, secretKeys: secrets.secretKeys, mocks: local.mocks }),
            local.failure,
        ]);
    } catch (err) {
        if (err instanceof ConfigError || (err as Error).name === "ConfigError" || err instanceof ProgramError) {
            throw new Fatal((err as Error).message);
        }
        throw err;
    }

    const units = unitsOf(run);
    if (many) return runEnvironment(run, units, args, env, project.name, secrets.values, local);
    const unit = units.find((u) => u.name === (args.service ?? units[0].name))!;

    const outputs: Record<string, unknown> = args.service
        ? { ...(run.outputs.services as Record<string, Record<string, unknown>>)[unit.name] }
        : { ...run.outputs };
    const url = () => String(outputs.url);
    const task = unit.task;
    const def = unit.def;
    const tg = unit.tg ?? {};
    const port = (def.portMappings?.[0]?.containerPort as number | undefined) ?? 0;
    const localUrl = `http://127.0.0.1:${port}`;
    const own = (outputs.services as Record<string, Record<string, unknown>> | undefined)?.[unit.name];
    if (port > 0 && outputs.url !== localUrl) {
        say(`note: on AWS the stack serves ${String(outputs.url)}; here the container serves ${localUrl}`);
        outputs.url = localUrl;
        if (own?.url !== undefined) own.url = localUrl;
    }

    const arch = task.runtimePlatform?.cpuArchitecture ?? "X86_64";
    if (arch !== hostArchitecture) {
        const pushed = local.pushed.map((p) => `${p.ref} (${p.platform})`).join(", ");
        say(
            `the task runs on ${arch}; this machine is ${hostArchitecture}, and npm start runs only containers of its own architecture (no emulation), so the container is not started.`,
        );
        say(`built and pushed: ${pushed}; sizes read from the registry.`);
        delete outputs.url;
        report(outputs, args, `Not run: the ${arch} container on this ${hostArchitecture} machine; and ${modelled}.`);
        return 0;
    }

    if (port > 0 && (await portInUse(port))) {
        throw new Fatal(`port ${port} on 127.0.0.1 is in use, and the task's container listens there (host networking).
Stop what holds it, or run on another port: npm start -- -c containerPort=NNNN`);
    }

    const name = args.service ? `${project.name}-${args.stack}-${unit.name}` : `${project.name}-${args.stack}`;
    const labels = { "com.pulumi.project": project.name, "com.pulumi.stack": args.stack, "com.pulumi.local": "true" };
    await removeContainer(name); // left over from a run that was killed

    let logs: ChildProcess | undefined;
    let created: Promise<unknown> = Promise.resolve();
    let stopping: Promise<void> | undefined;
    const teardown = () =>
        (stopping ??= (async () => {
            await created.catch(() => undefined); // a container being created is removed too
            say(`stopping ${name} (stop timeout ${def.stopTimeout ?? 30}s)`);
            logs?.kill();
            try {
                await engine(
                    "POST",
                    `/containers/${name}/stop?t=${def.stopTimeout ?? 30}`,
                    undefined,
                    ((def.stopTimeout ?? 30) + 10) * 1000,
                );
            } catch {
                // already stopped
            }
            await removeContainer(name);
            say(`removed ${name}: nothing is left running`);
        })());

    // From here on, Ctrl-C (or SIGTERM) means: stop, remove, exit 0.
    let interrupted = false;
    const onSignal = () => {
        interrupted = true;
        void teardown().then(() => process.exit(0));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);

    say(`starting ${name} from ${def.image}`);
    created = (async () => {
        await engine("POST", `/images/create?fromImage=${encodeURIComponent(def.image)}`); // pull by digest, as Fargate does
        await engine("POST", `/containers/create?name=${encodeURIComponent(name)}`, containerSpec(def, task, labels, secrets.values));
    })();

    try {
        await created;
        if (interrupted) return await new Promise<number>(() => undefined); // onSignal exits
        await engine("POST", `/containers/${name}/start`);
        if (!unit.tg) {
            // No load balancer asks it: its container's own check is its health, as ECS takes it.
            await waitContainerHealthy(name, 60_000);
            say(`healthy: ${unit.name}'s own health check (${(def.healthCheck?.command ?? []).join(" ")}) passes`);
            if (args.check) {
                await teardown();
                process.stdout.write(JSON.stringify(outputs, null, 2) + "\n");
                return 0;
            }
        } else {
            const healthUrl = `http://127.0.0.1:${port}${tg.healthCheck?.path ?? "/"}`;
            await waitHealthy(name, healthUrl, tg.healthCheck?.matcher ?? "200", 60_000);
            say(`healthy: ${healthUrl} answers ${tg.healthCheck?.matcher ?? "200"}, as the load balancer's health check wants`);
        }

        if (args.check) {
            // One request through the stack's URL, as a client would make it: the health check's path.
            const checkUrl = `${url()}${tg.healthCheck?.path ?? "/"}`;
            const res = await httpRequest(checkUrl);
            if (String(res.status) !== (tg.healthCheck?.matcher ?? "200")) {
                throw new Fatal(`check failed: GET ${checkUrl} answered ${res.status} ${res.body}`);
            }
            say(`check: GET ${checkUrl} -> ${res.status} ${res.body.trim()}`);
            await teardown();
            process.stdout.write(JSON.stringify(outputs, null, 2) + "\n");
            return 0;
        }

        report(outputs, args, `Modelled, not run: ${modelled}.`);
        say(
            `serving at ${url()}; Ctrl-C stops and removes the container. Its logs follow${args.verbose ? "" : " (the health checks' lines left out; --verbose shows them)"}:`,
        );
        logs = spawn(env.docker, ["logs", "--follow", name], {
            env: { ...process.env, DOCKER_HOST: env.dockerHost },
            stdio: ["ignore", "pipe", "pipe"],
        });
        const healthPath = tg.healthCheck?.path ?? "/";
        for (const stream of [logs.stdout!, logs.stderr!]) {
            let pending = "";
            stream.setEncoding("utf8").on("data", (d: string) => {
                const lines = (pending + d).split("\n");
                pending = lines.pop() ?? "";
                for (const line of lines) if (args.verbose || !isHealthCheckLine(line, healthPath)) say(line);
            });
        }
        // Runs until a signal (onSignal exits 0 once torn down) or the container stops by itself.
        return await new Promise<number>((resolve) => {
            // The service stopping by itself is a failure, as ECS would see it.
            void engine("POST", `/containers/${name}/wait?condition=not-running`, undefined, 2 ** 31 - 1).then(
                async (w: { StatusCode?: number } | undefined) => {
                    if (stopping) return;
                    say(`the container exited by itself (code ${w?.StatusCode}); its last lines:\n${await containerLogs(name)}`);
                    await teardown();
                    resolve(1);
                },
                () => undefined,
            );
        });
    } catch (err) {
        await teardown();
        if (interrupted) return 0; // Ctrl-C while starting: torn down, as asked
        throw err;
    }
}

function report(outputs: Record<string, unknown>, args: Args, note: string): void {
    if (args.json || args.check) {
        process.stdout.write(JSON.stringify(outputs, null, 2) + "\n");
    } else {
        process.stdout.write(outputTable(outputs) + "\n");
    }
    say(note);
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err: Error) => {
            const known = err instanceof Fatal || err instanceof UsageError;
            say(`npm start: ${known ? err.message : (err.stack ?? err.message)}`);
            process.exit(1);
        },
    );
}
