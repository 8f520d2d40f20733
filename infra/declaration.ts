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
import { Container, containerProblems } from "./service";

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
     * The service was first deployed by a version of this program whose components named their
     * children without the component's name: they then keep those names as aliases (NamingArgs).
     * Only the calculator's stacks need it; a service of your own leaves it out.
     */
    formerNames?: boolean;
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
    const problems = [...serviceNameProblems(d.name), ...containerProblems(d.container).map((p) => `container.${p}`)];
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
