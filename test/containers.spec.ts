// engine spec: The engine specs' clean-up: every container a spec starts is removed by its
// last hook, whichever test failed and however far the start got, and the
// clean-up itself never throws (a hook that throws hides the test's failure).
import { strict as assert } from "assert";

import { Containers, docker, dockerEnv } from "../scripts/lib/docker";

describe("test support: the containers a spec starts (real Docker engine)", function () {
    this.timeout(60_000);
    const name = (what: string) => `containers-spec-${process.pid}-${what}`;
    const exists = async (n: string) => (await docker(["ps", "--all", "--quiet", "--filter", `name=^${n}$`])).trim() !== "";

    it("removes a running one, one whose start failed, and one already gone, without throwing", async function () {
        const { goImage } = dockerEnv();
        const containers = new Containers();
        await containers.run(name("running"), ["--network", "none", goImage, "sleep", "300"]);
        // A start that fails after docker run has taken the name (the image's command does not exist).
        await assert.rejects(containers.run(name("failed"), ["--network", "none", goImage, "/no/such/command"]));
        // One the test removed itself.
        await containers.run(name("gone"), ["--network", "none", goImage, "sleep", "300"]);
        await docker(["rm", "--force", name("gone")]);

        const removed = await containers.removeAll();
        for (const n of ["running", "failed"]) assert.ok(removed.includes(name(n)), `${n} was not removed: ${removed.join(", ")}`);
        for (const n of ["running", "failed", "gone"]) assert.equal(await exists(name(n)), false, `${n} is left`);
        assert.deepEqual(await containers.removeAll(), [], "a second clean-up has nothing to do, and does not throw");
        assert.equal(await containers.remove(undefined), false, "a container that never got a name");
    });
});
