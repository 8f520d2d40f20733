// Components built in the test's own process under Pulumi mocks, as awsx's
// fargateService.test.ts builds them: no child process, no program, a few
// hundred milliseconds a case. Whole-program runs (scripts/lib/harness.ts) stay for
// what needs the program: config from the CLI, stack files, previews.
import * as pulumi from "@pulumi/pulumi";

import { fakeAws } from "../scripts/lib/fake-aws";
import { poll } from "../scripts/lib/poll";

export interface Built {
    /** The engine's URN without stack and project: "<parent types $-joined>$<type>::<name>". */
    urn: string;
    type: string;
    name: string;
    /** "<parent type>::<parent name>" */
    parent?: string;
    inputs: Record<string, unknown>;
    state: Record<string, unknown>;
    dependsOn: string[];
}

const registered = new Map<string, { inputs: Record<string, unknown>; state: Record<string, unknown> }>();
let mocked = false;

function keyOf(r: pulumi.Resource | undefined): string | undefined {
    const internal = r as unknown as { __pulumiType?: string; __name?: string } | undefined;
    return internal ? `${internal.__pulumiType}::${internal.__name}` : undefined;
}

/**
 * Builds what `build` makes under a component of its own (`case`; resource names must differ
 * from every other case's in the process), and resolves once every
 * resource it made has reached the mocks: their inputs, the fake's answers, their options.
 */
export async function buildUnderMocks(caseName: string, build: (opts: pulumi.ComponentResourceOptions) => void): Promise<Built[]> {
    if (!mocked) {
        const fake = fakeAws();
        await pulumi.runtime.setMocks(
            {
                newResource: async (args) => {
                    const result = await fake.newResource(args);
                    registered.set(`${args.type}::${args.name}`, { inputs: args.inputs, state: result.state });
                    return result;
                },
                call: (args) => fake.call(args),
            },
            "go-fargate-calculator",
            "test",
            false,
        );
        mocked = true;
    }
    const made: (Built & { custom: boolean })[] = [];
    const record: pulumi.ResourceTransformation = (t) => {
        // One process, one set of mocks: a name another case used would read that case's registration.
        if (registered.has(`${t.type}::${t.name}`))
            throw new Error(`${t.type}::${t.name} was built by another case; name each case's resources apart`);
        made.push({
            urn: "",
            type: t.type,
            name: t.name,
            parent: keyOf(t.opts.parent),
            inputs: {},
            state: {},
            dependsOn: ([] as unknown[]).concat(t.opts.dependsOn ?? []).map((d) => keyOf(d as pulumi.Resource)!),
            custom: !(t.resource instanceof pulumi.ComponentResource),
        });
        return undefined;
    };
    class Case extends pulumi.ComponentResource {
        constructor() {
            super("test:index:Case", caseName, {}, { transformations: [record] });
            build({ parent: this });
        }
    }
    new Case();
    const pending = () => made.filter((m) => m.custom && !registered.has(`${m.type}::${m.name}`));
    await poll(() => (pending().length === 0 ? true : undefined), {
        timeoutMs: 20_000,
        intervalMs: 10,
        timedOut: () =>
            new Error(
                `never registered: ${pending()
                    .map((m) => `${m.type}::${m.name}`)
                    .join(", ")}`,
            ),
    });
    const byKey = new Map(made.map((m) => [`${m.type}::${m.name}`, m]));
    const qualified = (m: { type: string; parent?: string }): string => {
        const above = m.parent ? byKey.get(m.parent) : undefined;
        return above ? `${qualified(above)}$${m.type}` : m.type;
    };
    return made.map(({ custom, ...m }) => ({
        ...m,
        urn: `${qualified(m)}::${m.name}`,
        ...(custom ? registered.get(`${m.type}::${m.name}`) : {}),
    }));
}
