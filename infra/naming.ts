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

/** Makes a component's children: named `<component>-<child>`, parented to it, with their former names when asked. */
export class Children {
    constructor(
        readonly parent: pulumi.ComponentResource,
        private readonly component: string,
        private readonly formerNames = false,
    ) {}

    name(child: string): string {
        return `${this.component}-${child}`;
    }

    opts<O extends pulumi.ResourceOptions>(child: string, extra?: O): O {
        return {
            ...(extra as O),
            parent: this.parent,
            aliases: [...(extra?.aliases ?? []), ...(this.formerNames ? [{ name: child }] : [])],
        };
    }

    /** `new ctor("<component>-<child>", args, opts)` */
    make<A, R, O extends pulumi.ResourceOptions>(ctor: new (name: string, args: A, opts?: O) => R, child: string, args: A, extra?: O): R {
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
