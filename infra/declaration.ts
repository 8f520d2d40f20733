// What a service declares about itself, once: its folder, the image it
// builds and the contract its container keeps with the task and the load
// balancer. A service's declaration lives in its own folder (the calculator's
// in app/service.ts), so that a team deleting the folder deletes it too; the
// stack names the services it runs in infra/services.ts. The stack's config
// may override a contract value only where a team sets the key (containerPort).
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";

import { serviceNameProblems } from "./naming";
import { Route, routePriority } from "./routing";
import { Container, ServiceKind, containerProblems, kindProblems } from "./service";

export interface ServiceDeclaration {
    /** The service's name: its components' and AWS resources' names hold it (lowercase, digits, "-"; 40 at most). */
    name: string;
    /** Its folder, the Docker build context (absolute): a Go module (go.mod with a toolchain line) and its Dockerfile. */
    dir: string;
    /** The Dockerfile stage deployed; none: the Dockerfile's last. */
    target?: string;
    /** Where the deployed stage holds the service's Go binary, which the workflows' govulncheck scans; default /app. */
    binary?: string;
    /**
     * A single-stage Dockerfile in the folder, built beside the image when the stack sets
     * compareSingleStage, to show what the multi-stage build saves; none: the stack cannot set it.
     */
    singleStageDockerfile?: string;
    /** The container's contract: port, health path, user, drain, its own settings. */
    container: Container;
    /**
     * public (default): reached through the stack's load balancer, by its route; internal: reached
     * by the stack's services that call it only, at http://NAME:PORT; worker: reached by none (no port).
     */
    kind?: ServiceKind;
    /** A public service's route: paths and/or hosts. None: every request no other service's route takes. */
    route?: Route;
    /**
     * The internal services it calls, by name: its tasks may reach each one's port, and find it at
     * NAME_URL (http://NAME:PORT, NAME in capitals with "_" for "-").
     */
    calls?: string[];
    /**
     * The service was first deployed by a version of this program whose components named their
     * children without the component's name: they then keep those names as aliases (NamingArgs).
     * Only the calculator's stacks need it; a service of your own leaves it out.
     */
    formerNames?: boolean;
}

/** A declaration's kind: public unless it says otherwise. */
export function kindOf(d: ServiceDeclaration): ServiceKind {
    return d.kind ?? "public";
}

/** The variable a caller finds an internal service at: NAME_URL. */
export function urlVariable(service: string): string {
    return `${service.toUpperCase().replace(/-/g, "_")}_URL`;
}

/** The address a caller reaches an internal service at, on ECS (Service Connect's client alias) and under npm start. */
export function internalUrl(name: string, port: number | undefined): string {
    return `http://${name}:${port}`;
}

/** The binary's path in the deployed stage. */
export function binaryPath(d: ServiceDeclaration): string {
    return d.binary ?? "/app";
}

/**
 * What stops a declared service from being built and deployed, each naming the field or file
 * (the program refuses it at preview; `npm run lint` checks it too). What the platform needs of a
 * service's folder: a Dockerfile whose builder image is `ARG GO_IMAGE` (offline builders pass
 * their own), with the declared stage; a go.mod whose toolchain line pins the Go it builds with.
 */
export function declarationProblems(d: ServiceDeclaration): string[] {
    const problems = [
        ...serviceNameProblems(d.name),
        ...containerProblems(d.container).map((p) => `container.${p}`),
        ...kindProblems({ kind: kindOf(d), route: d.route, container: d.container }),
    ];
    if (!path.isAbsolute(d.dir) || !fs.existsSync(d.dir)) {
        return [...problems, `dir ${JSON.stringify(d.dir)}: not a folder here (write dir: __dirname in the folder's declaration)`];
    }
    const dockerfile = path.join(d.dir, "Dockerfile");
    if (!fs.existsSync(dockerfile)) {
        problems.push(`dir: ${dockerfile} is missing (the service's image is built from it)`);
    } else {
        const text = fs.readFileSync(dockerfile, "utf8");
        const stages = [...text.matchAll(/^\s*FROM\s+(?:--platform=\S+\s+)?\S+\s+AS\s+(\S+)\s*$/gim)].map((m) => m[1].toLowerCase());
        if (d.target !== undefined && !stages.includes(d.target.toLowerCase())) {
            problems.push(
                `target ${JSON.stringify(d.target)}: ${dockerfile} has no stage of that name (it has ${stages.join(", ") || "no named stage"})`,
            );
        }
        if (!/^\s*ARG\s+GO_IMAGE(=|\s|$)/m.test(text) || !/^\s*FROM\s+(--platform=\S+\s+)?\$\{?GO_IMAGE\}?[\s]/im.test(text)) {
            problems.push(
                `dir: ${dockerfile} must take its Go builder image from ARG GO_IMAGE (ARG GO_IMAGE=golang:<version> before the first FROM, then FROM \${GO_IMAGE} AS ...): an offline builder passes its own (GO_IMAGE), and a fixed FROM golang:... is pulled from Docker Hub`,
            );
        }
    }
    if (d.singleStageDockerfile !== undefined && !fs.existsSync(path.join(d.dir, d.singleStageDockerfile))) {
        problems.push(`singleStageDockerfile ${JSON.stringify(d.singleStageDockerfile)}: no such file in ${d.dir}`);
    }
    const goMod = path.join(d.dir, "go.mod");
    if (!fs.existsSync(goMod)) problems.push(`dir: ${goMod} is missing (the platform builds Go services)`);
    else if (!/^toolchain go\d+\.\d+\.\d+\s*$/m.test(fs.readFileSync(goMod, "utf8"))) {
        problems.push(`dir: ${goMod} has no toolchain line (toolchain goX.Y.Z): the one place the service's Go is pinned`);
    }
    if (d.binary !== undefined && !d.binary.startsWith("/"))
        problems.push(`binary ${JSON.stringify(d.binary)}: an absolute path in the image`);
    return problems;
}

/** A declaration's problems as `pulumi preview` shows them (a RunError: the message alone), naming the service and its folder. */
export class DeclarationError extends pulumi.RunError {
    constructor(
        d: ServiceDeclaration,
        readonly problems: string[],
    ) {
        const where = path.relative(path.join(__dirname, ".."), d.dir) || ".";
        super(
            `the service ${d.name} (declared in ${where}/) cannot be deployed (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}`,
        );
        this.name = "DeclarationError";
    }
}

/**
 * What stops a stack's services from running together, each naming the service and the field: two
 * of one name, two on one route (or two taking every request), two rules of one priority (the
 * load balancer refuses them), a call to a service that is not an internal one of the stack, an
 * internal service that nothing calls.
 */
export function environmentProblems(services: readonly ServiceDeclaration[]): string[] {
    const problems: string[] = [];
    if (services.length === 0) problems.push("infra/services.ts declares no service");
    const byName = new Map<string, ServiceDeclaration>();
    for (const d of services) {
        if (byName.has(d.name)) problems.push(`${d.name}: two services of this name`);
        byName.set(d.name, d);
    }
    const publicOnes = services.filter((d) => kindOf(d) === "public");
    const defaults = publicOnes.filter((d) => d.route === undefined);
    if (defaults.length > 1) {
        problems.push(
            `${defaults.map((d) => d.name).join(" and ")}: each has no route, so each would take every request; give all but one a route (paths or hosts)`,
        );
    }
    const routeKey = (r: Route) => JSON.stringify([[...(r.hosts ?? [])].sort(), [...(r.paths ?? [])].sort()]);
    const byRoute = new Map<string, string>();
    const byPriority = new Map<number, string>();
    for (const d of publicOnes) {
        if (!d.route) continue;
        const key = routeKey(d.route);
        const same = byRoute.get(key);
        if (same) problems.push(`${d.name}.route: the same paths and hosts as ${same}'s; the load balancer would send them all to one`);
        byRoute.set(key, d.name);
        const priority = routePriority(d.name, d.route);
        const taken = byPriority.get(priority);
        if (taken) {
            problems.push(
                `${d.name}.route.priority: ${priority}, as ${taken}'s (a listener takes one rule of a priority); set route.priority on one of them`,
            );
        }
        byPriority.set(priority, d.name);
    }
    const called = new Set<string>();
    for (const d of services) {
        for (const target of d.calls ?? []) {
            const t = byName.get(target);
            if (target === d.name) problems.push(`${d.name}.calls: names the service itself`);
            else if (!t)
                problems.push(
                    `${d.name}.calls: ${target} is not a service of this stack (infra/services.ts lists ${[...byName.keys()].join(", ")})`,
                );
            else if (kindOf(t) !== "internal") {
                problems.push(
                    `${d.name}.calls: ${target} is ${kindOf(t) === "worker" ? "a worker, which nothing calls" : "public: call it at its URL, through the load balancer"}; only an internal service is called by name`,
                );
            } else called.add(target);
        }
        if (new Set(d.calls ?? []).size !== (d.calls ?? []).length) problems.push(`${d.name}.calls: names a service twice`);
    }
    for (const d of services.filter((s) => kindOf(s) === "internal" && !called.has(s.name))) {
        problems.push(
            `${d.name}: an internal service that no service calls (nothing could reach it); name it in a caller's calls, or make it public`,
        );
    }
    return problems;
}
