// The calculator's declaration: what the platform needs to know of this
// service to build, deploy and run it (infra/declaration.ts). It is the
// calculator's own: a team that replaces the calculator deletes app/ with it
// and names its own service's declaration in infra/services.ts.
import { ServiceDeclaration } from "../infra/declaration";
import { loadBalancerIdleTimeoutSeconds } from "../infra/service";

export const calculator: ServiceDeclaration = {
    name: "calculator",
    dir: __dirname,
    target: "runtime",
    singleStageDockerfile: "Dockerfile.single",
    // The stacks made before components named their children from their own name.
    formerNames: true,
    container: {
        port: 8080,
        healthCheckPath: "/healthz",
        // The image has no shell: the binary probes itself.
        healthCheckCommand: ["CMD", "/app", "healthcheck"],
        user: "65532:65532", // the image's nonroot user
        // ECS waits this long after SIGTERM before SIGKILL: above the drain (SHUTDOWN_TIMEOUT).
        stopTimeoutSeconds: 30,
        environment: {
            SHUTDOWN_TIMEOUT: "20s",
            // A keep-alive connection outlasts the load balancer's, or the load balancer may send a
            // request on one the task is closing and answer 502 (AWS: "Connection idle timeout").
            IDLE_TIMEOUT: `${loadBalancerIdleTimeoutSeconds + 5}s`,
        },
        secrets: {},
        protocolVersion: "HTTP1", // the service is built without net/http's HTTP/2
        readonlyRootFilesystem: true,
    },
};
