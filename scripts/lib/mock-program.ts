// Runs the Pulumi program in infra/ without the Pulumi CLI, with the given
// mocks standing in for the providers, and records what it asked for: every
// resource with its inputs and options, every provider function call, and
// the stack outputs. One program run per process: the Pulumi runtime keeps
// global state, as it does under the CLI.
import * as pulumi from "@pulumi/pulumi";
import { isUnknown } from "@pulumi/pulumi/output";

import { repoRoot } from "./docker";
import { poll } from "./poll";
import { readProject } from "./stack-config";

export interface RecordedResource {
    /** As the engine names it: urn:pulumi:<stack>::<project>::<parent types $-joined>$<type>::<name>. */
    urn: string;
    /** URNs this resource was known by before (its `aliases` option), which the engine moves to it instead of replacing. */
    aliases: string[];
    type: string;
    name: string;
    /** Inputs as the program gave them, after secrets are unwrapped. */
    inputs: Record<string, unknown>;
    /** Index into `resources` of the provider this resource uses, if explicit. */
    provider?: string;
    /** The parent's type/name, for components' children. */
    parent?: string;
    protect: boolean;
    retainOnDelete: boolean;
    /** Input properties the engine leaves as they are on an update. */
    ignoreChanges: string[];
    /** Input property paths whose change makes the engine replace the resource. */
    replaceOnChanges: string[];
    /**
     * The `replacementTrigger` option's value: the engine replaces the resource when it
     * differs from the last recorded one (`unknownMarker` at a preview that cannot know it).
     */
    replacementTrigger?: unknown;
    /** The physical ID and the output properties the provider (here, the mocks) gave it. */
    id?: string;
    state?: Record<string, unknown>;
    dependsOn: string[];
    /** A custom resource (one a provider creates), as opposed to a component. */
    custom: boolean;
    /** Whether its registration has reached the mocks. */
    registered: boolean;
}

export interface RecordedCall {
    token: string;
    inputs: Record<string, unknown>;
    /** Reference to the provider the call went through, if explicit. */
    provider?: string;
}

export interface ProgramRun {
    /** As `pulumi preview` ran it: computed values of resources not yet made are unknown. */
    preview: boolean;
    resources: RecordedResource[];
    calls: RecordedCall[];
    outputs: Record<string, unknown>;
    /** The tags the stack's registry holds after the run (the fake's record of the pushes). */
    registryTags?: string[];
}

/** What the state of a deployed stack holds that a program's next run reads back: each Stash's trigger and output, by URN. */
export interface PriorState {
    stashes: Record<string, { replacementTrigger?: unknown; output: unknown }>;
    /** Every resource's ID and what AWS named it, by URN: what a resource that moved (an alias) keeps. */
    resources?: Record<string, { id?: string; state?: Record<string, unknown> }>;
}

/**
 * What a resource keeps of its old state when its URN moves (an alias): its ID and the names AWS gave
 * it. An auto-name is never made anew for a resource the state holds (pulumi-terraform-bridge
 * ComputeAutoNameDefault: "respects the prior state of the resource and will never attempt to replace
 * a value that is already populated in the state"); the ID and ARN are the resource's own.
 */
const identityKeys = ["arn", "arnSuffix", "name", "dnsName", "bucket", "repositoryUrl", "zoneId"];

/**
 * The engine's replacementTrigger rule, in the engine's order: a trigger unknown at a preview shows a
 * replacement whatever the state holds, even none; then none recorded (a stack made before the
 * trigger) or none given is no replacement, the value being recorded or forgotten; then a changed value
 * replaces. pulumi/pulumi pkg/resource/deploy/step_generator.go, shouldTriggerReplace (v3.259.0, lines
 * 3683-3698): "Unknowns are always considered to be changed" before "Nulls mean there is no replacement
 * trigger"; a trigger that fires skips the provider's diff (lines 1804-1813).
 */
export function triggerReplaces(old: unknown, next: unknown): boolean {
    if (next === unknownMarker) return true;
    if (old === undefined || old === null || next === undefined || next === null) return false;
    return JSON.stringify(old) !== JSON.stringify(next);
}

export interface RunOptions {
    stack: string;
    /** The config map as the CLI would pass it (see stack-config.ts). */
    config: Record<string, string>;
    /** Keys of config whose values the stack holds as secrets (`pulumi config set --secret`). */
    secretKeys?: string[];
    mocks: pulumi.runtime.Mocks;
    /** As `pulumi preview` (true) or `pulumi up` (false). */
    preview?: boolean;
    /** The project folder (where Pulumi.yaml is); this repository by default. */
    projectDir?: string;
    /** The deployed stack's state the run updates; none: a new stack. */
    prior?: PriorState;
}

let ran = false;

export async function runProgram(opts: RunOptions): Promise<ProgramRun> {
    if (ran) {
        throw new Error("runProgram: one program run per process");
    }
    ran = true;
    const { name: project, programDir } = readProject(opts.projectDir ?? repoRoot);
    const resources: RecordedResource[] = [];
    const calls: RecordedCall[] = [];
    // Type and name identify a registration reaching the mocks; the engine refuses two alike in a stack.
    const byKey = new Map<string, RecordedResource>();
    const urnOf = (qualifiedType: string, name: string) => `urn:pulumi:${opts.stack}::${project}::${qualifiedType}::${name}`;
    // The engine's qualified type: the parent's (but not the root stack's) joined with "$".
    const qualifiedTypes = new WeakMap<pulumi.Resource, string>();
    const qualify = (type: string, parent: pulumi.Resource | undefined) => {
        const above = parent ? qualifiedTypes.get(parent) : undefined;
        return above ? `${above}$${type}` : type;
    };

    // A Stash's trigger, resolved, by "type::name": the engine decides on it before it asks for the Stash.
    const triggers = new Map<string, Promise<unknown>>();
    const recording: pulumi.runtime.Mocks = {
        newResource: async (args) => {
            let result = await opts.mocks.newResource(args);
            const rec = byKey.get(`${args.type}::${args.name}`);
            if (args.type === "pulumi:index:Stash" && rec) result = await stashed(rec, result);
            const moved =
                rec && !opts.preview ? rec.aliases.map((a) => opts.prior?.resources?.[a]).find((r) => r !== undefined) : undefined;
            if (moved && !opts.prior?.resources?.[rec!.urn]) {
                const kept = Object.fromEntries(
                    identityKeys.filter((k) => moved.state?.[k] !== undefined).map((k) => [k, moved.state![k]]),
                );
                result = { id: moved.id ?? result.id, state: { ...result.state, ...kept } };
            }
            if (rec) {
                rec.inputs = markUnknowns(args.inputs) as Record<string, unknown>;
                rec.provider = args.provider;
                rec.id = result.id;
                rec.state = result.state;
                rec.registered = true;
            }
            return result;
        },
        call: async (args) => {
            calls.push({ token: args.token, inputs: markUnknowns(args.inputs) as Record<string, unknown>, provider: args.provider });
            return opts.mocks.call(args);
        },
    };

    /**
     * The engine's built-in Stash keeps the output it was made with until it is replaced (its Update
     * never takes the new input as output); replaced, it takes the input anew. pulumi/pulumi
     * pkg/resource/deploy/builtins.go (v3.259.0): Diff compares `input` alone (lines 184-194), Create sets
     * `output` to the input (236-241), Update keeps `output: req.OldOutputs["output"]` (252-256).
     */
    const stashed = async (rec: RecordedResource, made: pulumi.runtime.MockResourceResult): Promise<pulumi.runtime.MockResourceResult> => {
        const before = opts.prior?.stashes[rec.urn];
        if (!before) return made;
        await triggers.get(`${rec.type}::${rec.name}`);
        if (triggerReplaces(before.replacementTrigger, rec.replacementTrigger)) return made;
        return { ...made, state: { ...made.state, output: before.output } };
    };

    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
    // As the CLI's language host tells a program which config values are secrets.
    process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(opts.secretKeys ?? []);
    await pulumi.runtime.setMocks(recording, project, opts.stack, opts.preview ?? false);
    // The CLI runs a program whose `main` is a folder in that folder, and starts its
    // providers there: relative paths in resource inputs are resolved from it.
    const callerDir = process.cwd();
    process.chdir(programDir);
    // An error thrown in an apply or in an invoke's arguments fails the run, as it fails `pulumi preview`.
    let failRun!: (err: Error) => void;
    const failed = new Promise<never>((_, reject) => (failRun = reject));
    const onUnhandled = (reason: unknown) => failRun(new ProgramError(rootMessage(reason)));
    process.on("unhandledRejection", onUnhandled);
    // Values the run records as they resolve (replacement triggers).
    const pending: Promise<unknown>[] = [];
    const work = async (): Promise<ProgramRun> => {
        const outputs: Record<string, unknown> = {};
        // As the CLI's Node.js host does: the program runs inside the root stack resource.
        await pulumi.runtime.runInPulumiStack(async () => {
            // Options (protect, retainOnDelete, dependsOn, parent) are seen here, before registration.
            pulumi.runtime.registerStackTransformation((t) => {
                const key = `${t.type}::${t.name}`;
                if (byKey.has(key)) {
                    throw new ProgramError(`Duplicate resource URN: a second ${t.type} named ${t.name} (the engine refuses it)`);
                }
                const qualifiedType = qualify(t.type, t.opts.parent);
                qualifiedTypes.set(t.resource, qualifiedType);
                const rec: RecordedResource = {
                    urn: urnOf(qualifiedType, t.name),
                    aliases: (t.opts.aliases ?? []).map((a) => aliasUrn(a, qualifiedType, t.type, t.name, urnOf)),
                    type: t.type,
                    name: t.name,
                    inputs: {},
                    custom: !(t.resource instanceof pulumi.ComponentResource), // the prototype is set while constructing
                    registered: false,
                    parent: t.opts.parent ? resourceKey(t.opts.parent) : undefined,
                    protect: t.opts.protect === true,
                    retainOnDelete: t.opts.retainOnDelete === true,
                    ignoreChanges: t.opts.ignoreChanges ?? [],
                    replaceOnChanges: t.opts.replaceOnChanges ?? [],
                    dependsOn: (Array.isArray(t.opts.dependsOn) ? t.opts.dependsOn : t.opts.dependsOn ? [t.opts.dependsOn] : []).map((d) =>
                        resourceKey(d as pulumi.Resource),
                    ),
                };
                if (t.opts.replacementTrigger !== undefined) {
                    const trigger = resolve(t.opts.replacementTrigger).then((v) => (rec.replacementTrigger = v));
                    triggers.set(key, trigger);
                    pending.push(trigger);
                }
                resources.push(rec);
                byKey.set(key, rec);
                return undefined;
            });

            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after the mocks are in place
            const program = require(programDir) as Record<string, unknown>;
            for (const [key, value] of Object.entries(program)) {
                if (value === undefined) continue;
                // The runtime resolves a stack output's nested outputs too (an object of them, as `services`).
                outputs[key] = await resolve(typeof value === "object" && !pulumi.Output.isInstance(value) ? pulumi.output(value) : value);
            }
            return program;
        });
        // Let every registration the program started reach the mocks, and settle.
        await waitForRegistrations(resources);
        await Promise.all(pending);
        // Wait for the stack outputs' registration and every other outstanding call, as the CLI's host does.
        await pulumi.runtime.disconnect();
        return { preview: opts.preview ?? false, resources, calls, outputs };
    };
    try {
        return await Promise.race([work(), failed]);
    } finally {
        process.off("unhandledRejection", onUnhandled);
        process.chdir(callerDir);
    }
}

/**
 * The URN an `aliases` entry names, for the kinds this program and its providers use: a former
 * name and/or type (the provider SDKs alias renamed types) under the same parent, or under a
 * former parent given by its URN: the engine then forms the URN from the parent's up to its last
 * "::", "$", the type and the name (pulumi/pulumi sdk/go/common/resource/alias.go, CreateURN).
 */
function aliasUrn(
    alias: pulumi.Input<string | pulumi.Alias>,
    qualifiedType: string,
    type: string,
    name: string,
    urnOf: (qualifiedType: string, name: string) => string,
): string {
    const a = alias as pulumi.Alias;
    const plain = (v: unknown): v is string | undefined => v === undefined || typeof v === "string";
    if (
        typeof alias === "string" ||
        !plain(a.parent) ||
        a.stack !== undefined ||
        a.project !== undefined ||
        !plain(a.name) ||
        !plain(a.type)
    ) {
        throw new Error(`alias of ${qualifiedType}::${name}: only a former name, type or parent URN is modelled here`);
    }
    if (typeof a.parent === "string") {
        const parent = a.parent;
        return `${parent.slice(0, parent.lastIndexOf("::"))}$${a.type ?? type}::${a.name ?? name}`;
    }
    const formerType = a.type === undefined ? qualifiedType : `${qualifiedType.slice(0, qualifiedType.length - type.length)}${a.type}`;
    return urnOf(formerType, a.name ?? name);
}

/** The program failed; the message is what the CLI would show. */
export class ProgramError extends Error {}

/**
 * The message of an error from the program, without the SDK's wrapping: an
 * error in an input's apply reaches the user as 'error serializing property
 * "a": error serializing property "b": <the program's message>'.
 */
export function rootMessage(reason: unknown): string {
    const message = reason instanceof Error ? reason.message : String(reason);
    return /(?:error serializing property "[^"]*": )+([\s\S]*)$/.exec(message)?.[1] ?? message;
}

/** "type::name" of a resource object, from the SDK's own bookkeeping fields. */
function resourceKey(r: pulumi.Resource): string {
    const internal = r as unknown as { __pulumiType?: string; __name?: string };
    return `${internal.__pulumiType ?? "?"}::${internal.__name ?? "?"}`;
}

/** What the run records for a value that is unknown at a preview (the CLI shows "output<string>"). */
export const unknownMarker = "<unknown at preview>";

/** A copy of inputs with the SDK's unknown values as `unknownMarker`, so that a run can be written as JSON. */
function markUnknowns(v: unknown): unknown {
    if (isUnknown(v)) return unknownMarker;
    if (Array.isArray(v)) return v.map(markUnknowns);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, markUnknowns(x)]));
    return v;
}

async function resolve(value: unknown): Promise<unknown> {
    if (!pulumi.Output.isInstance(value)) {
        return value;
    }
    // At a preview, an output computed by a provider that has not made the resource yet is unknown, and an apply on it never runs.
    const known = await (value as unknown as { isKnown: Promise<boolean> }).isKnown;
    if (!known) return unknownMarker;
    return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error("an output never resolved")), 60_000);
        timer.unref();
        value.apply((v) => {
            clearTimeout(timer);
            res(v);
            return v;
        });
    });
}

/** Registration is asynchronous: resources no output depends on may still be in flight. */
async function waitForRegistrations(resources: RecordedResource[]): Promise<void> {
    const pending = () => resources.filter((r) => r.custom && !r.registered);
    await poll(() => (pending().length === 0 ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 10,
        timedOut: () =>
            new Error(
                `resources never registered: ${pending()
                    .map((r) => `${r.type}::${r.name}`)
                    .join(", ")}`,
            ),
    });
}
