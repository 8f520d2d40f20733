// The service's own name: its Route 53 hosted zone and an ACM certificate for
// it, validated by a DNS record in that zone (or one the user already has).
// The alias record to the load balancer is made with the load balancer.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { Children, NamingArgs, componentAliases } from "./naming";

export interface ServiceDomainArgs extends NamingArgs {
    /** For messages that name the stack's settings. */
    project: string;
    /** calc.example.com */
    domainName: string;
    /** The zone that holds domainName; undefined looks it up by the domain's parent name. */
    hostedZoneId?: string;
    /** A certificate the user has; undefined requests one. */
    certificateArn?: string;
}

/** The region an ACM certificate ARN names: arn:aws:acm:REGION:ACCOUNT:certificate/ID. */
export function certificateRegion(arn: string): string {
    return arn.split(":")[3];
}

/** The stacks the pull-request workflow makes: `pr-<number>`, short-lived, with the dev stack's configuration. */
export function isPullRequestStack(stack: string): boolean {
    return /^pr-\d+$/.test(stack);
}

/**
 * The name a stack serves. A pull request's stack carries dev's `domainName`, and serving that name
 * itself would write dev's alias record (refused: it exists) and dev's certificate-validation
 * record, which its destroy would then delete: it serves `pr-<number>.<domainName>` instead, with
 * records and a certificate of its own (AWS Copilot names an environment's services the same way).
 */
export function stackDomainName(domainName: string, stack: string): string {
    return isPullRequestStack(stack) ? `${stack}.${domainName}` : domainName;
}

/** The names a hosted zone for a domain can have, the most specific first: a.b.example.com, b.example.com, example.com. */
export function zoneCandidates(domainName: string): string[] {
    const labels = domainName.split(".");
    return labels.slice(0, -1).map((_, i) => labels.slice(i).join("."));
}

/** Whether a DNS name is the zone's own or a name within it. */
export function inZone(domainName: string, zoneName: string): boolean {
    const zone = zoneName.replace(/\.$/, "").toLowerCase();
    return domainName === zone || domainName.endsWith(`.${zone}`);
}

export class ServiceDomain extends pulumi.ComponentResource {
    readonly domainName: string;
    readonly zoneId: pulumi.Output<string>;
    /** Usable by a listener: validated, in the stack's region. */
    readonly certificateArn: pulumi.Output<string>;

    constructor(name: string, args: ServiceDomainArgs, opts?: pulumi.ComponentResourceOptions) {
        super("calculator:index:ServiceDomain", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), ...componentAliases(args)] });
        const parent = { parent: this };
        const c = new Children(this, name, args);
        const key = (k: string) => `${args.project}:${k}`;
        this.domainName = args.domainName;
        const zone = pulumi.output(args.hostedZoneId ? namedZone(args.hostedZoneId) : closestPublicZone());
        this.zoneId = zone.apply((z) => {
            if (!inZone(args.domainName, z.name)) {
                throw new Error(
                    `${key("domainName")} ${args.domainName} is not in the hosted zone ${z.name} (${z.zoneId}) named by ${key("hostedZoneId")}`,
                );
            }
            return z.zoneId;
        });

        async function namedZone(zoneId: string): Promise<aws.route53.GetZoneResult> {
            const z = await aws.route53.getZone({ zoneId }, parent).catch((err: Error) => {
                throw new Error(`${key("hostedZoneId")}: no hosted zone ${zoneId} in this account (${err.message})`);
            });
            // ACM looks the validation record up in public DNS: in a private zone it is never found,
            // and the certificate waits until validation times out.
            if (z.privateZone) {
                throw new Error(
                    `${key("hostedZoneId")} ${zoneId} (${z.name}) is a private hosted zone; the certificate is validated through public DNS, so name a public zone that holds ${args.domainName}`,
                );
            }
            return z;
        }

        // The most specific public zone that holds the name: the name's own zone, then each parent's in turn.
        async function closestPublicZone(): Promise<aws.route53.GetZoneResult> {
            const names = zoneCandidates(args.domainName);
            for (const name of names) {
                const z = await aws.route53.getZone({ name, privateZone: false }, parent).catch(() => undefined);
                if (z) return z;
            }
            throw new Error(
                `${key("domainName")}: no public hosted zone in this account holds ${args.domainName} (looked for ${names.join(", ")}); set ${key("hostedZoneId")} to the zone that does`,
            );
        }

        if (args.certificateArn) {
            const arn = args.certificateArn;
            // A load balancer takes certificates from its own region only.
            this.certificateArn = aws.getRegionOutput({}, parent).region.apply((region) => {
                if (certificateRegion(arn) !== region) {
                    throw new Error(
                        `${key("certificateArn")} is in ${certificateRegion(arn)}, but the stack is in ${region}: a load balancer takes certificates from its own region only; request or import one there (aws acm request-certificate --region ${region}), or leave certificateArn empty to have the stack make one`,
                    );
                }
                return arn;
            });
        } else {
            const certificate = c.make(aws.acm.Certificate, "certificate", { domainName: args.domainName, validationMethod: "DNS" });
            // One name, so one validation record.
            const option = certificate.domainValidationOptions.apply((o) => o[0]);
            const record = c.make(aws.route53.Record, "certificate-validation", {
                zoneId: this.zoneId,
                name: option.resourceRecordName,
                type: option.resourceRecordType,
                records: [option.resourceRecordValue],
                ttl: 60,
                allowOverwrite: true, // ACM gives the same record to every certificate for the name
            });
            const validation = c.make(aws.acm.CertificateValidation, "certificate", {
                certificateArn: certificate.arn,
                validationRecordFqdns: [record.fqdn],
            });
            this.certificateArn = validation.certificateArn;
        }
        this.registerOutputs({ zoneId: this.zoneId, certificateArn: this.certificateArn });
    }
}
