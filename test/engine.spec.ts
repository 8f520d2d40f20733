// The least Pulumi CLI: what Pulumi.yaml requires, and what the program says
// to a CLI that is older. The engine's RequirePulumiVersion call is the SDK's
// (sdk/nodejs/runtime/settings.ts); here it is handed the answers a real
// engine gives, as the CLI's source words them.
import { strict as assert } from "assert";

import { leastRelease, requireCli } from "../infra/engine";
import { projectRoot, readProject } from "../infra/project";

const range = readProject(projectRoot).requiredPulumiVersion ?? "";

describe("the least Pulumi CLI", function () {
    it("Pulumi.yaml requires 3.226.0 or later: the first CLI whose replacementTrigger previews no false replacement (pulumi/pulumi#22119)", function () {
        const [major, minor] = leastRelease(range).split(".").map(Number);
        assert.ok(major > 3 || (major === 3 && minor >= 226), `requiredPulumiVersion ${range}`);
    });

    it("asks the engine for that range, and goes on when the CLI satisfies it", async function () {
        const asked: string[] = [];
        await requireCli(range, (r) => {
            asked.push(r);
            return Promise.resolve();
        });
        assert.deepEqual(asked, [range]);
    });

    for (const [cli, answer] of [
        // sdk/go/common/resource/plugin/plugin.go, ValidatePulumiVersionRange: 3.217.0 and 3.218.0 (from 3.219.0
        // the CLI refuses itself, reading Pulumi.yaml, before the program runs).
        ["3.218.0", `Pulumi CLI version 3.218.0 does not satisfy the version range "${range}"`],
        // The SDK's own words when the CLI has no RequirePulumiVersion (before 3.217.0).
        ["3.207.0", "The installed version of the CLI does not support the `RequirePulumiVersion` RPC. Please upgrade the Pulumi CLI."],
    ]) {
        it(`refuses CLI ${cli}, naming the release to install and why`, async function () {
            await assert.rejects(
                requireCli(range, () => Promise.reject(new Error(answer))),
                (err: Error) =>
                    err.message.includes(`needs the Pulumi CLI ${leastRelease(range)} or later`) &&
                    err.message.includes("pulumi/pulumi#22119") &&
                    err.message.includes(answer) &&
                    err.message.includes(`sh -s -- --version ${leastRelease(range)}`),
            );
        });
    }

    it("reads only a lower bound", function () {
        assert.throws(() => leastRelease("^3.226.0"), /requiredPulumiVersion "\^3.226.0" is not a ">=X.Y.Z" range/);
    });
});
