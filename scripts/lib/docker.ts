// The local Docker engine and registry, as the image tests, the benchmark and
// `npm start` use them. Everything goes through Debian's docker client and
// the registry's HTTP API on 127.0.0.1; nothing leaves loopback.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";

import { services } from "../../infra/services";
import { poll } from "./poll";

export const repoRoot = path.resolve(__dirname, "..", "..");
/** The first declared service's folder (infra/services.ts): what build() builds unless told another context. */
export const serviceDir = services[0].dir;

export interface DockerEnv {
    docker: string; // the docker client binary
    dockerHost: string; // DOCKER_HOST
    registry: string; // host:port of the registry standing in for ECR
    goImage: string; // the Go builder image (GO_IMAGE build arg)
}

let cachedEnv: DockerEnv | undefined;

/**
 * The engine, registry and builder image: from the environment when
 * `scripts/docker-env.sh` was sourced, otherwise by running it (which starts
 * whatever is missing). Throws with the script's own message when it cannot.
 */
export function dockerEnv(): DockerEnv {
    if (cachedEnv) {
        return cachedEnv;
    }
    let vars: Record<string, string | undefined> = process.env;
    if (!vars.DOCKER || !vars.DOCKER_HOST || !vars.REGISTRY || !vars.GO_IMAGE) {
        const script = path.join(repoRoot, "scripts", "docker-env.sh");
        const res = spawnSync("bash", [script], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        if (res.status !== 0) {
            throw new Error(
                `no Docker engine: ${script} failed (exit ${res.status}).\n${res.stderr.trim()}\n` +
                    'Bring one up with: eval "$(scripts/docker-env.sh)"',
            );
        }
        vars = { ...vars, ...parseExports(res.stdout) };
    }
    cachedEnv = {
        docker: vars.DOCKER ?? "docker",
        dockerHost: vars.DOCKER_HOST ?? "unix:///var/run/docker.sock",
        registry: vars.REGISTRY ?? "127.0.0.1:5000",
        goImage: vars.GO_IMAGE ?? "",
    };
    return cachedEnv;
}

/** Parses `export NAME=value` lines as docker-env.sh prints them (bash %q quoting of simple values). */
export function parseExports(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of text.split("\n")) {
        const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
        if (m) {
            out[m[1]] = m[2].replace(/^'(.*)'$/, "$1").replace(/\\(.)/g, "$1");
        }
    }
    return out;
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface RunOptions {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /** Called with each line of stdout and stderr as it arrives. */
    onLine?: (line: string) => void;
}

/** Runs a command to completion with no stdin, capturing its output; never throws on a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        const lineSplitter = () => {
            let pending = "";
            return (chunk: string) => {
                if (!opts.onLine) return;
                pending += chunk;
                const lines = pending.split("\n");
                pending = lines.pop() ?? "";
                lines.forEach((l) => opts.onLine?.(l));
            };
        };
        const outLines = lineSplitter();
        const errLines = lineSplitter();
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
            stdout += d;
            outLines(d);
        });
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
            stderr += d;
            errLines(d);
        });
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
}

export class DockerError extends Error {
    constructor(
        readonly args: string[],
        readonly result: RunResult,
    ) {
        super(`docker ${args.join(" ")} failed (exit ${result.code}):\n${tail(result.stderr || result.stdout, 40)}`);
    }
}

export function tail(text: string, lines: number): string {
    return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function dockerProcessEnv(): NodeJS.ProcessEnv {
    const env = dockerEnv();
    return { ...process.env, DOCKER_HOST: env.dockerHost, DOCKER_BUILDKIT: "1" };
}

/** Runs the docker client; resolves with stdout, rejects with a DockerError holding stderr. */
export async function docker(args: string[], opts: RunOptions = {}): Promise<string> {
    const res = await dockerRaw(args, opts);
    if (res.code !== 0) {
        throw new DockerError(args, res);
    }
    return res.stdout;
}

/** Runs the docker client and returns its result whatever the exit code. */
export function dockerRaw(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(dockerEnv().docker, args, { ...opts, env: { ...dockerProcessEnv(), ...opts.env } });
}

export interface BuildOptions {
    context?: string; // default: the declared service's folder
    dockerfile?: string; // path, default <context>/Dockerfile
    target?: string;
    platform?: string;
    buildArgs?: Record<string, string>;
    tags?: string[];
    /** `--output` value, e.g. type=local,dest=DIR (no image is made then). */
    output?: string;
    noCache?: boolean;
    /** Images whose inline cache metadata the build may take layers from (`--cache-from`). */
    cacheFrom?: string[];
    onLine?: (line: string) => void;
}

export interface BuildResult {
    imageId?: string;
    log: string;
    seconds: number;
}

/**
 * `docker build` with BuildKit and no network (all inputs are local), with
 * GO_IMAGE set to the environment's builder unless the caller sets it.
 */
export async function build(opts: BuildOptions): Promise<BuildResult> {
    const context = opts.context ?? serviceDir;
    const args = ["build", "--network=none", "--progress=plain"];
    args.push("--file", opts.dockerfile ?? path.join(context, "Dockerfile"));
    if (opts.target) args.push("--target", opts.target);
    if (opts.platform) args.push("--platform", opts.platform);
    if (opts.noCache) args.push("--no-cache");
    for (const ref of opts.cacheFrom ?? []) args.push("--cache-from", ref);
    const buildArgs = { GO_IMAGE: dockerEnv().goImage, ...opts.buildArgs };
    for (const [k, v] of Object.entries(buildArgs)) {
        args.push("--build-arg", `${k}=${v}`);
    }
    for (const t of opts.tags ?? []) args.push("--tag", t);
    let iidFile: string | undefined;
    if (opts.output) {
        args.push("--output", opts.output);
    } else {
        iidFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "build-")), "iid");
        args.push("--iidfile", iidFile);
    }
    args.push(context);
    const started = process.hrtime.bigint();
    const res = await dockerRaw(args, { onLine: opts.onLine });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (res.code !== 0) {
        throw new DockerError(args, res);
    }
    let imageId: string | undefined;
    if (iidFile) {
        imageId = fs.readFileSync(iidFile, "utf8").trim();
        fs.rmSync(path.dirname(iidFile), { recursive: true, force: true });
    }
    return { imageId, log: res.stderr + res.stdout, seconds };
}

/** One step of a BuildKit plain-progress log and whether it came from the cache. */
export interface BuildStep {
    name: string;
    cached: boolean;
}

/** A step's first line in a plain-progress log: "#7 [build 3/7] COPY . ." ("[3/4]" in a file without stage names). */
const stepHeader = /^#(\d+) (\[(?:[^\]]+ )?\d+\/\d+\] .*)$/;
/** A step's last line: "#7 CACHED" or "#7 DONE 1.2s". */
const stepEnd = /^#(\d+) (CACHED|DONE ([\d.]+)s)$/;
const isFrom = (name: string) => /\] FROM /.test(name);

/** The Dockerfile steps (`[stage n/m] INSTRUCTION`) of a plain-progress build log. */
export function buildSteps(log: string): BuildStep[] {
    const names = new Map<string, string>();
    const cached = new Set<string>();
    for (const line of log.split("\n")) {
        const header = stepHeader.exec(line);
        if (header) names.set(header[1], header[2]);
        const end = stepEnd.exec(line);
        if (end?.[2] === "CACHED") cached.add(end[1]);
    }
    return [...names.entries()].filter(([, name]) => !isFrom(name)).map(([id, name]) => ({ name, cached: cached.has(id) }));
}

/**
 * The same, line by line as a build runs: each step once it ends, as
 * "NAME  cached" or "NAME  1.2 s", its name shortened to one line.
 */
export function buildProgress(print: (line: string) => void): (line: string) => void {
    const names = new Map<string, string>();
    return (line) => {
        const header = stepHeader.exec(line);
        if (header) {
            const name = header[2].replace(/\s+/g, " ");
            names.set(header[1], name.length > 90 ? `${name.slice(0, 89)}…` : name);
            return;
        }
        const end = stepEnd.exec(line);
        const name = end && names.get(end[1]);
        if (end && name && !isFrom(name)) {
            print(`${name}  ${end[2] === "CACHED" ? "cached" : `${end[3]} s`}`);
            names.delete(end[1]);
        }
    };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- docker inspect's JSON is large and loosely typed */
export async function inspect(ref: string): Promise<any> {
    return JSON.parse(await docker(["inspect", ref]))[0];
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The regular files (not folders) in an image's layers, read from `docker save`. */
export async function imageFiles(image: string): Promise<string[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "save-"));
    try {
        await docker(["save", "--output", path.join(dir, "image.tar"), image]);
        await run("tar", ["-xf", path.join(dir, "image.tar"), "-C", dir]);
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as { Layers: string[] }[];
        const files: string[] = [];
        for (const layer of manifest[0].Layers) {
            const res = await run("tar", ["-tvf", path.join(dir, layer)]);
            for (const line of res.stdout.trim().split("\n")) {
                if (line && !line.startsWith("d")) files.push(line.split(/\s+/).slice(5).join(" "));
            }
        }
        return files.sort();
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Pushes a tagged image; resolves with the manifest digest the registry stored. */
export async function push(ref: string): Promise<string> {
    const out = await docker(["push", ref]);
    const m = /digest: (sha256:[0-9a-f]{64})/.exec(out);
    if (!m) {
        throw new Error(`docker push ${ref} printed no digest:\n${out}`);
    }
    return m[1];
}

export interface HttpResponse {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

/** A plain HTTP request on loopback, with a deadline. */
export function httpRequest(
    url: string,
    opts: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
            res.on("error", reject);
        });
        req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error(`${url}: no answer within ${opts.timeoutMs ?? 5000} ms`)));
        req.on("error", reject);
        req.end(opts.body);
    });
}

const manifestTypes = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
].join(", ");

export interface RegistryImage {
    digest: string;
    mediaType: string;
    layers: { digest: string; size: number }[];
    config: { digest: string; size: number };
    /** Sum of the compressed layer sizes: what ECR reports as imageSizeInBytes. */
    compressedBytes: number;
    os?: string;
    architecture?: string;
}

/** Reads an image's manifest and config from a registry's HTTP API (v2). */
export async function registryImage(registry: string, repository: string, reference: string): Promise<RegistryImage> {
    const base = `http://${registry}/v2/${repository}`;
    const res = await httpRequest(`${base}/manifests/${reference}`, { headers: { Accept: manifestTypes } });
    if (res.status !== 200) {
        throw new Error(`registry ${registry}: ${repository}@${reference}: HTTP ${res.status} ${res.body.trim()}`);
    }
    const manifest = JSON.parse(res.body);
    if (!Array.isArray(manifest.layers)) {
        throw new Error(`registry ${registry}: ${repository}@${reference} is a ${manifest.mediaType}, not a single-platform image`);
    }
    const layers = manifest.layers.map((l: { digest: string; size: number }) => ({ digest: l.digest, size: l.size }));
    const configRes = await httpRequest(`${base}/blobs/${manifest.config.digest}`);
    const config = configRes.status === 200 ? JSON.parse(configRes.body) : {};
    return {
        digest: String(res.headers["docker-content-digest"] ?? ""),
        mediaType: manifest.mediaType,
        layers,
        config: { digest: manifest.config.digest, size: manifest.config.size },
        compressedBytes: layers.reduce((n: number, l: { size: number }) => n + l.size, 0),
        os: config.os,
        architecture: config.architecture,
    };
}

/** A TCP port free on 127.0.0.1 at the time of asking. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const sock = net.connect({ host: "127.0.0.1", port });
        sock.once("connect", () => {
            sock.destroy();
            resolve(true);
        });
        sock.once("error", () => resolve(false));
    });
}

/** Polls url until it answers with the wanted status; resolves to the milliseconds it took. */
export async function waitForStatus(url: string, want: number, timeoutMs: number, pollMs = 20): Promise<number> {
    const started = Date.now();
    let last = "no answer";
    return poll(
        async () => {
            try {
                const res = await httpRequest(url, { timeoutMs: 1000 });
                if (res.status === want) return Date.now() - started;
                last = `HTTP ${res.status}`;
            } catch (err) {
                last = (err as Error).message;
            }
            return undefined;
        },
        {
            timeoutMs,
            intervalMs: pollMs,
            timedOut: () => new Error(`${url} did not answer ${want} within ${timeoutMs} ms (last: ${last})`),
        },
    );
}

/**
 * The containers a test run starts, to remove together whatever happened: each is recorded before
 * `docker run` is asked, so one that started but never turned healthy is removed too, and removal
 * never throws (a cleanup hook that throws hides the test's own failure and leaves the rest running).
 */
export class Containers {
    private readonly names = new Set<string>();

    /** `docker run --detach --name NAME ARGS...`; the name is kept for removeAll even if the run fails. */
    async run(name: string, args: string[]): Promise<void> {
        this.names.add(name);
        await docker(["run", "--detach", "--name", name, ...args]);
    }

    /** Removes one container started here (or none, when its start failed before it had a name); never throws. */
    async remove(name: string | undefined): Promise<boolean> {
        if (name === undefined || !this.names.delete(name)) return false;
        try {
            return (await dockerRaw(["rm", "--force", name])).code === 0;
        } catch {
            return false; // no engine to ask: nothing of ours can be running on it
        }
    }

    /** Removes every container started here (gone ones too, quietly); the names it removed. */
    async removeAll(): Promise<string[]> {
        const removed: string[] = [];
        for (const name of [...this.names]) if (await this.remove(name)) removed.push(name);
        return removed;
    }
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The files a build sees of a context: a scratch image that copies the whole context, listed and removed. */
export async function filesTheBuildSees(context: string): Promise<string[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ctx-"));
    const dockerfile = path.join(dir, "Dockerfile");
    fs.writeFileSync(dockerfile, "FROM scratch\nCOPY . /ctx/\n");
    const tag = `build-context:${process.pid}`;
    try {
        const res = await build({ context, dockerfile, tags: [tag] });
        return (await imageFiles(res.imageId!)).filter((f) => f.startsWith("ctx/")).map((f) => f.slice("ctx/".length));
    } finally {
        await dockerRaw(["rmi", tag]);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
