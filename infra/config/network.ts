// The stack's network settings: the account's default VPC, a new one, or one
// the team has (its VPC and subnets), and the NAT gateway.
import type { VpcMode } from "../network";
import { Reader } from "./reader";

export interface NetworkSettings {
    vpc: VpcMode;
    /** With vpc "existing": the VPC, the load balancer's subnets, and the tasks' (none: the public ones). */
    vpcId?: string;
    publicSubnetIds: string[];
    privateSubnetIds: string[];
    /** With vpc "new": tasks in private subnets behind a NAT gateway. */
    natGateway: boolean;
}

export function readNetworkSettings(r: Reader): NetworkSettings {
    const vpc = r.oneOf<VpcMode>("vpc", ["default", "new", "existing"]);
    const vpcId = r.str("vpcId") ?? "";
    const idList = (key: string, prefix: string): string[] => {
        const raw = r.str(key) ?? "";
        const ids = raw
            .split(",")
            .map((id) => id.trim())
            .filter((id) => id !== "");
        const form = new RegExp(`^${prefix}-[0-9a-f]{8}([0-9a-f]{9})?$`);
        const bad = ids.filter((id) => !form.test(id));
        if (bad.length > 0 || (raw.trim() !== "" && ids.length === 0)) {
            r.problems.push(
                `${r.at(key)} is ${JSON.stringify(raw)}; it accepts ${prefix} IDs separated by commas, e.g. ${prefix}-0a1b2c3d,${prefix}-4e5f6a7b`,
            );
        } else if (new Set(ids).size !== ids.length) {
            r.problems.push(`${r.at(key)} is ${JSON.stringify(raw)}; it names a subnet twice`);
        }
        return ids;
    };
    const publicSubnetIds = idList("publicSubnetIds", "subnet");
    const privateSubnetIds = idList("privateSubnetIds", "subnet");
    const natGateway = r.bool("natGateway");
    if (vpc === "existing") {
        if (!/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/.test(vpcId)) {
            r.problems.push(
                `${r.at("vpcId")} is ${JSON.stringify(vpcId)}; with vpc "existing" it accepts a VPC ID such as vpc-0a1b2c3d4e5f60718`,
            );
        }
        if (publicSubnetIds.length < 2) {
            r.problems.push(
                `${r.at("publicSubnetIds")} names ${publicSubnetIds.length} subnet(s); with vpc "existing" the load balancer needs public subnets in at least two availability zones`,
            );
        }
        const both = privateSubnetIds.filter((id) => publicSubnetIds.includes(id));
        if (both.length > 0) r.problems.push(`${r.at("privateSubnetIds")} and publicSubnetIds both name ${both.join(", ")}`);
    } else {
        for (const key of ["vpcId", "publicSubnetIds", "privateSubnetIds"] as const) {
            if ((r.values.get(key) ?? "").trim() !== "") {
                r.problems.push(`${r.at(key)} is set, but ${r.at("vpc")} is "${vpc}"; set vpc to "existing" to use your own network`);
            }
        }
    }
    if (natGateway && vpc !== "new") {
        r.problems.push(
            `${r.at("natGateway")} is true, but ${r.at("vpc")} is "${vpc}"; a NAT gateway comes with vpc "new" (with vpc "existing", name privateSubnetIds that already have a way out)`,
        );
    }

    return { vpc, vpcId: vpc === "existing" ? vpcId : undefined, publicSubnetIds, privateSubnetIds, natGateway };
}
