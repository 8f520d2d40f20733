// Pulumi mocks for the AWS and Docker providers, which cannot run here: each
// resource answers with its inputs plus the values AWS would compute, named
// deterministically so two runs of the program can be compared. Lookups
// answer from a small model of an account (zones, VPCs, subnets, hosted
// zones), and fail as the provider does when it holds no match.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

export const account = "123456789012";
export const region = "us-east-1";

export interface FakeSubnet {
    id: string;
    vpcId: string;
    availabilityZone: string;
    availabilityZoneId: string;
    defaultForAz: boolean;
}

/** The account the lookups see. */
export interface FakeWorld {
    region: string;
    zones: { name: string; zoneId: string }[];
    /** The default VPC; null: the account has none (landing zones delete it). */
    defaultVpcId: string | null;
    subnets: FakeSubnet[];
    hostedZones: { zoneId: string; name: string; privateZone?: boolean }[];
    /** Records that already exist in those zones, made by other stacks or by hand. */
    records: FakeRecord[];
}

export interface FakeRecord {
    zoneId: string;
    /** Without the trailing dot. */
    name: string;
    type: string;
    /** Who made it, for messages: a stack's name, or "by hand". */
    owner: string;
}

/** A VPC of the user's own in the default world, with two public and two private subnets. */
export const ownVpc = {
    vpcId: "vpc-0a1b2c3d4e5f60718",
    publicSubnetIds: ["subnet-0a00000000000000a", "subnet-0a00000000000000b"],
    privateSubnetIds: ["subnet-0b00000000000000a", "subnet-0b00000000000000b"],
};

export const exampleZone = { zoneId: "Z0123456789ABCDEFGHIJ", name: "example.com" };

const zones = [
    { name: "us-east-1a", zoneId: "use1-az1" },
    { name: "us-east-1b", zoneId: "use1-az2" },
    { name: "us-east-1c", zoneId: "use1-az4" },
];

export const defaultWorld: FakeWorld = {
    region,
    zones,
    defaultVpcId: "vpc-default",
    subnets: [
        // One default subnet per zone, and the own VPC's subnets alternating between the first two.
        ...zones.map((z) => ({
            id: `subnet-${z.name.slice(-1)}`,
            vpcId: "vpc-default",
            availabilityZone: z.name,
            availabilityZoneId: z.zoneId,
            defaultForAz: true,
        })),
        ...[...ownVpc.publicSubnetIds, ...ownVpc.privateSubnetIds].map((id, i) => ({
            id,
            vpcId: ownVpc.vpcId,
            availabilityZone: zones[i % 2].name,
            availabilityZoneId: zones[i % 2].zoneId,
            defaultForAz: false,
        })),
    ],
    hostedZones: [exampleZone],
    records: [],
};

export interface FakeAwsOptions {
    /** Digest the registry gives the pushed multi-stage image. */
    imageDigest?: string;
    singleStageDigest?: string;
    /** Sizes ECR reports, by digest. */
    imageSizeBytes?: number;
    singleStageSizeBytes?: number;
    /** Tags the stack's ECR repository holds before the run (versions pushed before); none by default. Each image the run makes is pushed to it. */
    registryTags?: string[];
    /** The account, where it differs from the default one. */
    world?: Partial<FakeWorld>;
    /**
     * As the providers answer `pulumi preview` of a stack that has none of these resources yet:
     * every value a provider computes on create (IDs, ARNs, DNS names, the image's digest) is
     * unknown; inputs and auto-names are known.
     */
    preview?: boolean;
}

export const defaultFake = {
    imageDigest: `sha256:${"a".repeat(64)}`,
    singleStageDigest: `sha256:${"b".repeat(64)}`,
    imageSizeBytes: 2_412_345,
    singleStageSizeBytes: 318_456_789,
};

/** What Pulumi's auto-naming would make of a resource name: name + 7 characters. */
export function autoName(name: string): string {
    return `${name}-${createHash("sha256").update(name).digest("hex").slice(0, 7)}`;
}

/**
 * The caps pulumi-aws auto-names under (tfbridge.AutoName("name", 32, "-") for aws_lb_target_group,
 * and AWS's own limits: a load balancer's name 32, a role's 64, a bucket's 63).
 */
export const autoNameMaxLength: Record<string, number> = {
    "aws:lb/loadBalancer:LoadBalancer": 32,
    "aws:lb/targetGroup:TargetGroup": 32,
    "aws:iam/role:Role": 64,
    "aws:s3/bucket:Bucket": 63,
};

/**
 * The bridge's refusal of a logical name too long for its cap, at Check (so at preview): the words of
 * pulumi/pulumi sdk/go/common/resource/resource_id.go NewUniqueHex, wrapped by pulumi-terraform-bridge
 * pkg/tfbridge/info/autonaming.go ComputeAutoNameDefault.
 */
function checkAutoName(args: pulumi.runtime.MockResourceArgs): void {
    const max = autoNameMaxLength[args.type];
    if (max === undefined || args.inputs.name !== undefined || args.inputs.namePrefix !== undefined || args.inputs.bucket !== undefined)
        return;
    const prefix = `${args.name}-`;
    if (prefix.length + 7 > max) {
        throw new Error(
            `could not make instance of '${args.type}': name '${prefix}' plus 7 random chars is longer than maximum length ${max}`,
        );
    }
}

/** A stand-in revision number that changes whenever the task definition does. */
function revisionOf(inputs: unknown): number {
    return parseInt(createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 6), 16);
}

/** EC2 Describe* filters: every filter must match one of its values. */
function matches(item: Record<string, string>, filters: { name: string; values: string[] }[] = []): boolean {
    return filters.every((f) => f.values.includes(item[f.name] ?? ""));
}

/** What the mocks answer for a value that is unknown at a preview (the SDK's wire sentinel). */
const unknownOnWire = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A create's result as a preview sees it: computed outputs unknown, the physical ID too. */
function atPreview(args: pulumi.runtime.MockResourceArgs, result: pulumi.runtime.MockResourceResult): pulumi.runtime.MockResourceResult {
    // The bridge auto-names in Check, before the preview: those names are known.
    const known = new Set([...Object.keys(args.inputs), "name", "bucket"]);
    const state = Object.fromEntries(Object.entries(result.state).map(([k, v]) => [k, known.has(k) ? v : unknownOnWire]));
    return { id: undefined, state };
}

/** The mocks, and what the account holds after the run: the registry's tags, with the run's pushes. */
export interface FakeAws extends pulumi.runtime.Mocks {
    registryTags(): string[];
}

export function fakeAws(options: FakeAwsOptions = {}): FakeAws {
    const mocks = fakeAwsUp(options);
    if (!options.preview) return mocks;
    // A preview pushes nothing.
    const registryTags = [...(options.registryTags ?? [])];
    return {
        call: (args) => mocks.call(args),
        newResource: async (args) => atPreview(args, await mocks.newResource(args)),
        registryTags: () => registryTags,
    };
}

function fakeAwsUp(options: FakeAwsOptions): FakeAws {
    const o = { ...defaultFake, ...options };
    // The stack's repository: the tags pushed before this run, and each image this run pushes.
    const registry = new Set(options.registryTags ?? []);
    const world: FakeWorld = { ...defaultWorld, ...options.world };
    const r = world.region;
    const sizes: Record<string, number> = { [o.imageDigest]: o.imageSizeBytes, [o.singleStageDigest]: o.singleStageSizeBytes };
    const subnetFilterable = (s: FakeSubnet) => ({
        "subnet-id": s.id,
        "vpc-id": s.vpcId,
        "availability-zone": s.availabilityZone,
        "availability-zone-id": s.availabilityZoneId,
        "default-for-az": String(s.defaultForAz),
    });
    return {
        registryTags: () => [...registry].sort(),
        newResource(args) {
            checkAutoName(args);
            const name = args.inputs.name ?? autoName(args.name);
            const arn = `arn:aws:${args.type.split(":")[1]?.split("/")[0]}:${r}:${account}:${args.name}`;
            const state: Record<string, unknown> = { ...args.inputs, arn };
            switch (args.type) {
                case "aws:ecr/repository:Repository":
                    Object.assign(state, {
                        name,
                        registryId: account,
                        repositoryUrl: `${account}.dkr.ecr.${r}.amazonaws.com/${name}`,
                    });
                    break;
                case "docker:index/image:Image": {
                    const imageName = String(args.inputs.imageName);
                    const repo = imageName.slice(0, imageName.lastIndexOf(":"));
                    const single = String(args.inputs.build?.dockerfile ?? "").endsWith("Dockerfile.single");
                    Object.assign(state, {
                        repoDigest: `${repo}@${single ? o.singleStageDigest : o.imageDigest}`,
                        baseImageName: imageName,
                    });
                    // The provider pushes the image under its tag: the registry holds it from now on.
                    registry.add(imageName.slice(imageName.lastIndexOf(":") + 1));
                    break;
                }
                case "aws:lb/loadBalancer:LoadBalancer":
                    Object.assign(state, {
                        name,
                        dnsName: `${name}-1234567890.${r}.elb.amazonaws.com`,
                        arnSuffix: `app/${name}/0123456789abcdef`,
                        zoneId: "Z35SXDOTRQ7X7K",
                    });
                    break;
                case "aws:lb/targetGroup:TargetGroup":
                    Object.assign(state, { name, arnSuffix: `targetgroup/${name}/fedcba9876543210` });
                    break;
                case "aws:ecs/taskDefinition:TaskDefinition":
                    // RegisterTaskDefinition's own rule for the family.
                    if (!/^[A-Za-z0-9_-]{1,255}$/.test(String(args.inputs.family))) {
                        throw new Error(
                            `ClientException: family ${JSON.stringify(args.inputs.family)}: up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed`,
                        );
                    }
                    // A changed definition is a new revision, with a new ARN.
                    Object.assign(state, {
                        arn: `arn:aws:ecs:${r}:${account}:task-definition/${args.inputs.family}:${revisionOf(args.inputs)}`,
                    });
                    break;
                case "aws:acm/certificate:Certificate": {
                    const domain = String(args.inputs.domainName);
                    Object.assign(state, {
                        arn: `arn:aws:acm:${r}:${account}:certificate/0a1b2c3d-0000-4000-8000-${createHash("sha256").update(domain).digest("hex").slice(0, 12)}`,
                        domainValidationOptions: [
                            {
                                domainName: domain,
                                resourceRecordName: `_0123456789abcdef.${domain}.`,
                                resourceRecordType: "CNAME",
                                resourceRecordValue: "_fedcba9876543210.acm-validations.aws.",
                            },
                        ],
                    });
                    break;
                }
                case "aws:acm/certificateValidation:CertificateValidation":
                    state.arn = undefined;
                    break;
                case "aws:route53/record:Record": {
                    const fqdn = String(args.inputs.name).replace(/\.$/, "").toLowerCase();
                    const taken = world.records.find(
                        (x) => x.zoneId === args.inputs.zoneId && x.name === fqdn && x.type === args.inputs.type,
                    );
                    // ChangeResourceRecordSets with CREATE, as the provider sends it without allowOverwrite.
                    if (taken && args.inputs.allowOverwrite !== true) {
                        throw new Error(
                            `InvalidChangeBatch: [Tried to create resource record set [name='${fqdn}.', type='${taken.type}'] but it already exists]`,
                        );
                    }
                    Object.assign(state, { arn: undefined, fqdn });
                    break;
                }
                case "aws:ssm/parameter:Parameter":
                    // PutParameter: each new value is a new version (a stand-in number here, changing with the value).
                    Object.assign(state, {
                        name,
                        arn: `arn:aws:ssm:${r}:${account}:parameter/${name}`,
                        version: revisionOf(args.inputs.value) % 1000,
                    });
                    break;
                case "pulumi:index:Stash":
                    // The engine's own resource: it keeps the value it was created with.
                    return { id: `${args.name}-id`, state: { input: args.inputs.input, output: args.inputs.input } };
                case "aws:s3/bucket:Bucket":
                    Object.assign(state, { bucket: name, arn: `arn:aws:s3:::${name}` });
                    return { id: name, state };
                // IAM is global: its ARNs name no region, and a role's or policy's holds its path.
                case "aws:iam/role:Role":
                case "aws:iam/policy:Policy":
                    Object.assign(state, {
                        name,
                        path: args.inputs.path ?? "/",
                        arn: `arn:aws:iam::${account}:${args.type === "aws:iam/role:Role" ? "role" : "policy"}${args.inputs.path ?? "/"}${name}`,
                    });
                    break;
                case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
                    state.arn = `arn:aws:iam::${account}:oidc-provider/${String(args.inputs.url).replace(/^https:\/\//, "")}`;
                    return { id: String(state.arn), state };
                case "aws:ec2/securityGroup:SecurityGroup":
                case "aws:ec2/vpc:Vpc":
                case "aws:ec2/subnet:Subnet":
                    return { id: `${args.name}-id`, state };
                default:
                    if (args.custom !== false) state.name = name;
            }
            return { id: `${args.name}-id`, state };
        },
        call(args) {
            const inputs = args.inputs;
            switch (args.token) {
                case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                    return {
                        id: r,
                        region: r,
                        userName: "AWS",
                        password: "fake-ecr-password",
                        authorizationToken: Buffer.from("AWS:fake-ecr-password").toString("base64"),
                        proxyEndpoint: `https://${account}.dkr.ecr.${r}.amazonaws.com`,
                        expiresAt: "2030-01-01T00:00:00Z",
                    };
                case "aws:ecr/getImage:getImage": {
                    if (inputs.imageTag !== undefined) {
                        if (!registry.has(inputs.imageTag)) {
                            throw new Error(`ImageNotFoundException: no image tagged ${inputs.imageTag} in ${inputs.repositoryName}`);
                        }
                        return {
                            id: inputs.imageTag,
                            imageTag: inputs.imageTag,
                            repositoryName: inputs.repositoryName,
                            imageTags: [inputs.imageTag],
                        };
                    }
                    const size = sizes[inputs.imageDigest];
                    if (size === undefined)
                        throw new Error(`ImageNotFoundException: no image ${inputs.imageDigest} in ${inputs.repositoryName}`);
                    return {
                        id: inputs.imageDigest,
                        imageDigest: inputs.imageDigest,
                        repositoryName: inputs.repositoryName,
                        imageSizeInBytes: size,
                        imageTags: [],
                    };
                }
                case "aws:ec2/getVpcs:getVpcs": {
                    const vpcs = world.defaultVpcId ? [{ "vpc-id": world.defaultVpcId, "is-default": "true" }] : [];
                    return { id: r, ids: vpcs.filter((v) => matches(v, inputs.filters)).map((v) => v["vpc-id"]) };
                }
                case "aws:ec2/getSubnets:getSubnets":
                    return { id: r, ids: world.subnets.filter((s) => matches(subnetFilterable(s), inputs.filters)).map((s) => s.id) };
                case "aws:ec2/getSubnet:getSubnet": {
                    const subnet = world.subnets.find((s) => s.id === inputs.id);
                    if (!subnet) throw new Error("no matching EC2 Subnet found");
                    return { ...subnet, mapPublicIpOnLaunch: subnet.defaultForAz, cidrBlock: "10.1.0.0/20" };
                }
                case "aws:index/getAvailabilityZones:getAvailabilityZones":
                    return { id: r, names: world.zones.map((z) => z.name), zoneIds: world.zones.map((z) => z.zoneId) };
                case "aws:route53/getZone:getZone": {
                    // By ID, any zone; by name, only of the privacy asked for (the provider's default: public).
                    const wanted = inputs.zoneId
                        ? world.hostedZones.find((z) => z.zoneId === inputs.zoneId)
                        : world.hostedZones.find(
                              (z) =>
                                  z.name === String(inputs.name).replace(/\.$/, "") &&
                                  (z.privateZone ?? false) === (inputs.privateZone ?? false),
                          );
                    if (!wanted) throw new Error("no matching Route 53 Hosted Zone found");
                    return {
                        id: wanted.zoneId,
                        zoneId: wanted.zoneId,
                        name: wanted.name,
                        privateZone: wanted.privateZone ?? false,
                    };
                }
                case "aws:index/getCallerIdentity:getCallerIdentity":
                    return { id: account, accountId: account, arn: `arn:aws:iam::${account}:user/test`, userId: "AIDATEST" };
                case "aws:index/getPartition:getPartition":
                    return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
                case "aws:index/getRegion:getRegion":
                    return { id: r, region: r, name: r };
                default:
                    throw new Error(`fake-aws: no mock for ${args.token}`);
            }
        },
    };
}
