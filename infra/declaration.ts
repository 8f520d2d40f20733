// What a service declares about itself, once: its folder, the image it
// builds and the contract its container keeps with the task and the load
// balancer. A service's declaration lives in its own folder (the calculator's
// in app/service.ts), so that a team deleting the folder deletes it too; the
// stack names the services it runs in infra/services.ts. The stack's config
// may override a contract value only where a team sets the key (containerPort).
import { Container } from "./service";

export interface ServiceDeclaration {
    /** The service's name: its components' and AWS resources' names hold it (lowercase, digits, "-"; 40 at most). */
    name: string;
    /** Its folder, the Docker build context (absolute). */
    dir: string;
    /** The Dockerfile stage deployed; none: the Dockerfile's last. */
    target?: string;
    /**
     * A single-stage Dockerfile in the folder, built beside the image when the stack sets
     * compareSingleStage, to show what the multi-stage build saves; none: the stack cannot set it.
     */
    singleStageDockerfile?: string;
    /** The container's contract: port, health path, user, drain, its own settings. */
    container: Container;
    /**
     * The service was first deployed by a version of this program whose components named their
     * children without the component's name: they then keep those names as aliases (NamingArgs).
     * Only the calculator's stacks need it; a service of your own leaves it out.
     */
    formerNames?: boolean;
}
