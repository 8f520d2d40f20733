// How the components name what they make. A child's logical name starts with
// its component's name (`calculator-lb`), so that two components of one kind
// live in one stack: the engine names a resource by its type, its parents'
// types and its logical name, never by its parent's name.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

/** What every component takes about its names. */
export interface NamingArgs {
    /**
     * The component was first deployed by a version of this program that named its children
     * without the component's name ("lb", "app", …). With this set, each child carries that name as
     * an alias, and the engine moves it to the new name instead of replacing it. Set it only on
     * the component those stacks made: two components carrying one alias would both claim it.
     */
    formerNames?: boolean;
}

/**
 * The longest service (component) name: its children's AWS names are auto-named from it, the
 * provider adding "-" and 7 random characters, and the tightest of those caps left is the access
 * logs' bucket's (63: `<name>-access-logs-xxxxxxx`) and the task roles' (64).
 */
export const serviceNameMaxLength = 40;
const serviceNamePattern = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

/** Why a service's name cannot name its AWS resources (none: it can). */
export function serviceNameProblems(name: string): string[] {
    const problems: string[] = [];
    if (!serviceNamePattern.test(name)) {
        problems.push(
            `name ${JSON.stringify(name)}: lowercase letters, digits and "-", starting with a letter and ending with a letter or digit (S3 and the load balancer take no other)`,
        );
    }
    if (name.length > serviceNameMaxLength) {
        problems.push(
            `name ${JSON.stringify(name)}: ${name.length} characters, at most ${serviceNameMaxLength} (its resources' AWS names hold it)`,
        );
    }
    return problems;
}

/** Characters the provider's auto-naming adds to a logical name: "-" and 7 random (pulumi-terraform-bridge AutoNameTransform). */
export const autoNameSuffixLength = 8;

/** A child the provider auto-names under a length cap of AWS's (a load balancer's or target group's 32). */
export interface CappedChild {
    child: string;
    awsMaxLength: number;
}

/** Makes a component's children: named `<component>-<child>`, parented to it, with their former names when asked. */
export class Children {
    constructor(
        readonly parent: pulumi.ComponentResource,
        private readonly component: string,
        private readonly formerNames = false,
    ) {}

    /**
     * `<component>-<child>`; for a capped child whose auto-name would not fit, the component's
     * name is cut and a short hash of it added (`<cut>-<hash>-<child>`), so that every valid
     * service name fits and two long ones stay apart. A name that fits is never changed.
     */
    name(child: string | CappedChild): string {
        if (typeof child === "string") return `${this.component}-${child}`;
        const full = `${this.component}-${child.child}`;
        const room = child.awsMaxLength - autoNameSuffixLength;
        if (full.length <= room) return full;
        const hash = createHash("sha256").update(this.component).digest("hex").slice(0, 4);
        const cut = this.component.slice(0, room - child.child.length - hash.length - 2).replace(/-+$/, "");
        return `${cut}-${hash}-${child.child}`;
    }

    opts<O extends pulumi.ResourceOptions>(child: string | CappedChild, extra?: O): O {
        const former = typeof child === "string" ? child : child.child;
        return {
            ...(extra as O),
            parent: this.parent,
            aliases: [...(extra?.aliases ?? []), ...(this.formerNames ? [{ name: former }] : [])],
        };
    }

    /** `new ctor("<component>-<child>", args, opts)` */
    make<A, R, O extends pulumi.ResourceOptions>(
        ctor: new (name: string, args: A, opts?: O) => R,
        child: string | CappedChild,
        args: A,
        extra?: O,
    ): R {
        return new ctor(this.name(child), args, this.opts(child, extra));
    }
}

/**
 * A name AWS takes where only letters, digits, "-" and "_" are allowed, up to 255 (task families,
 * dashboards); Pulumi stack names may also hold ".". Another character becomes "-", and a short
 * hash of the name then keeps "a.b" and "a-b" apart.
 */
export function awsSafeName(name: string): string {
    const safe = name.replace(/[^A-Za-z0-9_-]/g, "-");
    if (safe === name && name.length <= 255) return name;
    return `${safe.slice(0, 247)}-${createHash("sha256").update(name).digest("hex").slice(0, 7)}`;
}

/**
 * The IAM path of the roles a project's stacks make when they carry a permissions boundary: the CI
 * identities' deploy roles may make, tag and pass roles under it only.
 */
export function rolePath(project: string): string {
    return `/${project}/`;
}
