// Runs the program under fake AWS mocks, each run in a child process of its
// own (as the CLI runs it), and answers questions about what it made. Test
// support, with the mock runner and the fake AWS beside it: the tests and the
// benchmark import it from here, and nothing here imports from test/.
import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { repoRoot } from "./docker";
import { FakeAwsOptions, FakeWorld, defaultWorld } from "./fake-aws";
import { PriorState, ProgramRun, RecordedResource } from "./mock-program";
import { effectiveConfig, readConfigFile, readStackFile } from "./stack-config";
import type { ChildSpec } from "./program-child";

export interface MockRunOptions {
    /** Stack file to start from (Pulumi.<stack>.yaml); none: Pulumi.yaml's defaults only. */
    stackFile?: string;
    /** A stack file by its path, as the CLI's --config-file takes it (the suite's own: test/fixtures/Pulumi.suite.yaml). */
    configFile?: string;
    /** Project keys to set on top, as `pulumi config set` would. */
    set?: Record<string, string>;
    /** The exact config map, bypassing the CLI's defaults (to test what a program sees without them). */
    rawConfig?: Record<string, string>;
    fake?: FakeAwsOptions;
    stack?: string;
    /** Environment for the program's process, on top of a copy of this one without GO_IMAGE. */
    env?: Record<string, string>;
    /** Run the program of another project folder: a checkout of this one elsewhere (it needs node_modules), or infra/ci-identities. */
    projectDir?: string;
    /** As `pulumi preview` of a stack that has none of its resources yet (unknown computed values); else as `pulumi up`. */
    preview?: boolean;
    /** Config keys (namespaced) the stack holds as secrets. */
    secretKeys?: string[];
    /**
     * The run of `pulumi up` this one follows: its state (each Stash's trigger and output) and the account as it
     * left it (the registry with its pushes). None: a stack with nothing deployed, and an empty registry.
     */
    after?: Run;
}

export class Run {
    /** The account the run's lookups saw. */
    readonly world: FakeWorld;
    constructor(
        readonly run: ProgramRun,
        world: Partial<FakeWorld> = {},
    ) {
        this.world = { ...defaultWorld, ...world };
    }

    get resources(): RecordedResource[] {
        return this.run.resources;
    }
    get outputs(): Record<string, unknown> {
        return this.run.outputs;
    }

    all(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The one resource of a type (and name); fails when there is not exactly one. */
    one(type: string, name?: string): RecordedResource {
        const found = this.all(type).filter((r) => name === undefined || r.name === name);
        assert.equal(found.length, 1, `want one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
        return found[0];
    }

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- resource inputs are loosely typed JSON
    inputs(type: string, name?: string): any {
        return unsecret(this.one(type, name).inputs);
    }

    calls(token: string) {
        return this.run.calls.filter((c) => c.token === token);
    }

    /** URN -> inputs JSON without the properties the engine ignores on an update, to compare two runs. */
    snapshot(): Map<string, string> {
        return new Map(this.resources.map((r) => [r.urn, JSON.stringify(withoutIgnored(r.inputs, r.ignoreChanges))]));
    }
}

/** A copy of inputs without the (dotted) property paths listed. */
export function withoutIgnored(inputs: Record<string, unknown>, paths: string[]): Record<string, unknown> {
    const copy = JSON.parse(JSON.stringify(inputs)) as Record<string, unknown>;
    for (const p of paths) {
        const keys = p.split(".");
        let at: Record<string, unknown> | undefined = copy;
        for (const k of keys.slice(0, -1)) at = at?.[k] as Record<string, unknown> | undefined;
        if (at) delete at[keys[keys.length - 1]];
    }
    return copy;
}

/** The Pulumi wire marker for a secret value. */
export const secretSig = "4dabf18193072939515e22adb298388d";

export function isSecret(v: unknown): boolean {
    return typeof v === "object" && v !== null && secretSig in v;
}

/** Inputs with secret wrappers replaced by their values. */
export function unsecret(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unsecret);
    if (typeof v === "object" && v !== null) {
        if (isSecret(v)) return unsecret((v as { value: unknown }).value);
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unsecret(x)]));
    }
    return v;
}

export class ProgramFailed extends Error {}

const cache = new Map<string, Promise<Run>>();

/** Runs the program once per distinct options (cached); rejects with ProgramFailed when the program throws. */
export function runUnderMocks(opts: MockRunOptions = {}): Promise<Run> {
    const spec = specOf(opts);
    const key = JSON.stringify({ spec, env: opts.env });
    let run = cache.get(key);
    if (!run) {
        run = spawnChild(spec, opts.env, opts.fake?.world);
        cache.set(key, run);
    }
    return run;
}

/** Runs the program afresh, uncached (for runs whose inputs are files on disk). */
export function runUncached(opts: MockRunOptions = {}): Promise<Run> {
    return spawnChild(specOf(opts), opts.env, opts.fake?.world);
}

/** What the child runs: the stack, and its config as the CLI would merge it. */
function specOf(opts: MockRunOptions): ChildSpec {
    const stack = opts.stack ?? opts.stackFile ?? "test";
    const root = opts.projectDir ?? repoRoot;
    const file = opts.configFile ? readConfigFile(opts.configFile) : opts.stackFile ? readStackFile(opts.stackFile, root) : {};
    const config = opts.rawConfig ?? effectiveConfig(file, opts.set ?? {}, root);
    const after = opts.after;
    const fake = after
        ? { ...opts.fake, registryTags: [...new Set([...(after.run.registryTags ?? []), ...(opts.fake?.registryTags ?? [])])] }
        : opts.fake;
    const prior = after ? priorState(after) : undefined;
    return { stack, config, fake, projectDir: opts.projectDir, preview: opts.preview, secretKeys: opts.secretKeys, prior };
}

/** What a run's state holds that the next run reads back: each Stash's recorded trigger and output. */
export function priorState(run: Run): PriorState {
    const stashes = run
        .all("pulumi:index:Stash")
        .map((r) => [r.urn, { replacementTrigger: r.replacementTrigger, output: r.state?.output }]);
    const resources = run.resources.filter((r) => r.custom).map((r) => [r.urn, { id: r.id, state: r.state }]);
    return { stashes: Object.fromEntries(stashes), resources: Object.fromEntries(resources) };
}

function spawnChild(spec: ChildSpec, extraEnv: Record<string, string> = {}, world?: Partial<FakeWorld>): Promise<Run> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "program-"));
    const specFile = path.join(dir, "spec.json");
    const resultFile = path.join(dir, "result.json");
    fs.writeFileSync(specFile, JSON.stringify(spec));
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.GO_IMAGE; // the program's inputs must not depend on the machine running the tests
    Object.assign(env, extraEnv);
    return new Promise((resolve, reject) => {
        execFile(
            process.execPath,
            // TypeScript through the transpile cache: half a run's start-up (types: tsc --noEmit).
            ["-r", path.join(__dirname, "transpile-cache.cjs"), path.join(__dirname, "program-child.ts"), specFile, resultFile],
            { cwd: repoRoot, env, maxBuffer: 64 << 20 },
            (err, _stdout, stderr) => {
                try {
                    // A program that throws leaves Pulumi promises behind, and the runtime then
                    // exits non-zero; the result file still says what happened.
                    if (!fs.existsSync(resultFile)) throw new Error(`program run failed: ${err?.message}\n${stderr}`);
                    const result = JSON.parse(fs.readFileSync(resultFile, "utf8"));
                    if (!result.ok) {
                        reject(new ProgramFailed(result.error));
                        return;
                    }
                    resolve(new Run(result.run, world));
                } catch (e) {
                    reject(e instanceof Error ? e : new Error(String(e)));
                } finally {
                    fs.rmSync(dir, { recursive: true, force: true });
                }
            },
        );
    });
}

/** The message the program fails with under these options, at `pulumi preview` (where users meet it first). */
export async function failureOf(opts: MockRunOptions): Promise<string> {
    try {
        await runUncached({ preview: true, ...opts });
    } catch (e) {
        if (e instanceof ProgramFailed) return e.message;
        throw e;
    }
    assert.fail(`the program succeeded with ${JSON.stringify(opts)}`);
}

/**
 * URNs whose inputs differ between two runs (added and removed ones too), as
 * the engine sees a live stack: properties under `ignoreChanges` do not count.
 */
export function changedResources(a: Run, b: Run): string[] {
    const sa = a.snapshot();
    const sb = b.snapshot();
    const urns = new Set([...sa.keys(), ...sb.keys()]);
    return [...urns]
        .filter((u) => sa.get(u) !== sb.get(u))
        .sort((x, y) => (shortUrn(x) < shortUrn(y) ? -1 : shortUrn(x) > shortUrn(y) ? 1 : 0));
}

/** "type::name" of a URN: its own type, without its parents'. */
export function shortUrn(urn: string): string {
    const parts = urn.split("::");
    return `${parts[2].split("$").pop()}::${parts[3]}`;
}
