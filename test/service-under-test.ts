// The service the platform's tests deploy: the one infra/services.ts names, by
// its declaration. The platform's tests take its name, port, health path and
// user from here, never from literals, so that they hold for whichever
// service a team runs (rename it, change its port or health path, and they
// still pass). The calculator's own tests live with it, in app/test/.
import { kindOf } from "../infra/declaration";
import { sharedName } from "../infra/environment";
import { readProject } from "../infra/project";
import { services } from "../infra/services";

/** The first public service the stack declares: the platform's tests reach it through the load balancer. */
export const service = services.find((d) => kindOf(d) === "public") ?? services[0];

/** The service's name, which its components' logical names and AWS names start with. */
export const svcName = service.name;

/** The project's name, as Pulumi.yaml gives it (config keys, dashboards, IAM paths hold it). */
export const projectName = readProject().name;

/** A child's logical name, as the service's components name it: `<service>-<child>`. */
export function named(child: string): string {
    return `${service.name}-${child}`;
}

/** The declared port, health path and user. */
export const port = service.container.port!;
export const healthPath = service.container.healthCheckPath!;

/** `s` with the regular expression characters escaped, to build a pattern around a name. */
export function escaped(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The name the stack gives what its services share (its network, load balancer, cluster). */
export { sharedName };

/** A shared child's logical name: `shared-<child>`. */
export function shared(child: string): string {
    return `${sharedName}-${child}`;
}
