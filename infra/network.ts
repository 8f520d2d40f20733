// Where the load balancer and tasks live: the account's default VPC, or a new
// VPC with two public subnets in two availability zones. Public subnets with
// public IPs on the tasks let them pull from ECR without a NAT gateway.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { VpcMode } from "./config";

export interface NetworkArgs {
    vpc: VpcMode;
}

export const newVpcCidr = "10.0.0.0/16";
export const newSubnetCidrs = ["10.0.0.0/20", "10.0.16.0/20"];

export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    readonly publicSubnetIds: pulumi.Output<string[]>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("calculator:index:Network", name, {}, opts);

        if (args.vpc === "default") {
            const vpc = aws.ec2.getVpcOutput({ default: true }, { parent: this });
            this.vpcId = vpc.id;
            this.publicSubnetIds = aws.ec2
                .getSubnetsOutput(
                    {
                        filters: [
                            { name: "vpc-id", values: [vpc.id] },
                            { name: "default-for-az", values: ["true"] },
                        ],
                    },
                    { parent: this },
                )
                .apply((s) => [...s.ids].sort());
        } else {
            const vpc = new aws.ec2.Vpc(
                "vpc",
                { cidrBlock: newVpcCidr, enableDnsHostnames: true, enableDnsSupport: true },
                { parent: this },
            );
            const gateway = new aws.ec2.InternetGateway("gateway", { vpcId: vpc.id }, { parent: this });
            const routes = new aws.ec2.RouteTable(
                "public",
                { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }] },
                { parent: this },
            );
            const zones = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this });
            const subnets = newSubnetCidrs.map((cidrBlock, i) => {
                const subnet = new aws.ec2.Subnet(
                    `public-${i + 1}`,
                    {
                        vpcId: vpc.id,
                        cidrBlock,
                        availabilityZone: zones.names.apply((names) => {
                            if (names.length < newSubnetCidrs.length) {
                                throw new Error(
                                    `vpc "new" needs ${newSubnetCidrs.length} availability zones; the region has ${names.length}`,
                                );
                            }
                            return names[i];
                        }),
                        mapPublicIpOnLaunch: true,
                    },
                    { parent: this },
                );
                new aws.ec2.RouteTableAssociation(`public-${i + 1}`, { subnetId: subnet.id, routeTableId: routes.id }, { parent: this });
                return subnet;
            });
            this.vpcId = vpc.id;
            this.publicSubnetIds = pulumi.all(subnets.map((s) => s.id));
        }
        this.registerOutputs({ vpcId: this.vpcId, publicSubnetIds: this.publicSubnetIds });
    }
}
