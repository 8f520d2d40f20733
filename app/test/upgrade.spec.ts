// The calculator's stacks were deployed before components named their children from their
// own name: its declaration's formerNames keeps those names as aliases, so such a stack
// upgrades in place. A team's own service has no such stacks, and deletes this with app/.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

import { readProject } from "../../infra/project";
import { runUnderMocks } from "../../scripts/lib/harness";

const project = readProject().name;

describe("the calculator's stacks made before components were named from their own name", function () {
    this.timeout(120_000);

    it("a stack deployed before the change upgrades without replacing anything: every URN it has is a resource's URN or alias", async function () {
        const before = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "urns-before-component-names.json"), "utf8"));
        const configs: Record<string, Record<string, string>> = {
            defaults: {},
            "every option": {
                vpc: "new",
                natGateway: "true",
                domainName: "calc.example.com",
                accessLogs: "true",
                compareSingleStage: "true",
                spot: "true",
            },
        };
        for (const [label, set] of Object.entries(configs)) {
            const now = await runUnderMocks({ set, stack: "dev" });
            const known = new Map<string, string>();
            for (const r of now.resources) for (const u of [r.urn, ...r.aliases]) known.set(u, r.urn);
            const lost = (before[label] as string[]).filter((u) => !known.has(u));
            assert.deepEqual(lost, [], `${label}: these would be deleted and made anew`);
            // What is new is what this version adds (alarms and their dashboard), not a resource made again.
            const old = new Set(before[label] as string[]);
            const added = now.resources.filter((r) => ![r.urn, ...r.aliases].some((u) => old.has(u)));
            assert.deepEqual([...new Set(added.map((r) => r.type))].sort(), [
                "aws:cloudwatch/dashboard:Dashboard",
                "aws:cloudwatch/metricAlarm:MetricAlarm",
            ]);
            // The task family the stack had, so the task definition is not replaced either.
            assert.equal(now.inputs("aws:ecs/taskDefinition:TaskDefinition").family, `${project}-dev`);
        }
    });
});
