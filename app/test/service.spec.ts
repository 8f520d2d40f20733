// The calculator's declaration (app/service.ts): the values its own code needs to drain
// without losing a request, checked against what the platform gives its task.
import { strict as assert } from "assert";

import { declarationProblems } from "../../infra/declaration";
import { loadBalancerIdleTimeoutSeconds } from "../../infra/service";
import { calculator } from "../service";

const seconds = (d: string) => {
    const m = /^(\d+)s$/.exec(d);
    assert.ok(m, `${d} is not a whole number of seconds`);
    return Number(m[1]);
};

describe("the calculator's declaration", function () {
    it("is one the platform can build and deploy", function () {
        assert.deepEqual(declarationProblems(calculator), []);
    });

    it("keeps idle connections open longer than the load balancer does (else a reused connection gets a 502)", function () {
        assert.ok(seconds(calculator.container.environment.IDLE_TIMEOUT) > loadBalancerIdleTimeoutSeconds);
    });

    it("drains within the stop timeout ECS gives it before SIGKILL, which Fargate caps at 120 s", function () {
        const drain = seconds(calculator.container.environment.SHUTDOWN_TIMEOUT);
        assert.ok(calculator.container.stopTimeoutSeconds > drain);
        assert.ok(calculator.container.stopTimeoutSeconds <= 120);
    });

    it("probes itself with its binary (the image has no shell), as the nonroot user of its image", function () {
        assert.deepEqual(calculator.container.healthCheckCommand, ["CMD", "/app", "healthcheck"]);
        assert.equal(calculator.container.user, "65532:65532");
        assert.equal(calculator.container.healthCheckPath, "/healthz");
    });
});
