// `npm run bench`: what the multi-stage image buys, measured on this machine.
// Prints a table, or with `-- --json` one JSON object (keys documented in
// README.md). Figures, not pass/fail: the targets are printed beside them.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { humanBytes } from "../infra/size";
import {
    appDir,
    build,
    docker,
    dockerEnv,
    dockerRaw,
    freePort,
    imageFiles,
    inspect,
    push,
    registryImage,
    run,
    waitForStatus,
} from "./lib/docker";
import { runUncached } from "../test/harness";

const json = process.argv.includes("--json");
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const tag = `calculator-bench:${process.pid}`;

interface Bench {
    image: {
        builderImage: string;
        builderImageBytes: number;
        binaryBytes: number;
        runtimeBytes: number;
        runtimeCompressedBytes: number;
        singleStageBytes: number;
        ratio: number;
        files: number;
        coldBuildSeconds: number;
        /** The same source on an engine pruned again, its layers taken from the registry (--cache-from). */
        registryCachedBuildSeconds: number;
        noopRebuildSeconds: number;
        oneLineRebuildSeconds: number;
        startToReadyMs: number;
    };
    service: {
        requestsPerSecond: number;
        p50Ms: number;
        p99Ms: number;
        errors: number;
        idleRssBytes: number;
        /** Which CPUs wrk and the service ran on. */
        cpus: string;
    };
    program?: { mockRunSeconds: number };
}

/** Copies app/ to a scratch folder, so a one-line change never touches the checkout. */
function copyApp(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-app-"));
    fs.cpSync(appDir, dir, { recursive: true });
    return dir;
}

/** The path of a command on PATH, or "" when there is none. */
function commandPath(name: string): string {
    return spawnSync("bash", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
}

function ensureWrk(): string {
    const found = commandPath("wrk");
    if (found) return found;
    log("installing wrk from Debian's packages");
    const res = spawnSync("bash", ["-c", "apt-get install -y -qq wrk >&2 || (apt-get update -qq >&2 && apt-get install -y -qq wrk >&2)"], {
        stdio: ["ignore", "inherit", "inherit"],
    });
    if (res.status !== 0) throw new Error("wrk is not installed and could not be installed (apt-get install wrk, as root)");
    return "wrk";
}

/** wrk's latency figures ("1.23ms", "850.00us", "1.02s") in milliseconds. */
function wrkMs(text: string): number {
    const m = /^([\d.]+)(us|ms|s)$/.exec(text);
    if (!m) throw new Error(`unreadable wrk latency ${text}`);
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
}

/**
 * Where the load runs. With two CPUs or more, wrk gets CPU 0 and the service
 * CPU 1: sharing both, the two preempt each other and p99 measures the
 * scheduler (about 30 ms on 2 cores) rather than the service.
 */
function cpuSplit(): { serviceArgs: string[]; wrkPrefix: string[]; wrkThreads: number; label: string } {
    const cpus = os.cpus().length;
    const taskset = commandPath("taskset");
    if (cpus >= 2 && taskset) {
        return {
            serviceArgs: ["--cpuset-cpus", "1"],
            wrkPrefix: [taskset, "-c", "0"],
            wrkThreads: 1,
            label: "wrk on CPU 0, service on CPU 1",
        };
    }
    return { serviceArgs: [], wrkPrefix: [], wrkThreads: 2, label: `wrk and service sharing ${cpus} CPU(s)` };
}

async function load(url: string, split: ReturnType<typeof cpuSplit>): Promise<Omit<Bench["service"], "idleRssBytes" | "cpus">> {
    const wrk = [...split.wrkPrefix, ensureWrk()];
    const args = ["--threads", String(split.wrkThreads), "--connections", "32", "--duration", "10s", "--latency", url];
    const res = await run(wrk[0], [...wrk.slice(1), ...args]);
    if (res.code !== 0) throw new Error(`wrk failed:\n${res.stderr}${res.stdout}`);
    const out = res.stdout;
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
    const p50 = /^\s+50%\s+(\S+)/m.exec(out);
    const p99 = /^\s+99%\s+(\S+)/m.exec(out);
    if (!rps || !p50 || !p99) throw new Error(`unreadable wrk output:\n${out}`);
    const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const errors = Number(non2xx?.[1] ?? 0) + (socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0);
    return { requestsPerSecond: Math.round(Number(rps[1])), p50Ms: wrkMs(p50[1]), p99Ms: wrkMs(p99[1]), errors };
}

function rssBytes(pid: number): number {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    if (!m) throw new Error(`no VmRSS for pid ${pid}`);
    return Number(m[1]) * 1024;
}

/** The whole program under mocks, as `npm test` runs it: one process, start to outputs. */
async function mockRunSeconds(): Promise<number> {
    const started = process.hrtime.bigint();
    await runUncached({ stackFile: "dev" });
    return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<Bench> {
    const env = dockerEnv();
    const builderImageBytes = (await inspect(env.goImage)).Size as number;

    // What a CI runner starts with: no build cache at all (the builder image is
    // there; here it cannot be pulled again). Built as the program builds it, with
    // cache metadata inline, and pushed.
    const pruneBuildCache = () => docker(["builder", "prune", "--all", "--force"]);
    const inlineCache = { BUILDKIT_INLINE_CACHE: "1" };
    const repository = `calculator-bench-${process.pid}`;
    const ref = `${env.registry}/${repository}:bench`;
    log("cold build (no build cache, empty Go caches)");
    await pruneBuildCache();
    const cold = await build({ target: "runtime", tags: [tag, ref], buildArgs: inlineCache, cacheFrom: [ref] });
    const coldLayers = (await inspect(cold.imageId!)).RootFS.Layers as string[];
    log("push to the local registry");
    const digest = await push(ref);
    const runtimeCompressedBytes = (await registryImage(env.registry, repository, digest)).compressedBytes;
    log("no-op rebuild");
    const noop = await build({ target: "runtime", tags: [tag], buildArgs: inlineCache });

    log("rebuild after a one-line Go change");
    const copy = copyApp();
    let oneLine: number;
    try {
        await build({ context: copy, target: "runtime" }); // same content: all cached
        const main = path.join(copy, "main.go");
        // A change no earlier run made, or BuildKit's layer cache would answer from a previous bench.
        const changed = `version = "dev-bench-${process.pid}-${Date.now()}"`;
        const source = fs.readFileSync(main, "utf8");
        if (!source.includes('version = "dev"')) throw new Error('main.go no longer has version = "dev" to change');
        fs.writeFileSync(main, source.replace('version = "dev"', changed));
        oneLine = (await build({ context: copy, target: "runtime" })).seconds;
    } finally {
        fs.rmSync(copy, { recursive: true, force: true });
    }

    log("binary and single-stage image");
    const binDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-bin-"));
    await build({ target: "binary", output: `type=local,dest=${binDir}` });
    const binaryBytes = fs.statSync(path.join(binDir, "app")).size;
    fs.rmSync(binDir, { recursive: true, force: true });
    const single = await build({ dockerfile: path.join(appDir, "Dockerfile.single"), tags: [`${tag}-single`] });
    const singleStageBytes = (await inspect(single.imageId!)).Size as number;

    log("the same source on a pruned engine again, from the registry's cache (--cache-from)");
    await dockerRaw(["rmi", tag, ref]);
    await pruneBuildCache();
    const fromRegistry = await build({ target: "runtime", tags: [tag], buildArgs: inlineCache, cacheFrom: [ref] });
    if (JSON.stringify((await inspect(fromRegistry.imageId!)).RootFS.Layers) !== JSON.stringify(coldLayers)) {
        throw new Error("the build from the registry's cache gave other layers than the cold build");
    }

    const runtimeBytes = (await inspect(fromRegistry.imageId!)).Size as number;
    const files = (await imageFiles(fromRegistry.imageId!)).length;

    log("container start to ready, idle RSS, load");
    const port = await freePort();
    const name = `calculator-bench-${process.pid}`;
    const split = cpuSplit();
    await docker([
        "run",
        "--detach",
        "--name",
        name,
        "--network",
        "host",
        "--read-only",
        ...split.serviceArgs,
        "--env",
        `PORT=${port}`,
        fromRegistry.imageId!,
    ]);
    let service: Bench["service"];
    let startToReadyMs: number;
    try {
        await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, 10_000, 2);
        const readyAt = Date.now();
        const state = (await inspect(name)).State;
        startToReadyMs = readyAt - Date.parse(state.StartedAt);
        const idleRssBytes = rssBytes(state.Pid);
        const loaded = await load(`http://127.0.0.1:${port}/v1/evaluate?expr=2*(3%2B4)%5E2`, split);
        service = { ...loaded, idleRssBytes, cpus: split.label };
    } finally {
        await dockerRaw(["rm", "--force", name]);
        await dockerRaw(["rmi", tag, `${tag}-single`]);
    }

    const result: Bench = {
        image: {
            builderImage: env.goImage,
            builderImageBytes,
            binaryBytes,
            runtimeBytes,
            runtimeCompressedBytes,
            singleStageBytes,
            ratio: Math.round((singleStageBytes / runtimeBytes) * 10) / 10,
            files,
            coldBuildSeconds: round(cold.seconds),
            registryCachedBuildSeconds: round(fromRegistry.seconds),
            noopRebuildSeconds: round(noop.seconds),
            oneLineRebuildSeconds: round(oneLine),
            startToReadyMs,
        },
        service,
    };
    log("the program under mocks");
    result.program = { mockRunSeconds: round(await mockRunSeconds()) };
    return result;
}

function caBundleBytes(): number {
    try {
        return fs.statSync("/etc/ssl/certs/ca-certificates.crt").size;
    } catch {
        return 0;
    }
}

function round(n: number): number {
    return Math.round(n * 100) / 100;
}

function table(b: Bench): string {
    const i = b.image;
    const s = b.service;
    const rows: [string, string, string][] = [
        ["builder image", `${i.builderImage} (${humanBytes(i.builderImageBytes)})`, ""],
        ["binary", humanBytes(i.binaryBytes), ""],
        [
            "runtime image",
            humanBytes(i.runtimeBytes),
            `<= binary + CA bundle + passwd + 300 kB (${humanBytes(i.binaryBytes + caBundleBytes() + 300_000)})`,
        ],
        ["runtime image, compressed", humanBytes(i.runtimeCompressedBytes), "<= 3 MB"],
        ["single-stage image", humanBytes(i.singleStageBytes), ""],
        ["single / multi-stage", `${i.ratio}x`, "depends on the builder image"],
        ["files in the runtime image", String(i.files), "4"],
        ["cold build (no build cache)", `${i.coldBuildSeconds} s`, ""],
        ["same source, no build cache, layers from the registry", `${i.registryCachedBuildSeconds} s`, "<= 5 s"],
        ["no-op rebuild", `${i.noopRebuildSeconds} s`, "<= 2 s"],
        ["rebuild after one-line change", `${i.oneLineRebuildSeconds} s`, `<= ${round(i.coldBuildSeconds / 2)} s (half the cold build)`],
        ["container start to /readyz 200", `${i.startToReadyMs} ms`, "<= 200 ms"],
        ["load: CPUs", s.cpus, ""],
        ["load: requests/s (32 conns)", String(s.requestsPerSecond), ""],
        ["load: p50 / p99", `${s.p50Ms} / ${s.p99Ms} ms`, "p99 <= 5 ms"],
        ["load: errors", String(s.errors), "0"],
        ["idle RSS", humanBytes(s.idleRssBytes), "<= 20 MB"],
    ];
    if (b.program) rows.push(["program under mocks", `${b.program.mockRunSeconds} s`, "<= 5 s"]);
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    const line = (r: [string, string, string]) => `| ${r[0].padEnd(w0)} | ${r[1].padEnd(w1)} | ${r[2]}`.trimEnd();
    return [line(["measure", "value", "target"]), `|${"-".repeat(w0 + 2)}|${"-".repeat(w1 + 2)}|--------`, ...rows.map(line)].join("\n");
}

main().then(
    (b) => {
        process.stdout.write(json ? JSON.stringify(b, null, 2) + "\n" : table(b) + "\n");
    },
    (err: Error) => {
        process.stderr.write(`bench: ${err.message}\n`);
        process.exit(1);
    },
);
