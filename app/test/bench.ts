// `npm run bench`: what the multi-stage image buys, measured on this machine.
// Each timing is taken --runs times (3 by default) and reported as its median
// and range; sizes are exact. Prints the table README.md shows, or with
// `-- --json` one JSON object (keys documented in README.md): use
// `npm run -s bench -- --json` so npm's banner stays off stdout. Figures, not
// pass/fail: the targets are printed beside them.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";

import { humanBytes } from "../../infra/size";
import {
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
    sleep,
    waitForStatus,
} from "../../scripts/lib/docker";
import { runUncached } from "../../scripts/lib/harness";

/** The calculator's folder. */
const appDir = path.join(__dirname, "..");

const usage = "usage: npm run -s bench -- [--runs N] [--json]";
const { json, runs } = (() => {
    try {
        const { values } = parseArgs({ options: { runs: { type: "string", default: "3" }, json: { type: "boolean", default: false } } });
        const n = Number(values.runs);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--runs takes a whole number of 1 or more, got ${JSON.stringify(values.runs)}`);
        return { json: values.json, runs: n };
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n${usage}\n`);
        process.exit(2);
    }
})();
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const tag = `calculator-bench:${process.pid}`;

/** A figure taken several times. */
export interface Spread {
    median: number;
    min: number;
    max: number;
}

function spread(values: number[]): Spread {
    const v = [...values].sort((a, b) => a - b);
    const mid = Math.floor(v.length / 2);
    const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
    return { median: round(median), min: round(v[0]), max: round(v[v.length - 1]) };
}

interface Bench {
    machine: { cpus: number; cpuModel: string; memoryBytes: number; engine: string; runs: number };
    image: {
        builderImage: string;
        builderImageBytes: number;
        binaryBytes: number;
        runtimeBytes: number;
        runtimeCompressedBytes: number;
        singleStageBytes: number;
        singleStageCompressedBytes: number;
        /** Unpacked sizes, single-stage over multi-stage. */
        ratio: number;
        /** Compressed sizes (what ECR stores): the stack's imageSizeReduction. */
        compressedRatio: number;
        files: number;
        coldBuildSeconds: Spread;
        /** The same source on an engine pruned again, its layers taken from the registry (--cache-from). */
        registryCachedBuildSeconds: Spread;
        noopRebuildSeconds: Spread;
        oneLineRebuildSeconds: Spread;
        startToReadyMs: Spread;
    };
    service: {
        requestsPerSecond: Spread;
        p50Ms: Spread;
        p99Ms: Spread;
        errors: number;
        /** Access-log lines the service dropped under the load, all runs (it drops rather than hold a request up). */
        logLinesDropped: number;
        idleRssBytes: Spread;
        /** Which CPUs wrk and the service ran on. */
        cpus: string;
    };
    program: { mockRunSeconds: Spread };
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

async function load(
    url: string,
    split: ReturnType<typeof cpuSplit>,
): Promise<{ requestsPerSecond: number; p50Ms: number; p99Ms: number; errors: number }> {
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
    await runUncached({});
    return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<Bench> {
    const env = dockerEnv();
    const builderImageBytes = (await inspect(env.goImage)).Size as number;
    const engineVersion = (await docker(["version", "--format", "{{.Server.Version}}"])).trim();
    // What a CI runner starts with: no build cache at all (the builder image is
    // there; here it cannot be pulled again). Built as the program builds it,
    // with cache metadata inline, and pushed.
    const pruneBuildCache = () => docker(["builder", "prune", "--all", "--force"]);
    const inlineCache = { BUILDKIT_INLINE_CACHE: "1" };
    const repository = `calculator-bench-${process.pid}`;
    const times = { cold: [] as number[], cached: [] as number[], noop: [] as number[], oneLine: [] as number[] };
    let imageId = "";
    let ref = "";

    for (let i = 1; i <= runs; i++) {
        // A tag of its own each run: the cold build finds no cache in the registry either.
        ref = `${env.registry}/${repository}:bench-${i}`;
        log(`run ${i}/${runs}: cold build (no build cache, empty Go caches)`);
        await pruneBuildCache();
        const cold = await build({ target: "runtime", tags: [tag, ref], buildArgs: inlineCache, cacheFrom: [ref] });
        times.cold.push(cold.seconds);
        const coldLayers = JSON.stringify((await inspect(cold.imageId!)).RootFS.Layers);
        await push(ref);
        log(`run ${i}/${runs}: no-op rebuild`);
        times.noop.push((await build({ target: "runtime", tags: [tag], buildArgs: inlineCache })).seconds);
        log(`run ${i}/${runs}: rebuild after a one-line Go change`);
        times.oneLine.push(await oneLineRebuild());
        log(`run ${i}/${runs}: the same source on a pruned engine, from the registry's cache (--cache-from)`);
        await dockerRaw(["rmi", tag, ref]);
        await pruneBuildCache();
        const fromRegistry = await build({ target: "runtime", tags: [tag, ref], buildArgs: inlineCache, cacheFrom: [ref] });
        if (JSON.stringify((await inspect(fromRegistry.imageId!)).RootFS.Layers) !== coldLayers) {
            throw new Error("the build from the registry's cache gave other layers than the cold build");
        }
        times.cached.push(fromRegistry.seconds);
        imageId = fromRegistry.imageId!;
    }

    log("sizes: binary, runtime image, single-stage image, compressed as the registry stores them");
    const binDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-bin-"));
    await build({ target: "binary", output: `type=local,dest=${binDir}` });
    const binaryBytes = fs.statSync(path.join(binDir, "app")).size;
    fs.rmSync(binDir, { recursive: true, force: true });
    const singleRef = `${env.registry}/${repository}:single-stage`;
    const single = await build({ dockerfile: path.join(appDir, "Dockerfile.single"), tags: [singleRef] });
    const singleStageBytes = (await inspect(single.imageId!)).Size as number;
    const compressed = async (r: string) => (await registryImage(env.registry, repository, await push(r))).compressedBytes;
    const runtimeCompressedBytes = await compressed(ref);
    const singleStageCompressedBytes = await compressed(singleRef);
    const runtimeBytes = (await inspect(imageId)).Size as number;
    const files = (await imageFiles(imageId)).length;

    const split = cpuSplit();
    const service = { ready: [] as number[], rss: [] as number[], rps: [] as number[], p50: [] as number[], p99: [] as number[] };
    let errors = 0;
    let logLinesDropped = 0;
    for (let i = 1; i <= runs; i++) {
        log(`run ${i}/${runs}: container start to ready, idle RSS, load (${split.label})`);
        const port = await freePort();
        const name = `calculator-bench-${process.pid}-${i}`;
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
            imageId,
        ]);
        try {
            await waitForStatus(`http://127.0.0.1:${port}/readyz`, 200, 10_000, 2);
            const readyAt = Date.now();
            const state = (await inspect(name)).State;
            service.ready.push(readyAt - Date.parse(state.StartedAt));
            service.rss.push(rssBytes(state.Pid));
            const loaded = await load(`http://127.0.0.1:${port}/v1/evaluate?expr=2*(3%2B4)%5E2`, split);
            service.rps.push(loaded.requestsPerSecond);
            service.p50.push(loaded.p50Ms);
            service.p99.push(loaded.p99Ms);
            errors += loaded.errors;
            logLinesDropped += await droppedLogLines(name);
        } finally {
            await dockerRaw(["rm", "--force", name]);
        }
    }
    await dockerRaw(["rmi", tag, ref, singleRef]);

    log("the program under mocks");
    const mock: number[] = [];
    for (let i = 0; i < runs; i++) mock.push(await mockRunSeconds());

    return {
        machine: {
            cpus: os.cpus().length,
            cpuModel: os.cpus()[0]?.model ?? "unknown",
            memoryBytes: os.totalmem(),
            engine: engineVersion,
            runs,
        },
        image: {
            builderImage: env.goImage,
            builderImageBytes,
            binaryBytes,
            runtimeBytes,
            runtimeCompressedBytes,
            singleStageBytes,
            singleStageCompressedBytes,
            ratio: Math.round(singleStageBytes / runtimeBytes),
            compressedRatio: Math.round(singleStageCompressedBytes / runtimeCompressedBytes),
            files,
            coldBuildSeconds: spread(times.cold),
            registryCachedBuildSeconds: spread(times.cached),
            noopRebuildSeconds: spread(times.noop),
            oneLineRebuildSeconds: spread(times.oneLine),
            startToReadyMs: spread(service.ready),
        },
        service: {
            requestsPerSecond: spread(service.rps),
            p50Ms: spread(service.p50),
            p99Ms: spread(service.p99),
            errors,
            logLinesDropped,
            idleRssBytes: spread(service.rss),
            cpus: split.label,
        },
        program: { mockRunSeconds: spread(mock) },
    };
}

/** The lines a container's service reported dropping ("log lines dropped", each with its count). */
async function droppedLogLines(container: string): Promise<number> {
    await sleep(500); // the report follows the next flush (LOG_FLUSH_INTERVAL)
    let dropped = 0;
    await dockerRaw(["logs", container], {
        onLine: (line) => {
            if (line.includes('"msg":"log lines dropped"')) dropped += (JSON.parse(line) as { dropped: number }).dropped;
        },
    });
    return dropped;
}

/** Seconds to rebuild after a one-line change no earlier run made, in a copy of app/. */
async function oneLineRebuild(): Promise<number> {
    const copy = copyApp();
    try {
        await build({ context: copy, target: "runtime" }); // same content: all cached
        const main = path.join(copy, "main.go");
        const source = fs.readFileSync(main, "utf8");
        if (!source.includes('version = "dev"')) throw new Error('main.go no longer has version = "dev" to change');
        // Unique, or BuildKit's layer cache would answer from a previous run.
        fs.writeFileSync(main, source.replace('version = "dev"', `version = "dev-bench-${process.pid}-${Date.now()}"`));
        return (await build({ context: copy, target: "runtime" })).seconds;
    } finally {
        fs.rmSync(copy, { recursive: true, force: true });
    }
}

function round(n: number): number {
    return Math.round(n * 100) / 100;
}

/** "24.3 s (23.9–25.1)": a median and its range; one figure when all runs agree. */
function show(s: Spread, unit: string, digits = 1): string {
    const f = (n: number) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    const u = unit ? ` ${unit}` : "";
    return s.min === s.max ? `${f(s.median)}${u}` : `${f(s.median)}${u} (${f(s.min)}–${f(s.max)})`;
}

/** The table README.md shows: measure, value, target. */
function table(b: Bench): string {
    const i = b.image;
    const s = b.service;
    const rows: [string, string, string][] = [
        ["builder image", `${i.builderImage} (${humanBytes(i.builderImageBytes)})`, ""],
        ["binary", humanBytes(i.binaryBytes), ""],
        ["runtime image", humanBytes(i.runtimeBytes), "≤ binary + CA bundle + passwd + 300 kB"],
        ["runtime image, compressed (as ECR stores it)", humanBytes(i.runtimeCompressedBytes), "≤ 3 MB"],
        ["single-stage image", `${humanBytes(i.singleStageBytes)}, compressed ${humanBytes(i.singleStageCompressedBytes)}`, ""],
        ["single / multi-stage, compressed (the stack's `imageSizeReduction`)", `${i.compressedRatio}x`, "depends on the builder image"],
        ["single / multi-stage, unpacked", `${i.ratio}x`, "depends on the builder image"],
        ["files in the runtime image", String(i.files), "4"],
        ["cold build (no build cache, as on a new CI runner)", show(i.coldBuildSeconds, "s"), ""],
        ["the same source, no build cache, layers from the registry (`--cache-from`)", show(i.registryCachedBuildSeconds, "s", 2), "≤ 5 s"],
        ["no-op rebuild", show(i.noopRebuildSeconds, "s", 2), "≤ 2 s"],
        ["rebuild after a one-line change", show(i.oneLineRebuildSeconds, "s"), "≤ half the cold build"],
        ["container start to `/readyz` 200", show(i.startToReadyMs, "ms", 0), "≤ 200 ms"],
        [`load: requests/s (wrk, 32 connections, loopback; ${s.cpus})`, show(s.requestsPerSecond, "", 0), ""],
        ["load: p50", show(s.p50Ms, "ms", 2), ""],
        ["load: p99", show(s.p99Ms, "ms", 2), "≤ 5 ms"],
        ["load: errors, all runs", String(s.errors), "0"],
        ["load: access-log lines dropped, all runs", String(s.logLinesDropped), "0"],
        [
            "idle RSS",
            show({ median: s.idleRssBytes.median / 1e6, min: s.idleRssBytes.min / 1e6, max: s.idleRssBytes.max / 1e6 }, "MB"),
            "≤ 20 MB",
        ],
        ["program under mocks (one process, start to outputs)", show(b.program.mockRunSeconds, "s"), "≤ 5 s"],
    ];
    const m = b.machine;
    return [
        `${m.runs} runs; medians, ranges in brackets. ${m.cpus} × ${m.cpuModel}, ${humanBytes(m.memoryBytes)} memory, Docker Engine ${m.engine}.`,
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        ...rows.map((r) => `| ${r.join(" | ")} |`.replace(/ {2}\|$/, " |")),
    ].join("\n");
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
