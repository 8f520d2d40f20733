// How the shared load balancer sends a request to a public service: by its
// route (paths and/or hosts), as a listener rule with a priority of its own.
// The rules' limits are Elastic Load Balancing's ("Listener rules for your
// Application Load Balancer", and its quotas: 5 condition values and 5
// wildcards per rule, 3 values per condition, 128 characters each, priorities
// 1 to 50000, no two rules of a listener with one priority).
import { createHash } from "crypto";

/** How long the load balancer keeps an idle connection to a client or a task. A service's keep-alive must outlast it (README). */
export const loadBalancerIdleTimeoutSeconds = 60;

/**
 * A load balancer's and a target group's name: at most 32 characters (Elastic Load Balancing API
 * Reference, CreateLoadBalancer and CreateTargetGroup, "Name"); the provider auto-names both under
 * that cap, and a logical name too long for it fails the preview.
 */
export const loadBalancerNameMaxLength = 32;

/** Which requests a public service takes. None: every request no other service's route takes (the listener's default). */
export interface Route {
    /** Path patterns, such as /api/* ("*" and "?" are wildcards; case-sensitive). */
    paths?: string[];
    /** Host names, such as api.example.com or *.example.com. */
    hosts?: string[];
    /**
     * The rule's priority, 1 (first) to 50000. None: one computed from the route and the service's
     * name alone, so that adding or removing another service never moves it; more specific paths
     * come first.
     */
    priority?: number;
}

export const maxPriority = 50_000;
const pathPattern = /^\/[A-Za-z0-9_\-.$/~"'@:+&*?]*$/;
const hostPattern = /^[A-Za-z0-9\-.*?]+$/;

/** Why a route cannot be a listener rule, one line each, each naming the field (none: it can). */
export function routeProblems(route: Route): string[] {
    const problems: string[] = [];
    const paths = route.paths ?? [];
    const hosts = route.hosts ?? [];
    if (paths.length === 0 && hosts.length === 0) problems.push("route: names no path and no host (leave route out to take every request)");
    for (const [field, values, pattern, example] of [
        ["paths", paths, pathPattern, "/api/*"],
        ["hosts", hosts, hostPattern, "api.example.com"],
    ] as const) {
        if (values.length > 3) problems.push(`route.${field}: ${values.length} values; a rule's condition takes 3 at most`);
        for (const v of values) {
            if (v.length > 128) problems.push(`route.${field} ${JSON.stringify(v)}: ${v.length} characters, 128 at most`);
            else if (!pattern.test(v))
                problems.push(`route.${field} ${JSON.stringify(v)}: not a pattern the load balancer takes, such as ${example}`);
        }
        if (new Set(values).size !== values.length) problems.push(`route.${field}: names one value twice`);
    }
    if (paths.length + hosts.length > 5) problems.push(`route: ${paths.length + hosts.length} condition values; a rule takes 5 at most`);
    const wildcards = [...paths, ...hosts].join("").replace(/[^*?]/g, "").length;
    if (wildcards > 5) problems.push(`route: ${wildcards} wildcards; a rule takes 5 at most`);
    if (route.priority !== undefined && (!Number.isInteger(route.priority) || route.priority < 1 || route.priority > maxPriority)) {
        problems.push(`route.priority ${route.priority}: an integer from 1 to ${maxPriority}`);
    }
    return problems;
}

/** The characters of a pattern before its first wildcard. */
function literalPrefix(pattern: string): number {
    const i = pattern.search(/[*?]/);
    return i === -1 ? pattern.length : i;
}

/**
 * A route's rule priority: its own, or one from its specificity and the service's name. The
 * range is cut into 200 bands of 250: a band for each length of the route's broadest path's
 * literal prefix (the longer, the earlier), hosts before no hosts; within a band, a hash of the
 * name picks the place. It depends on nothing else, so it never moves when services come or go.
 */
export function routePriority(service: string, route: Route): number {
    if (route.priority !== undefined) return route.priority;
    const paths = route.paths ?? [];
    const specificity = Math.min(99, paths.length === 0 ? 0 : Math.min(...paths.map(literalPrefix)));
    const band = 2 * (99 - specificity) + ((route.hosts ?? []).length > 0 ? 0 : 1);
    const place = parseInt(createHash("sha256").update(service).digest("hex").slice(0, 8), 16) % 250;
    return band * 250 + place + 1;
}

/** A route's conditions, as a listener rule takes them. */
export function ruleConditions(route: Route): { pathPattern?: { values: string[] }; hostHeader?: { values: string[] } }[] {
    return [
        ...((route.hosts ?? []).length > 0 ? [{ hostHeader: { values: [...route.hosts!] } }] : []),
        ...((route.paths ?? []).length > 0 ? [{ pathPattern: { values: [...route.paths!] } }] : []),
    ];
}

/** Whether a request (host, path) matches a pattern as the load balancer matches it: * any characters, ? one. */
export function matchesPattern(pattern: string, value: string, caseSensitive: boolean): boolean {
    const source = pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${source}$`, caseSensitive ? "" : "i").test(value);
}

/** Whether a request matches a route: a host and a path condition both, where it has them (paths case-sensitive, hosts not). */
export function routeMatches(route: Route, host: string, path: string): boolean {
    const hosts = route.hosts ?? [];
    const paths = route.paths ?? [];
    return (
        (hosts.length === 0 || hosts.some((h) => matchesPattern(h, host.replace(/:\d+$/, ""), false))) &&
        (paths.length === 0 || paths.some((p) => matchesPattern(p, path, true)))
    );
}
