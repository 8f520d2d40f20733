// The calculator's stacks were deployed before components named their children from their
// own name: its declaration's formerNames keeps those names as aliases, so such a stack
// upgrades in place. A team's own service has no such stacks, and deletes this with app/.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

import { readProject } from "../../infra/project";
import { Run, runUnderMocks, shortUrn } from "../../scripts/lib/harness";
import { planUpdate, refusedUpdates } from "../../test/update-plan";
import { upgradeConfigs } from "./fixtures/upgrade-configs";

const project = readProject().name;

describe("the calculator's stacks made before components were named from their own name", function () {
    this.timeout(120_000);

    it("a stack deployed before the change upgrades without replacing anything: every URN it has is a resource's URN or alias", async function () {
        const before = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "urns-before-component-names.json"), "utf8"));
        for (const [label, set] of Object.entries(upgradeConfigs)) {
            const now = await runUnderMocks({ set, stack: "dev" });
            const known = new Map<string, string>();
            for (const r of now.resources) for (const u of [r.urn, ...r.aliases]) known.set(u, r.urn);
            const lost = (before[label] as string[]).filter((u) => !known.has(u));
            assert.deepEqual(lost, [], `${label}: these would be deleted and made anew`);
            // What is new is what later versions add (alarms and their dashboard, the environment's component), not a resource made again.
            const old = new Set(before[label] as string[]);
            const added = now.resources.filter((r) => ![r.urn, ...r.aliases].some((u) => old.has(u)));
            assert.deepEqual([...new Set(added.map((r) => r.type))].sort(), [
                "aws:cloudwatch/dashboard:Dashboard",
                "aws:cloudwatch/metricAlarm:MetricAlarm",
                "calculator:index:Environment",
            ]);
            // The task family the stack had, so the task definition is not replaced either.
            assert.equal(now.inputs("aws:ecs/taskDefinition:TaskDefinition").family, `${project}-dev`);
        }
    });
});

describe("the calculator's stacks made when the stack ran one service, which held the load balancer and cluster", function () {
    this.timeout(120_000);
    // What that version (commit 21fb127) deployed, recorded by fixtures/record-stack.ts.
    const before = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "stack-before-environment.json"), "utf8"));

    for (const [label, set] of Object.entries(upgradeConfigs)) {
        it(`${label}: \`pulumi up\` moves the shared parts into the environment, replacing and deleting nothing, and AWS accepts every update`, async function () {
            const live = new Run(before[label].run, before[label].world);
            const next = await runUnderMocks({ set, stack: "dev", after: live });
            const steps = planUpdate(live, next);
            const by = (op: string) => steps.filter((s) => s.op === op).map((s) => `${shortUrn(s.urn)} (${s.changed.join(", ")})`);
            assert.deepEqual(by("replace"), [], "replaced");
            assert.deepEqual(by("delete"), [], "deleted");
            // Made anew: the environment's component alone; its children are the service's, moved by their aliases.
            assert.deepEqual(
                steps.filter((s) => s.op === "create").map((s) => s.type),
                ["calculator:index:Environment"],
            );
            assert.deepEqual(refusedUpdates(live, next), []);
            // The URL keeps working: the listener still forwards every request to the calculator's target group.
            const tg = next.one("aws:lb/targetGroup:TargetGroup");
            const listener = next.inputs("aws:lb/listener:Listener", label === "defaults" ? "shared-http" : "shared-https");
            assert.deepEqual(listener.defaultActions, [{ type: "forward", targetGroupArn: tg.state!.arn }]);
            assert.equal(next.all("aws:lb/listenerRule:ListenerRule").length, 0);
            assert.equal(next.outputs.url, live.outputs.url);
        });
    }
});
