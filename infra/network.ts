// Where the load balancer and the tasks live: the account's default VPC, a new
// VPC, or a VPC the user already has. Only availability zones where Fargate
// runs are used, and everything is checked before anything is made.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { Children, NamingArgs, componentAliases } from "./naming";

/** Where the stack runs: the account's default VPC, a new one, or one the team has. */
export type VpcMode = "default" | "new" | "existing";

export interface NetworkArgs extends NamingArgs {
    /** For messages that name the stack's settings. */
    project: string;
    vpc: VpcMode;
    vpcId?: string;
    publicSubnetIds: string[];
    privateSubnetIds: string[];
    natGateway: boolean;
}

export const newVpcCidr = "10.0.0.0/16";
export const newPublicSubnetCidrs = ["10.0.0.0/20", "10.0.16.0/20"];
export const newPrivateSubnetCidrs = ["10.0.128.0/20", "10.0.144.0/20"];

/**
 * Regions where Fargate runs Linux tasks in some availability zones only, by
 * zone ID (AWS ECS Developer Guide, "Supported Regions for Amazon ECS on AWS
 * Fargate"). Zone IDs name the same zone in every account; zone names do not.
 */
export const fargateZoneIds: Record<string, string[]> = {
    "us-west-1": ["usw1-az1", "usw1-az3"],
    "ap-northeast-1": ["apne1-az1", "apne1-az2", "apne1-az4"],
    "cn-north-1": ["cnn1-az1", "cnn1-az2"],
};

/** The zones (name and ID) of a region where Fargate runs tasks. */
export function fargateZones(region: string, zones: { names: string[]; zoneIds: string[] }): { name: string; zoneId: string }[] {
    const only = fargateZoneIds[region];
    return zones.names.map((name, i) => ({ name, zoneId: zones.zoneIds[i] })).filter((z) => !only || only.includes(z.zoneId));
}

export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    /** Where the load balancer is: public subnets in two zones or more. */
    readonly loadBalancerSubnetIds: pulumi.Output<string[]>;
    /** Where the tasks run. */
    readonly taskSubnetIds: pulumi.Output<string[]>;
    /** Whether the tasks need a public IP to reach ECR and CloudWatch Logs (no NAT gateway or endpoints behind them). */
    readonly tasksNeedPublicIp: boolean;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("calculator:index:Network", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), ...componentAliases(args)] });
        const parent = { parent: this };
        const c = new Children(this, name, args);
        const key = (k: string) => `${args.project}:${k}`;
        const region = aws.getRegionOutput({}, parent).region;
        // Availability zones proper (no Local or Wavelength Zones), where Fargate runs.
        const zones = pulumi
            .all([
                region,
                aws.getAvailabilityZonesOutput(
                    { state: "available", filters: [{ name: "zone-type", values: ["availability-zone"] }] },
                    parent,
                ),
            ])
            .apply(([r, z]) => fargateZones(r, z));

        if (args.vpc === "default") {
            // Landing zones often delete the default VPC; getVpc would fail with "no matching EC2 VPC found".
            const vpcs = aws.ec2.getVpcsOutput({ filters: [{ name: "is-default", values: ["true"] }] }, parent);
            this.vpcId = pulumi.all([vpcs.ids, region]).apply(([ids, r]) => {
                if (ids.length === 0) {
                    throw new Error(
                        `${key("vpc")} is "default", but this account has no default VPC in ${r}. Set ${key("vpc")} to "new" (the stack makes a VPC), or to "existing" with ${key("vpcId")} and ${key("publicSubnetIds")}.`,
                    );
                }
                return ids[0];
            });
            const subnets = aws.ec2.getSubnetsOutput(
                {
                    filters: [
                        { name: "vpc-id", values: [this.vpcId] },
                        { name: "default-for-az", values: ["true"] },
                        { name: "availability-zone-id", values: zones.apply((zs) => zs.map((z) => z.zoneId)) },
                    ],
                },
                parent,
            );
            this.loadBalancerSubnetIds = pulumi.all([subnets.ids, region]).apply(([ids, r]) => {
                if (ids.length < 2) {
                    throw new Error(
                        `${key("vpc")} is "default", but its default VPC in ${r} has ${ids.length} default subnet(s) in zones where Fargate runs; the load balancer needs two. Set ${key("vpc")} to "new", or to "existing" with your own subnets.`,
                    );
                }
                return [...ids].sort();
            });
            this.taskSubnetIds = this.loadBalancerSubnetIds;
            this.tasksNeedPublicIp = true;
        } else if (args.vpc === "new") {
            const vpc = c.make(aws.ec2.Vpc, "vpc", { cidrBlock: newVpcCidr, enableDnsHostnames: true, enableDnsSupport: true });
            const gateway = c.make(aws.ec2.InternetGateway, "gateway", { vpcId: vpc.id });
            const publicRoutes = c.make(aws.ec2.RouteTable, "public", {
                vpcId: vpc.id,
                routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }],
            });
            const zoneName = (i: number) =>
                pulumi.all([zones, region]).apply(([zs, r]) => {
                    if (zs.length < 2) {
                        throw new Error(
                            `${key("vpc")} is "new", but ${r} has ${zs.length} availability zone(s) where Fargate runs; the load balancer needs two. Choose another region (aws:region).`,
                        );
                    }
                    return zs[i].name;
                });
            const subnet = (kind: "public" | "private", i: number, cidrBlock: string, routeTableId: pulumi.Input<string>) => {
                const s = c.make(aws.ec2.Subnet, `${kind}-${i + 1}`, {
                    vpcId: vpc.id,
                    cidrBlock,
                    availabilityZone: zoneName(i),
                    mapPublicIpOnLaunch: kind === "public",
                });
                c.make(aws.ec2.RouteTableAssociation, `${kind}-${i + 1}`, { subnetId: s.id, routeTableId });
                return s;
            };
            const publicSubnets = newPublicSubnetCidrs.map((cidr, i) => subnet("public", i, cidr, publicRoutes.id));
            this.vpcId = vpc.id;
            this.loadBalancerSubnetIds = pulumi.all(publicSubnets.map((s) => s.id));
            if (args.natGateway) {
                // One NAT gateway for both zones: a third of the price of one per zone; an
                // outage of its zone also cuts the other zone's tasks off from ECR and logs.
                const ip = c.make(aws.ec2.Eip, "nat", { domain: "vpc" });
                const nat = c.make(
                    aws.ec2.NatGateway,
                    "nat",
                    { subnetId: publicSubnets[0].id, allocationId: ip.id },
                    { dependsOn: [gateway] },
                );
                const privateRoutes = c.make(aws.ec2.RouteTable, "private", {
                    vpcId: vpc.id,
                    routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
                });
                const privateSubnets = newPrivateSubnetCidrs.map((cidr, i) => subnet("private", i, cidr, privateRoutes.id));
                this.taskSubnetIds = pulumi.all(privateSubnets.map((s) => s.id));
                this.tasksNeedPublicIp = false;
            } else {
                this.taskSubnetIds = this.loadBalancerSubnetIds;
                this.tasksNeedPublicIp = true;
            }
        } else {
            const vpcId = args.vpcId ?? "";
            const all = [...args.publicSubnetIds, ...args.privateSubnetIds];
            const taskSubnets = args.privateSubnetIds.length > 0 ? args.privateSubnetIds : args.publicSubnetIds;
            // Everything the stack is told is checked against the account before anything is made.
            const checked = pulumi.all([region, zones]).apply(async ([r, zs]) => {
                // One lookup per subnet; the provider's "no matching EC2 Subnet found" becomes a message naming the keys.
                const looked = await Promise.all(all.map((id) => aws.ec2.getSubnet({ id }, parent).catch(() => undefined)));
                const missing = all.filter((_, i) => looked[i] === undefined);
                if (missing.length > 0) {
                    throw new Error(`${key("publicSubnetIds")}/${key("privateSubnetIds")}: no subnet ${missing.join(", ")} in ${r}`);
                }
                const subnets = looked.filter((s) => s !== undefined);
                const byId = new Map(subnets.map((s) => [s.id, s]));
                const problems: string[] = [];
                const elsewhere = subnets.filter((s) => s.vpcId !== vpcId);
                if (elsewhere.length > 0) {
                    problems.push(`${elsewhere.map((s) => `${s.id} is in ${s.vpcId}`).join(", ")}, not in ${key("vpcId")} ${vpcId}`);
                }
                const lbZones = new Set(args.publicSubnetIds.map((id) => byId.get(id)!.availabilityZoneId));
                if (lbZones.size < 2) {
                    problems.push(
                        `${key("publicSubnetIds")} are all in ${[...lbZones].join(", ")}; the load balancer needs two availability zones`,
                    );
                }
                const supported = new Set(zs.map((z) => z.zoneId));
                const noFargate = taskSubnets.filter((id) => !supported.has(byId.get(id)!.availabilityZoneId));
                if (noFargate.length > 0) {
                    const which = args.privateSubnetIds.length > 0 ? "privateSubnetIds" : "publicSubnetIds";
                    problems.push(
                        `${key(which)}: Fargate does not run tasks in the zone of ${noFargate.map((id) => `${id} (${byId.get(id)!.availabilityZoneId})`).join(", ")}; in ${r} it runs in ${[...supported].join(", ")}`,
                    );
                }
                if (problems.length > 0) throw new Error(`the network the stack was given does not fit:\n  - ${problems.join("\n  - ")}`);
                return true;
            });
            this.vpcId = checked.apply(() => vpcId);
            this.loadBalancerSubnetIds = checked.apply(() => [...args.publicSubnetIds]);
            this.taskSubnetIds = checked.apply(() => [...taskSubnets]);
            // Private subnets must already have a way out (NAT gateway or VPC endpoints): see README.
            this.tasksNeedPublicIp = args.privateSubnetIds.length === 0;
        }
        this.registerOutputs({ vpcId: this.vpcId, loadBalancerSubnetIds: this.loadBalancerSubnetIds, taskSubnetIds: this.taskSubnetIds });
    }
}
