// Pulumi mocks for the AWS and Docker providers, which cannot run here: each
// resource answers with its inputs plus the values AWS would compute, named
// deterministically so two runs of the program can be compared.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

export const account = "123456789012";
export const region = "us-east-1";

export interface FakeAwsOptions {
    /** Digest the registry gives the pushed multi-stage image. */
    imageDigest?: string;
    singleStageDigest?: string;
    /** Sizes ECR reports, by digest. */
    imageSizeBytes?: number;
    singleStageSizeBytes?: number;
}

export const defaultFake: Required<FakeAwsOptions> = {
    imageDigest: `sha256:${"a".repeat(64)}`,
    singleStageDigest: `sha256:${"b".repeat(64)}`,
    imageSizeBytes: 2_412_345,
    singleStageSizeBytes: 318_456_789,
};

/** What Pulumi's auto-naming would make of a resource name: name + 7 characters. */
export function autoName(name: string): string {
    return `${name}-${createHash("sha256").update(name).digest("hex").slice(0, 7)}`;
}

/** A stand-in revision number that changes whenever the task definition does. */
function revisionOf(inputs: unknown): number {
    return parseInt(createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 6), 16);
}

export function fakeAws(options: FakeAwsOptions = {}): pulumi.runtime.Mocks {
    const o = { ...defaultFake, ...options };
    const sizes: Record<string, number> = { [o.imageDigest]: o.imageSizeBytes, [o.singleStageDigest]: o.singleStageSizeBytes };
    return {
        newResource(args) {
            const name = args.inputs.name ?? autoName(args.name);
            const arn = `arn:aws:${args.type.split(":")[1]?.split("/")[0]}:${region}:${account}:${args.name}`;
            const state: Record<string, unknown> = { ...args.inputs, arn };
            switch (args.type) {
                case "aws:ecr/repository:Repository":
                    Object.assign(state, {
                        name,
                        registryId: account,
                        repositoryUrl: `${account}.dkr.ecr.${region}.amazonaws.com/${name}`,
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
                    break;
                }
                case "aws:lb/loadBalancer:LoadBalancer":
                    Object.assign(state, {
                        name,
                        dnsName: `${name}-1234567890.${region}.elb.amazonaws.com`,
                        arnSuffix: `app/${name}/0123456789abcdef`,
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
                        arn: `arn:aws:ecs:${region}:${account}:task-definition/${args.inputs.family}:${revisionOf(args.inputs)}`,
                    });
                    break;
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
            switch (args.token) {
                case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                    return {
                        id: region,
                        region,
                        userName: "AWS",
                        password: "fake-ecr-password",
                        authorizationToken: Buffer.from("AWS:fake-ecr-password").toString("base64"),
                        proxyEndpoint: `https://${account}.dkr.ecr.${region}.amazonaws.com`,
                        expiresAt: "2030-01-01T00:00:00Z",
                    };
                case "aws:ecr/getImage:getImage": {
                    const size = sizes[args.inputs.imageDigest];
                    if (size === undefined)
                        throw new Error(`ImageNotFoundException: no image ${args.inputs.imageDigest} in ${args.inputs.repositoryName}`);
                    return {
                        id: args.inputs.imageDigest,
                        imageDigest: args.inputs.imageDigest,
                        repositoryName: args.inputs.repositoryName,
                        imageSizeInBytes: size,
                        imageTags: [],
                    };
                }
                case "aws:ec2/getVpc:getVpc":
                    return { id: "vpc-default", default: true };
                case "aws:ec2/getSubnets:getSubnets":
                    return { id: region, ids: ["subnet-c", "subnet-a", "subnet-b"] };
                case "aws:index/getAvailabilityZones:getAvailabilityZones":
                    return { id: region, names: [`${region}a`, `${region}b`, `${region}c`], zoneIds: ["use1-az1", "use1-az2", "use1-az4"] };
                case "aws:index/getCallerIdentity:getCallerIdentity":
                    return { id: account, accountId: account, arn: `arn:aws:iam::${account}:user/test`, userId: "AIDATEST" };
                case "aws:index/getRegion:getRegion":
                    return { id: region, region, name: region };
                default:
                    throw new Error(`fake-aws: no mock for ${args.token}`);
            }
        },
    };
}
