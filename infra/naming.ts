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
    /**
     * Names the component had before (a stack's shared parts were once named after its one
     * service): the component is aliased to each, and each child to `<former>-<child>`.
     */
    formerComponentNames?: string[];
    /**
     * Components that once held this component's children (a stack's one service's component held
     * its load balancer and cluster): each child is aliased to the name it had there.
     */
    formerParents?: FormerParent[];
}

/** A component a child was once made in: its URN, its name, and whether it named its children without it. */
export interface FormerParent {
    urn: string;
    name: string;
    formerNames?: boolean;
}

/** The URN of a component made at the stack's root, as the engine forms it (sdk/go/common/resource/alias.go, CreateURN). */
export function rootUrn(type: string, name: string): string {
    return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${type}::${name}`;
}

/** The component's own aliases: its former names. */
export function componentAliases(args: NamingArgs): pulumi.Alias[] {
    return (args.formerComponentNames ?? []).map((name) => ({ name }));
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
        private readonly naming: NamingArgs = {},
    ) {}

    /** A child's logical name in this component: see childName. */
    name(child: string | CappedChild): string {
        return childName(this.component, child);
    }

    opts<O extends pulumi.ResourceOptions>(child: string | CappedChild, extra?: O): O {
        const bare = typeof child === "string" ? child : child.child;
        const { formerNames, formerComponentNames = [], formerParents = [] } = this.naming;
        const aliases: pulumi.Input<pulumi.Alias | string>[] = [
            ...(formerNames ? [{ name: bare }] : []),
            ...formerComponentNames.map((former) => ({ name: childName(former, child) })),
            // A child that moved here from another component: its name there, under that component.
            ...formerParents.flatMap((p) => [
                { name: childName(p.name, child), parent: p.urn },
                ...(p.formerNames ? [{ name: bare, parent: p.urn }] : []),
            ]),
        ];
        return { ...(extra as O), parent: this.parent, aliases: [...(extra?.aliases ?? []), ...aliases] };
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
 * `<component>-<child>`; for a capped child whose auto-name would not fit, the component's name is
 * cut and a short hash of it added (`<cut>-<hash>-<child>`), so that every valid service name fits
 * and two long ones stay apart. A name that fits is never changed.
 */
export function childName(component: string, child: string | CappedChild): string {
    if (typeof child === "string") return `${component}-${child}`;
    const full = `${component}-${child.child}`;
    const room = child.awsMaxLength - autoNameSuffixLength;
    if (full.length <= room) return full;
    const hash = createHash("sha256").update(component).digest("hex").slice(0, 4);
    const cut = component.slice(0, room - child.child.length - hash.length - 2).replace(/-+$/, "");
    return `${cut}-${hash}-${child.child}`;
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
