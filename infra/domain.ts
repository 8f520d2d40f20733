// The service's own name: its Route 53 hosted zone and an ACM certificate for
// it, validated by a DNS record in that zone (or one the user already has).
// The alias record to the load balancer is made with the load balancer.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ServiceDomainArgs {
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
        super("calculator:index:ServiceDomain", name, {}, opts);
        const parent = { parent: this };
        const key = (k: string) => `${args.project}:${k}`;
        this.domainName = args.domainName;
        const parentName = args.domainName.slice(args.domainName.indexOf(".") + 1);
        const zone = pulumi.output(
            (args.hostedZoneId
                ? aws.route53.getZone({ zoneId: args.hostedZoneId }, parent)
                : aws.route53.getZone({ name: parentName, privateZone: false }, parent)
            ).catch((err: Error) => {
                throw new Error(
                    args.hostedZoneId
                        ? `${key("hostedZoneId")}: no hosted zone ${args.hostedZoneId} in this account (${err.message})`
                        : `${key("domainName")}: no public hosted zone ${parentName} in this account to hold ${args.domainName} (${err.message}); set ${key("hostedZoneId")} to the zone that does`,
                );
            }),
        );
        this.zoneId = zone.apply((z) => {
            if (!inZone(args.domainName, z.name)) {
                throw new Error(
                    `${key("domainName")} ${args.domainName} is not in the hosted zone ${z.name} (${z.zoneId}) named by ${key("hostedZoneId")}`,
                );
            }
            return z.zoneId;
        });

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
            const certificate = new aws.acm.Certificate("certificate", { domainName: args.domainName, validationMethod: "DNS" }, parent);
            // One name, so one validation record.
            const option = certificate.domainValidationOptions.apply((o) => o[0]);
            const record = new aws.route53.Record(
                "certificate-validation",
                {
                    zoneId: this.zoneId,
                    name: option.resourceRecordName,
                    type: option.resourceRecordType,
                    records: [option.resourceRecordValue],
                    ttl: 60,
                    allowOverwrite: true, // ACM gives the same record to every certificate for the name
                },
                parent,
            );
            const validation = new aws.acm.CertificateValidation(
                "certificate",
                { certificateArn: certificate.arn, validationRecordFqdns: [record.fqdn] },
                parent,
            );
            this.certificateArn = validation.certificateArn;
        }
        this.registerOutputs({ zoneId: this.zoneId, certificateArn: this.certificateArn });
    }
}
