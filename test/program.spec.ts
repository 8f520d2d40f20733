// The Pulumi program in infra/, run as the CLI runs it but with the AWS and
// Docker providers mocked (they cannot run here). Each assertion is something
// a user of the deployed stack would notice.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { ConfigError, configKeys, fargateMemoryByCpu, loadConfig, mapConfigSource } from "../infra/config";
import { digestOf } from "../infra/image";
import { loadBalancerIdleTimeoutSeconds, taskFamily } from "../infra/service";
import { accessLogPrefix } from "../infra/access-logs";
import { humanBytes, sizeReduction } from "../infra/size";
import { repositoryUrl, sourceDigest } from "../infra/source";
import { repoRoot } from "../scripts/lib/docker";
import { effectiveConfig, readProject, readStackFile } from "../scripts/lib/stack-config";
import { autoName, defaultFake, defaultWorld, exampleZone, ownVpc } from "../scripts/lib/fake-aws";
import { Run, changedResources, failureOf, isSecret, runUncached, runUnderMocks, shortUrn } from "../scripts/lib/harness";
import { planSummary, planUpdate, refusedUpdates, withoutRecordedTriggers } from "./update-plan";
import { unknownMarker } from "../scripts/lib/mock-program";
import { copyRepository } from "./repo-copy";
import { suiteConfigFile, suiteRegion } from "./suite-stack";
import { escaped, healthPath, named, port, service as declared, shared, sharedName, svcName } from "./service-under-test";

const project = readProject();
const serviceDir = declared.dir;
const contract = declared.container;
/** The service's part of its task family: none for a stack of the calculator's made before (formerNames). */
const familyPart = declared.formerNames ? undefined : declared.name;
const T = {
    repository: "aws:ecr/repository:Repository",
    lifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    image: "docker:index/image:Image",
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    gateway: "aws:ec2/internetGateway:InternetGateway",
    routeTable: "aws:ec2/routeTable:RouteTable",
    routeAssoc: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    lb: "aws:lb/loadBalancer:LoadBalancer",
    tg: "aws:lb/targetGroup:TargetGroup",
    listener: "aws:lb/listener:Listener",
    cluster: "aws:ecs/cluster:Cluster",
    capacity: "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    role: "aws:iam/role:Role",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    nat: "aws:ec2/natGateway:NatGateway",
    certificate: "aws:acm/certificate:Certificate",
    certificateValidation: "aws:acm/certificateValidation:CertificateValidation",
    record: "aws:route53/record:Record",
    bucket: "aws:s3/bucket:Bucket",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    bucketLifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    taskDef: "aws:ecs/taskDefinition:TaskDefinition",
    service: "aws:ecs/service:Service",
    scalingTarget: "aws:appautoscaling/target:Target",
    scalingPolicy: "aws:appautoscaling/policy:Policy",
    provider: "pulumi:providers:aws",
    stash: "pulumi:index:Stash",
};

function containerOf(run: Run) {
    const defs = JSON.parse(run.inputs(T.taskDef).containerDefinitions);
    assert.equal(defs.length, 1);
    return defs[0];
}

describe("program (Pulumi mocks)", function () {
    this.timeout(120_000);
    let defaults: Run;

    before(async function () {
        // Start the runs most tests share, side by side.
        const runs = [
            runUnderMocks(),
            runUnderMocks({ configFile: suiteConfigFile() }),
            runUnderMocks({ set: { cpuArchitecture: "ARM64", cpu: "512", memory: "1024" } }),
            runUnderMocks({ set: { vpc: "new" } }),
        ];
        [defaults] = await Promise.all(runs);
    });

    describe("config", function () {
        const defaultsMap = Object.fromEntries(Object.entries(project.config).map(([k, v]) => [k, v.default]));
        /** As the CLI hands a program its config: Pulumi.yaml's defaults, the stack's values over them. */
        const load = (over: Record<string, string>) =>
            loadConfig(mapConfigSource(effectiveConfig({ ...defaultsMap, ...over }), project.name), project.name);

        it("reads exactly the keys Pulumi.yaml declares, each declared once with a type, a default and a description", function () {
            assert.deepEqual([...configKeys].sort(), Object.keys(project.config).sort());
            // What loadConfig asks its source for: every declared key, and nothing else.
            const asked = new Set<string>();
            const values = effectiveConfig(defaultsMap);
            const source = mapConfigSource(values, project.name);
            loadConfig({ get: (k) => (asked.add(k), source.get(k)), keys: () => source.keys() }, project.name);
            assert.deepEqual([...asked].sort(), Object.keys(project.config).sort());
            const yamlText = fs.readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8");
            for (const [key, decl] of Object.entries(project.config)) {
                assert.ok(["string", "integer", "boolean", "object"].includes(decl.type), `${key}: type ${decl.type}`);
                assert.ok(decl.description.length > 10, `${key} has no description`);
                assert.equal(yamlText.split(new RegExp(`^  ${key}:`, "m")).length, 2, `${key} is declared once`);
            }
        });

        it("Pulumi.yaml's defaults are valid and give the documented stack", function () {
            const c = load({}) as unknown as Record<string, unknown>;
            // Each default as loadConfig gives it, from its declaration: "" is "not set".
            for (const [key, decl] of Object.entries(project.config)) {
                const expected =
                    key === "containerPort"
                        ? undefined // 0: the service's declared port
                        : decl.type === "integer"
                          ? Number(decl.default)
                          : decl.type === "boolean"
                            ? decl.default === "true"
                            : decl.type === "object"
                              ? JSON.parse(decl.default)
                              : key.endsWith("SubnetIds")
                                ? []
                                : decl.default === ""
                                  ? undefined
                                  : decl.default;
                assert.deepEqual(c[key], expected, key);
            }
            assert.deepEqual(Object.keys(c).sort(), [...Object.keys(project.config), "platform"].sort());
            assert.equal(c.platform, "linux/amd64");
            assert.deepEqual([c.cpu, c.memory, c.vpc, c.spot], [256, 512, "default", false], "the README's quick start deploys this");
        });

        it("Pulumi.dev.yaml sets only declared keys, with valid values (its secret values are not needed: each stands in as set)", function () {
            const values = readStackFile("dev");
            assert.ok(values["aws:region"], "the dev stack sets aws:region");
            const own = Object.entries(values).filter(([k]) => k.startsWith(`${project.name}:`));
            for (const [k] of own) assert.ok(k.slice(project.name.length + 1) in project.config, `${k} is not declared in Pulumi.yaml`);
            // A secure: value is ciphertext only the CLI decrypts; a stand-in takes its place, held secret as the CLI would.
            const standIn = (v: unknown): unknown =>
                v !== null && typeof v === "object"
                    ? "secure" in v && Object.keys(v).length === 1
                        ? "a value set with --secret"
                        : Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, standIn(inner)]))
                    : v;
            const settings = own.map(([k, v]) => {
                const parsed: unknown = v.startsWith("{") ? JSON.parse(v) : v;
                const plain = standIn(parsed);
                return [
                    k.slice(project.name.length + 1),
                    typeof plain === "string" ? plain : JSON.stringify(plain),
                    plain !== parsed,
                ] as const;
            });
            const secretKeys = settings.filter(([, , secret]) => secret).map(([k]) => `${project.name}:${k}`);
            loadConfig(
                mapConfigSource(effectiveConfig({ ...defaultsMap, ...Object.fromEntries(settings.map(([k, v]) => [k, v])) }), project.name),
                project.name,
                { secretKeys },
            );
        });

        const bad: [string, string, RegExp][] = [
            ["cpu", "300", /cpu is "300"; it accepts one of 256, 512/],
            ["cpu", "abc", /cpu is "abc"/],
            ["memory", "4096", /memory is 4096, which Fargate does not allow with cpu 256; it accepts 512, 1024, 2048/],
            ["cpuArchitecture", "arm64", /cpuArchitecture is "arm64"; it accepts X86_64 or ARM64/],
            [
                "containerPort",
                "1",
                /containerPort is "1"; it accepts a TCP port from 1024 to 65535 .*, or 0 for the port the service declares/,
            ],
            [
                "containerPort",
                "80",
                /containerPort is "80"; it accepts a TCP port from 1024 to 65535 \(the service runs as a non-root user/,
            ],
            ["containerPort", "80.5", /containerPort is "80.5"/],
            ["desiredCount", "-1", /desiredCount is "-1"/],
            ["desiredCount", "0", /desiredCount is "0"; it accepts an integer from 1 to 1000/],
            ["desiredCount", "9", /desiredCount is 9; it accepts minCount to maxCount \(1 to 4\)/],
            ["minCount", "0", /minCount is "0"; it accepts an integer from 1 to 1000 \(autoscaling cannot scale out from zero tasks/],
            ["minCount", "5", /minCount \(5\) is above .*maxCount \(4\)/],
            ["maxCount", "0", /maxCount is "0"/],
            ["spot", "yes", /spot is "yes"; it accepts true or false/],
            ["vpc", "custom", /vpc is "custom"; it accepts default or new or existing/],
            ["vpcId", "vpc-0a1b2c3d", /vpcId is set, but .*vpc is "default"; set vpc to "existing"/],
            ["publicSubnetIds", "subnet-0a1b2c3d", /publicSubnetIds is set, but .*vpc is "default"/],
            ["natGateway", "true", /natGateway is true, but .*vpc is "default"; a NAT gateway comes with vpc "new"/],
            ["domainName", "not a name", /domainName is "not a name"; it accepts a DNS name such as calc.example.com/],
            ["hostedZoneId", "Z123", /hostedZoneId is set without .*domainName/],
            ["certificateArn", "my-cert", /certificateArn is "my-cert"; it accepts an ACM certificate ARN/],
            [
                "certificateArn",
                "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab",
                /certificateArn is set without .*domainName; no certificate can cover the load balancer's own name \(\*\.elb\.amazonaws\.com\)/,
            ],
            ["accessLogs", "yes", /accessLogs is "yes"; it accepts true or false/],
            ["logRetentionDays", "8", /logRetentionDays is "8"; it accepts one of 1, 3, 5, 7, 14/],
            ["imagesToKeep", "0", /imagesToKeep is "0"; it accepts an integer from 1 to 1000/],
            ["containerInsights", "on", /containerInsights is "on"; it accepts true or false/],
            ["compareSingleStage", "1", /compareSingleStage is "1"; it accepts true or false/],
            ["rolePermissionsBoundary", "ci-boundary", /rolePermissionsBoundary is "ci-boundary"; it accepts an IAM policy ARN/],
            [
                "rolePermissionsBoundary",
                "arn:aws:iam::123456789012:role/ci-boundary",
                /rolePermissionsBoundary is "arn:aws:iam::123456789012:role\/ci-boundary"; it accepts an IAM policy ARN/,
            ],
        ];
        for (const [key, value, message] of bad) {
            it(`rejects ${key}=${JSON.stringify(value)} with a message naming the key`, function () {
                assert.throws(
                    () => load({ [key]: value }),
                    (err: Error) =>
                        err instanceof ConfigError && message.test(err.message) && err.message.includes(`${project.name}:${key}`),
                );
            });
        }

        it("rejects a key Pulumi.yaml does not declare, naming the closest one (a typo must not deploy the default)", function () {
            for (const [typo, meant] of [
                ["contianerPort", "containerPort"],
                ["ContainerPort", "containerPort"],
                ["desiredcount", "desiredCount"],
                ["spots", "spot"],
                ["logRetention", "logRetentionDays"],
            ]) {
                assert.throws(
                    () => load({ [typo]: "9000" }),
                    (err: Error) =>
                        err instanceof ConfigError &&
                        err.message.includes(
                            `${project.name}:${typo} is not a setting of this project; did you mean ${project.name}:${meant}?`,
                        ),
                    typo,
                );
            }
        });

        it("takes spot with either architecture: Fargate Spot runs ARM64 tasks on platform 1.4.0 and later", function () {
            // ECS API reference, CapacityProviderStrategyItem: "FARGATE_SPOT supports Linux tasks with the ARM64 architecture on platform version 1.4.0 or later".
            const arm = load({ spot: "true", cpuArchitecture: "ARM64" });
            assert.equal(arm.spot, true);
            assert.equal(arm.cpuArchitecture, "ARM64");
            assert.equal(load({ spot: "true" }).spot, true);
        });

        it("rejects compareSingleStage with ARM64: the single-stage build would need an ARM64 builder", function () {
            assert.throws(
                () => load({ compareSingleStage: "true", cpuArchitecture: "ARM64" }),
                (err: Error) =>
                    err instanceof ConfigError &&
                    /compareSingleStage is true with .*cpuArchitecture ARM64, but the single-stage Dockerfile compiles inside the target platform's Go image/.test(
                        err.message,
                    ),
            );
        });

        it("takes your own network: a VPC, its public subnets for the load balancer, private ones for the tasks", function () {
            const c = load({
                vpc: "existing",
                vpcId: ownVpc.vpcId,
                publicSubnetIds: ownVpc.publicSubnetIds.join(", "),
                privateSubnetIds: ownVpc.privateSubnetIds.join(","),
            });
            assert.equal(c.vpcId, ownVpc.vpcId);
            assert.deepEqual(c.publicSubnetIds, ownVpc.publicSubnetIds);
            assert.deepEqual(c.privateSubnetIds, ownVpc.privateSubnetIds);
            const problems = (over: Record<string, string>) => {
                try {
                    load({ vpc: "existing", ...over });
                } catch (err) {
                    return (err as ConfigError).problems.join("\n");
                }
                return "";
            };
            assert.match(problems({}), /vpcId is ""; with vpc "existing" it accepts a VPC ID/);
            assert.match(
                problems({}),
                /publicSubnetIds names 0 subnet\(s\); with vpc "existing" the load balancer needs public subnets in at least two/,
            );
            assert.match(problems({ publicSubnetIds: "subnet-0a1b2c3d" }), /names 1 subnet/);
            assert.match(
                problems({ publicSubnetIds: "subnet-x,subnet-0a1b2c3d" }),
                /publicSubnetIds is "subnet-x,subnet-0a1b2c3d"; it accepts subnet IDs separated by commas/,
            );
            assert.match(
                problems({ publicSubnetIds: "subnet-0a1b2c3d,subnet-0a1b2c3e", privateSubnetIds: "subnet-0a1b2c3d" }),
                /privateSubnetIds and .*publicSubnetIds both name subnet-0a1b2c3d/,
            );
        });

        it("takes a domain name, and a certificate only with one", function () {
            const cert = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab";
            const c = load({ domainName: "Calc.Example.com.", certificateArn: cert, hostedZoneId: exampleZone.zoneId });
            assert.equal(c.domainName, "calc.example.com");
            assert.equal(c.certificateArn, cert);
            assert.equal(c.hostedZoneId, exampleZone.zoneId);
        });

        it("accepts every Fargate cpu/memory pair and the ARM64 architecture", function () {
            for (const [cpu, memories] of Object.entries(fargateMemoryByCpu)) {
                for (const memory of memories) load({ cpu, memory: String(memory) });
            }
            assert.equal(load({ cpuArchitecture: "ARM64" }).platform, "linux/arm64");
        });

        it("reports several bad values together, one line each", function () {
            assert.throws(
                () => load({ cpu: "300", spot: "maybe", vpc: "mine", logRetentionDays: "2" }),
                (err: ConfigError) => {
                    assert.equal(err.problems.length, 4, err.message);
                    for (const k of ["cpu", "spot", "vpc", "logRetentionDays"])
                        assert.match(err.message, new RegExp(`${project.name}:${k} is`));
                    return true;
                },
            );
        });

        it("fails the program run (as `pulumi preview` would) with the same message, and creates nothing", async function () {
            const message = await failureOf({ set: { cpu: "300", vpc: "mine" } });
            assert.match(message, /invalid stack configuration \(2 problems\)/);
            assert.match(message, new RegExp(`${project.name}:cpu is "300"`));
            assert.match(message, new RegExp(`${project.name}:vpc is "mine"`));
        });

        it("fails the program run on a mistyped key, as `pulumi preview -c contianerPort=9000` would", async function () {
            const message = await failureOf({ set: { contianerPort: "9000" } });
            assert.match(
                message,
                new RegExp(`${project.name}:contianerPort is not a setting of this project; did you mean ${project.name}:containerPort\\?`),
            );
        });

        it("lets other namespaces' keys through (aws:region and the like are not the project's)", async function () {
            const run = await runUnderMocks({ set: { "aws:region": "eu-west-1", "aws:skipMetadataApiCheck": "true" } });
            assert.equal(run.one(T.provider).inputs.region, "eu-west-1");
        });

        it("names a key that is missing entirely (a program run without Pulumi.yaml's defaults)", async function () {
            const message = await failureOf({ rawConfig: { [`${project.name}:cpu`]: "256" } });
            assert.match(message, new RegExp(`${project.name}:memory is not set`));
        });

        it("a run with no stack config behaves as `pulumi up` with Pulumi.yaml's defaults", function () {
            const task = defaults.inputs(T.taskDef);
            assert.equal(task.cpu, "256");
            assert.equal(task.memory, "512");
            assert.equal(task.runtimePlatform.cpuArchitecture, "X86_64");
            assert.equal(defaults.inputs(T.service).desiredCount, 1);
            assert.equal(defaults.inputs(T.scalingTarget).maxCapacity, 4);
            assert.equal(defaults.inputs(T.logGroup).retentionInDays, 7);
            assert.equal(defaults.all(T.image).length, 1);
        });
    });

    describe("ServiceImage", function () {
        it("makes an ECR repository that destroys with images inside and scans on push", function () {
            const repo = defaults.inputs(T.repository);
            assert.equal(repo.forceDelete, true);
            assert.equal(repo.imageScanningConfiguration.scanOnPush, true);
        });

        it("keeps imagesToKeep images and expires untagged ones", async function () {
            const policy = JSON.parse(defaults.inputs(T.lifecycle).policy);
            assert.equal(
                defaults.inputs(T.lifecycle).repository,
                defaults.one(T.repository).state?.name,
                "the policy is the stack's repository's",
            );
            assert.equal(policy.rules.length, 2);
            const untagged = policy.rules.find((r: { selection: { tagStatus: string } }) => r.selection.tagStatus === "untagged");
            assert.equal(untagged.action.type, "expire");
            const any = policy.rules.find((r: { selection: { tagStatus: string } }) => r.selection.tagStatus === "any");
            assert.equal(any.selection.countNumber, 10);
            assert.ok(any.rulePriority > untagged.rulePriority, "the 'any' rule must have the lowest priority");
            const three = await runUnderMocks({ set: { imagesToKeep: "3" } });
            assert.equal(JSON.parse(three.inputs(T.lifecycle).policy).rules[1].selection.countNumber, 3);
        });

        it("builds the service's Dockerfile, at its declared stage, with BuildKit for the task's platform, from paths relative to the program", function () {
            const image = defaults.inputs(T.image);
            // The CLI runs the program, and the Docker provider, in infra/ (Pulumi.yaml's main).
            assert.equal(project.programDir, path.join(repoRoot, "infra"));
            const context = path.relative(project.programDir, serviceDir);
            assert.equal(image.build.context, context);
            assert.equal(image.build.dockerfile, path.join(context, "Dockerfile"));
            assert.equal(path.resolve(project.programDir, image.build.dockerfile), path.join(serviceDir, "Dockerfile"));
            assert.equal(image.build.target, declared.target);
            assert.equal(image.build.platform, "linux/amd64");
            assert.equal(image.build.builderVersion, "BuilderBuildKit");
            assert.equal(image.skipPush, false);
            assert.equal(image.build.args.GO_IMAGE, undefined, "no builder image is forced when GO_IMAGE is unset");
        });

        it("stamps a version made of the service folder's content only: no commit, no clock", function () {
            const args = defaults.inputs(T.image).build.args;
            const digest = sourceDigest(serviceDir, path.join(serviceDir, "Dockerfile"));
            assert.equal(args.VERSION, `src-${digest.slice(0, 12)}`);
            assert.equal(args.SOURCE_DATE_EPOCH, "0");
            assert.deepEqual(Object.keys(args).sort(), ["BUILDKIT_INLINE_CACHE", "SOURCE_DATE_EPOCH", "VERSION"]);
        });

        it("labels the image with the repository package.json names, as a browsable URL, and with none when it names none", function () {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "package-"));
            const url = (repository: unknown) => {
                fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "x", repository }));
                return repositoryUrl(dir);
            };
            try {
                assert.equal(url({ type: "git", url: "git+https://github.com/acme/calc.git" }), "https://github.com/acme/calc");
                assert.equal(url("git@github.com:acme/calc.git"), "https://github.com/acme/calc");
                assert.equal(url("github:acme/calc"), "https://github.com/acme/calc");
                assert.equal(url("acme/calc"), "https://github.com/acme/calc");
                assert.equal(url("https://gitlab.example.com/team/calc"), "https://gitlab.example.com/team/calc");
                assert.equal(url(undefined), undefined);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
            const declared = repositoryUrl(repoRoot);
            assert.equal(defaults.inputs(T.image).build.args.SOURCE_URL, declared);
        });

        it("tags each platform's image apart, so an ARM64 push never reuses an X86_64 tag", async function () {
            const arm = await runUnderMocks({ set: { cpuArchitecture: "ARM64", cpu: "512", memory: "1024" } });
            const version = defaults.inputs(T.image).build.args.VERSION;
            assert.equal(defaults.inputs(T.image).imageName, `${String(defaults.outputs.repositoryUrl)}:${version}-amd64`);
            assert.equal(arm.inputs(T.image).imageName, `${String(arm.outputs.repositoryUrl)}:${version}-arm64`);
        });

        it("builds a new version without cacheFrom: the provider would report the tag it cannot pull, on every new version", function () {
            // pulumi-docker provider/image.go pulls every cacheFrom image first and reports each it cannot pull.
            const image = defaults.inputs(T.image);
            assert.equal(image.build.cacheFrom, undefined);
            assert.equal(image.build.args.BUILDKIT_INLINE_CACHE, "1", "the image carries its cache metadata for a later build");
            const asked = defaults.calls("aws:ecr/getImage:getImage").filter((c) => c.inputs.imageTag !== undefined);
            assert.deepEqual(
                asked.map((c) => c.inputs),
                [{ repositoryName: autoName(svcName), imageTag: image.imageName.split(":").pop() }],
            );
        });

        it("takes the layers of a version the registry already holds (a revert) from there", async function () {
            const tag = String(defaults.inputs(T.image).imageName).split(":").pop()!;
            const revert = await runUnderMocks({ fake: { registryTags: [tag] } });
            assert.deepEqual(revert.inputs(T.image).build.cacheFrom, { images: [revert.inputs(T.image).imageName] });
        });

        it("asks the registry once per version and keeps the answer, so the push does not change the next run's inputs", async function () {
            const held = defaults.one(T.stash, named("image-in-registry"));
            const tag = String(defaults.inputs(T.image).imageName).split(":").pop();
            assert.equal(held.replacementTrigger, tag);
            // The fake's registry holds what the run pushed: the next run's question gets the other answer.
            assert.deepEqual(defaults.run.registryTags, [tag]);
            const next = await runUncached({ after: defaults });
            assert.deepEqual(
                next.calls("aws:ecr/getImage:getImage").filter((c) => c.inputs.imageTag === tag).length,
                1,
                "the program asks on every run",
            );
            // The engine diffs a Stash on its input, which flipped: ignored, it keeps the first answer.
            assert.deepEqual(held.ignoreChanges, ["input"]);
            assert.equal(next.one(T.stash).state?.output, false, "the Stash keeps the answer it was made with");
            assert.equal(planUpdate(defaults, next).find((s) => s.type === T.stash)?.op, "same");
            assert.equal(next.inputs(T.image).build.cacheFrom, undefined);
        });

        it("pushes to the stack's repository with a token for its registry, the credentials kept secret", function () {
            const raw = defaults.one(T.image).inputs.registry;
            assert.ok(isSecret(raw), "the registry credentials are not marked secret: they would be in the state in clear");
            const registry = defaults.inputs(T.image).registry;
            assert.equal(registry.server, defaults.outputs.repositoryUrl);
            const calls = defaults.calls("aws:ecr/getAuthorizationToken:getAuthorizationToken");
            assert.equal(calls.length, 1);
            assert.equal(
                calls[0].inputs.registryId,
                defaults.one(T.repository).state?.registryId,
                "a token for another registry cannot push",
            );
        });

        it("exports the size ECR reports for the pushed digest", function () {
            const call = defaults.calls("aws:ecr/getImage:getImage").filter((c) => c.inputs.imageDigest !== undefined);
            assert.equal(call.length, 1);
            assert.equal(call[0].inputs.imageDigest, defaultFake.imageDigest);
            assert.equal(call[0].inputs.repositoryName, autoName(svcName));
            assert.equal(defaults.outputs.imageSizeBytes, defaultFake.imageSizeBytes);
            assert.equal(defaults.outputs.imageSize, "2.4 MB");
            assert.equal(defaults.outputs.imageRef, `${String(defaults.outputs.repositoryUrl)}@${defaultFake.imageDigest}`);
        });

        const single = declared.singleStageDockerfile;
        it(
            single
                ? `with compareSingleStage builds ${single} under its own tag and exports the comparison`
                : "refuses compareSingleStage for a service that declares no single-stage Dockerfile",
            async function () {
                if (!single) {
                    assert.match(
                        await failureOf({ set: { compareSingleStage: "true" } }),
                        /compareSingleStage is true, but no service declares a singleStageDockerfile/,
                    );
                    return;
                }
                const dev = await runUnderMocks({ set: { compareSingleStage: "true" } });
                const images = dev.all(T.image).map((r) => dev.inputs(T.image, r.name));
                assert.equal(images.length, 2);
                const singleImage = images.find((i) => i.build.dockerfile.endsWith(single));
                assert.ok(singleImage, "no single-stage image");
                const singleVersion = `src-${sourceDigest(serviceDir, path.join(serviceDir, single)).slice(0, 12)}`;
                assert.equal(singleImage.imageName, `${String(dev.outputs.repositoryUrl)}:${singleVersion}-single-stage-amd64`);
                assert.equal(singleImage.build.target, undefined);
                assert.equal(dev.outputs.singleStageImageSizeBytes, defaultFake.singleStageSizeBytes);
                assert.equal(dev.outputs.imageSizeReduction, sizeReduction(defaultFake.singleStageSizeBytes, defaultFake.imageSizeBytes));
                assert.equal(dev.outputs.imageSizeReduction, "132x smaller");
                assert.equal(defaults.outputs.singleStageImageSizeBytes, undefined);
                assert.equal(defaults.outputs.imageSizeReduction, undefined);
            },
        );

        it("a stack does not push a single-stage image on every version unless it sets compareSingleStage", function () {
            assert.equal(project.config.compareSingleStage.default, "false");
        });

        it("passes GO_IMAGE to the build when the environment sets one (air-gapped builders)", async function () {
            const run = await runUnderMocks({ env: { GO_IMAGE: "registry.internal/golang:1.26" } });
            assert.equal(run.inputs(T.image).build.args.GO_IMAGE, "registry.internal/golang:1.26");
        });

        it("reads sizes as people do", function () {
            assert.equal(digestOf("repo@sha256:abc"), "sha256:abc");
            assert.throws(() => digestOf("repo:tag"), /not a repository digest/);
            assert.equal(humanBytes(999), "999 B");
            assert.equal(humanBytes(2_412_345), "2.4 MB");
            assert.equal(humanBytes(318_456_789), "318.5 MB");
            assert.throws(() => humanBytes(-1));
            assert.equal(sizeReduction(800e6, 3e6), "267x smaller");
        });
    });

    describe("ARM64", function () {
        it("builds for linux/arm64 and runs tasks on ARM64: the two agree", async function () {
            const arm = await runUnderMocks({ set: { cpuArchitecture: "ARM64", cpu: "512", memory: "1024" } });
            assert.equal(arm.inputs(T.image).build.platform, "linux/arm64");
            const task = arm.inputs(T.taskDef);
            assert.deepEqual(task.runtimePlatform, { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" });
            assert.equal(task.cpu, "512");
            assert.equal(task.memory, "1024");
        });
    });

    describe("Network", function () {
        const zoneIdFilter = (run: Run): string[] => {
            const filters = run.calls("aws:ec2/getSubnets:getSubnets")[0].inputs.filters as { name: string; values: string[] }[];
            return filters.find((f) => f.name === "availability-zone-id")!.values;
        };

        it("vpc=default uses the default VPC's default subnets in zones where Fargate runs, and creates no network", function () {
            const lookup = defaults.calls("aws:ec2/getVpcs:getVpcs")[0].inputs;
            assert.deepEqual(lookup.filters, [{ name: "is-default", values: ["true"] }]);
            assert.deepEqual(zoneIdFilter(defaults), ["use1-az1", "use1-az2", "use1-az4"]);
            assert.equal(defaults.all(T.vpc).length, 0);
            assert.equal(defaults.all(T.subnet).length, 0);
            assert.deepEqual(defaults.inputs(T.lb).subnets, ["subnet-a", "subnet-b", "subnet-c"]);
            assert.equal(defaults.inputs(T.tg).vpcId, "vpc-default");
            const net = defaults.inputs(T.service).networkConfiguration;
            assert.deepEqual(net.subnets, ["subnet-a", "subnet-b", "subnet-c"]);
            assert.equal(net.assignPublicIp, true, "tasks in public subnets need a public IP to pull from ECR");
        });

        it("an account with no default VPC (a landing zone's): a message naming the ways out, not the provider's", async function () {
            const message = await failureOf({ fake: { world: { defaultVpcId: null } } });
            assert.match(message, new RegExp(`${project.name}:vpc is "default", but this account has no default VPC in us-east-1`));
            assert.match(message, /Set .*vpc to "new" \(the stack makes a VPC\), or to "existing" with .*vpcId and .*publicSubnetIds/);
            assert.doesNotMatch(message, /no matching EC2 VPC found/);
        });

        // us-west-1 as an account may see it: Fargate runs in usw1-az1 and usw1-az3 only.
        const usWest1 = {
            region: "us-west-1",
            zones: [
                { name: "us-west-1a", zoneId: "usw1-az3" },
                { name: "us-west-1b", zoneId: "usw1-az2" },
                { name: "us-west-1c", zoneId: "usw1-az1" },
            ],
            subnets: ["a", "b", "c"].map((z, i) => ({
                id: `subnet-w${z}`,
                vpcId: "vpc-default",
                availabilityZone: `us-west-1${z}`,
                availabilityZoneId: ["usw1-az3", "usw1-az2", "usw1-az1"][i],
                defaultForAz: true,
            })),
        };

        it("uses only zones where Fargate runs (us-west-1: not usw1-az2), with the default VPC and with a new one", async function () {
            const byDefault = await runUnderMocks({ set: { "aws:region": "us-west-1" }, fake: { world: usWest1 } });
            assert.deepEqual(zoneIdFilter(byDefault), ["usw1-az3", "usw1-az1"]);
            const made = await runUnderMocks({ set: { "aws:region": "us-west-1", vpc: "new" }, fake: { world: usWest1 } });
            const zones = made.all(T.subnet).map((s) => made.inputs(T.subnet, s.name).availabilityZone);
            assert.deepEqual(zones.sort(), ["us-west-1a", "us-west-1c"]);
        });

        it("fails at preview when fewer than two zones with Fargate remain, saying so", async function () {
            const oneZone = { ...usWest1, zones: usWest1.zones.slice(0, 2), subnets: usWest1.subnets.slice(0, 2) };
            const byDefault = await failureOf({ set: { "aws:region": "us-west-1" }, fake: { world: oneZone } });
            assert.match(
                byDefault,
                /its default VPC in us-west-1 has 1 default subnet\(s\) in zones where Fargate runs; the load balancer needs two/,
            );
            const made = await failureOf({ set: { "aws:region": "us-west-1", vpc: "new" }, fake: { world: oneZone } });
            assert.match(made, /vpc is "new", but us-west-1 has 1 availability zone\(s\) where Fargate runs/);
        });

        it("vpc=new makes a VPC with two public subnets in two AZs, routed to an internet gateway", async function () {
            const run = await runUnderMocks({ set: { vpc: "new" } });
            const vpc = run.inputs(T.vpc);
            assert.equal(vpc.enableDnsHostnames, true);
            const subnets = run.all(T.subnet).map((s) => run.inputs(T.subnet, s.name));
            assert.equal(subnets.length, 2);
            assert.deepEqual(subnets.map((s) => s.availabilityZone).sort(), ["us-east-1a", "us-east-1b"]);
            assert.ok(subnets.every((s) => s.mapPublicIpOnLaunch === true && s.vpcId === shared("vpc-id")));
            assert.notEqual(subnets[0].cidrBlock, subnets[1].cidrBlock);
            const routes = run.inputs(T.routeTable).routes;
            assert.deepEqual(routes, [{ cidrBlock: "0.0.0.0/0", gatewayId: shared("gateway-id") }]);
            assert.equal(run.all(T.routeAssoc).length, 2);
            assert.equal(run.all(T.gateway).length, 1);
            assert.equal(run.all(T.nat).length, 0);
            assert.deepEqual(run.inputs(T.lb).subnets, [shared("public-1-id"), shared("public-2-id")]);
            assert.deepEqual(run.inputs(T.service).networkConfiguration.subnets, [shared("public-1-id"), shared("public-2-id")]);
            assert.equal(run.calls("aws:ec2/getVpcs:getVpcs").length, 0);
        });

        it("vpc=new with natGateway puts the tasks in two private subnets, without public IPs, behind one NAT gateway", async function () {
            const run = await runUnderMocks({ set: { vpc: "new", natGateway: "true" } });
            const subnet = (name: string) => run.inputs(T.subnet, `${sharedName}-${name}`);
            assert.deepEqual(
                run
                    .all(T.subnet)
                    .map((s) => s.name)
                    .sort(),
                [shared("private-1"), shared("private-2"), shared("public-1"), shared("public-2")],
            );
            for (const name of ["private-1", "private-2"]) assert.equal(subnet(name).mapPublicIpOnLaunch, false);
            assert.deepEqual([subnet("private-1").availabilityZone, subnet("private-2").availabilityZone], ["us-east-1a", "us-east-1b"]);
            const nat = run.inputs(T.nat);
            assert.equal(nat.subnetId, shared("public-1-id"), "the NAT gateway sits in a public subnet");
            assert.equal(nat.allocationId, shared("nat-id"));
            assert.deepEqual(run.inputs(T.routeTable, shared("private")).routes, [
                { cidrBlock: "0.0.0.0/0", natGatewayId: shared("nat-id") },
            ]);
            const assoc = run.all(T.routeAssoc).map((a) => run.inputs(T.routeAssoc, a.name));
            assert.ok(assoc.some((a) => a.subnetId === shared("private-1-id") && a.routeTableId === shared("private-id")));
            assert.deepEqual(run.inputs(T.lb).subnets, [shared("public-1-id"), shared("public-2-id")]);
            const net = run.inputs(T.service).networkConfiguration;
            assert.deepEqual(net.subnets, [shared("private-1-id"), shared("private-2-id")]);
            assert.equal(net.assignPublicIp, false);
        });

        const existing = {
            vpc: "existing",
            vpcId: ownVpc.vpcId,
            publicSubnetIds: ownVpc.publicSubnetIds.join(","),
            privateSubnetIds: ownVpc.privateSubnetIds.join(","),
        };

        it("vpc=existing runs the load balancer in the public subnets and the tasks in the private ones, and makes no network", async function () {
            const run = await runUnderMocks({ set: existing });
            assert.deepEqual(run.inputs(T.lb).subnets, ownVpc.publicSubnetIds);
            assert.equal(run.inputs(T.tg).vpcId, ownVpc.vpcId);
            assert.equal(run.inputs(T.sg, named("tasks")).vpcId, ownVpc.vpcId);
            const net = run.inputs(T.service).networkConfiguration;
            assert.deepEqual(net.subnets, ownVpc.privateSubnetIds);
            assert.equal(net.assignPublicIp, false);
            for (const type of [T.vpc, T.subnet, T.gateway, T.nat]) assert.equal(run.all(type).length, 0, type);
            const looked = run
                .calls("aws:ec2/getSubnet:getSubnet")
                .map((c) => c.inputs.id)
                .sort();
            assert.deepEqual(looked, [...ownVpc.publicSubnetIds, ...ownVpc.privateSubnetIds].sort());
        });

        it("vpc=existing without private subnets runs the tasks in the public ones, with public IPs", async function () {
            const run = await runUnderMocks({ set: { ...existing, privateSubnetIds: "" } });
            const net = run.inputs(T.service).networkConfiguration;
            assert.deepEqual(net.subnets, ownVpc.publicSubnetIds);
            assert.equal(net.assignPublicIp, true);
        });

        it("vpc=existing checks the subnets against the account at preview, naming the keys", async function () {
            const missing = await failureOf({ set: { ...existing, publicSubnetIds: `${ownVpc.publicSubnetIds[0]},subnet-0f0f0f0f` } });
            assert.match(missing, /publicSubnetIds\/.*privateSubnetIds: no subnet subnet-0f0f0f0f in us-east-1/);
            const stray = {
                id: "subnet-0c00000000000000a",
                vpcId: "vpc-default",
                availabilityZone: "us-east-1a",
                availabilityZoneId: "use1-az1",
                defaultForAz: false,
            };
            const elsewhere = await failureOf({
                set: { ...existing, privateSubnetIds: stray.id },
                fake: { world: { subnets: [...defaultWorld.subnets, stray] } },
            });
            assert.match(elsewhere, new RegExp(`${stray.id} is in vpc-default, not in ${project.name}:vpcId ${ownVpc.vpcId}`));
            const oneZone = await failureOf({
                set: {
                    ...existing,
                    publicSubnetIds: [ownVpc.publicSubnetIds[0], ownVpc.privateSubnetIds[0]].join(","),
                    privateSubnetIds: "",
                },
            });
            assert.match(oneZone, /publicSubnetIds are all in use1-az1; the load balancer needs two availability zones/);
            const world = {
                ...usWest1,
                subnets: [
                    ...usWest1.subnets,
                    ...[...ownVpc.publicSubnetIds, ...ownVpc.privateSubnetIds].map((id, i) => ({
                        id,
                        vpcId: ownVpc.vpcId,
                        availabilityZone: ["us-west-1a", "us-west-1b"][i % 2],
                        availabilityZoneId: ["usw1-az3", "usw1-az2"][i % 2],
                        defaultForAz: false,
                    })),
                ],
            };
            const noFargate = await failureOf({ set: { ...existing, "aws:region": "us-west-1" }, fake: { world } });
            assert.match(
                noFargate,
                new RegExp(
                    `privateSubnetIds: Fargate does not run tasks in the zone of ${ownVpc.privateSubnetIds[1]} \\(usw1-az2\\); in us-west-1 it runs in usw1-az3, usw1-az1`,
                ),
            );
        });
    });

    describe("ServiceDomain", function () {
        let withDomain: Run;
        before(async function () {
            withDomain = await runUnderMocks({ set: { domainName: "calc.example.com" } });
        });

        it("requests a certificate for the domain, validated by a DNS record in the zone that holds it, looked up from the name down", function () {
            // The most specific zone first: calc.example.com could be a delegated zone of its own.
            assert.deepEqual(
                withDomain.calls("aws:route53/getZone:getZone").map((c) => c.inputs),
                [
                    { name: "calc.example.com", privateZone: false },
                    { name: "example.com", privateZone: false },
                ],
            );
            const cert = withDomain.inputs(T.certificate);
            assert.deepEqual(cert, { domainName: "calc.example.com", validationMethod: "DNS" });
            const record = withDomain.inputs(T.record, shared("certificate-validation"));
            assert.equal(record.zoneId, exampleZone.zoneId);
            assert.ok(
                String(record.name).replace(/\.$/, "").endsWith(".calc.example.com"),
                `${record.name} is not a name under the stack's own domain`,
            );
            // The validation waits for exactly that record.
            const validation = withDomain.inputs(T.certificateValidation);
            assert.deepEqual(validation.validationRecordFqdns, [withDomain.one(T.record, shared("certificate-validation")).state?.fqdn]);
            assert.equal(validation.certificateArn, withDomain.one(T.certificate).state?.arn);
        });

        it("finds the zone of a name at its apex and of a name two levels down", async function () {
            const apex = await runUnderMocks({ set: { domainName: "example.com" } });
            assert.equal(apex.inputs(T.record, shared("alias")).zoneId, exampleZone.zoneId);
            const deep = await runUnderMocks({ set: { domainName: "a.b.example.com" } });
            assert.equal(deep.inputs(T.record, shared("alias")).zoneId, exampleZone.zoneId);
            assert.deepEqual(
                deep.calls("aws:route53/getZone:getZone").map((c) => c.inputs.name),
                ["a.b.example.com", "b.example.com", "example.com"],
            );
        });

        it("refuses a hostedZoneId that names a private zone: ACM validates through public DNS and would wait until it times out", async function () {
            const privateZone = { zoneId: "Z0PRIVATE0000000000000", name: "example.com", privateZone: true };
            const message = await failureOf({
                set: { domainName: "calc.example.com", hostedZoneId: privateZone.zoneId },
                fake: { world: { hostedZones: [exampleZone, privateZone] } },
            });
            assert.match(
                message,
                new RegExp(`${project.name}:hostedZoneId Z0PRIVATE0000000000000 \\(example.com\\) is a private hosted zone`),
            );
        });

        it("serves HTTPS on 443 with the validated certificate, redirects HTTP, and exports https://<domain>", function () {
            const https = withDomain.inputs(T.listener, shared("https"));
            assert.equal(https.port, 443);
            assert.equal(https.protocol, "HTTPS");
            assert.match(https.certificateArn, /^arn:aws:acm:us-east-1:123456789012:certificate\//);
            assert.equal(https.defaultActions[0].type, "forward");
            assert.deepEqual(withDomain.inputs(T.listener, shared("http")).defaultActions, [
                { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
            ]);
            assert.equal(withDomain.outputs.url, "https://calc.example.com");
        });

        it("points the domain at the load balancer with an alias record", function () {
            const alias = withDomain.inputs(T.record, shared("alias"));
            assert.equal(alias.zoneId, exampleZone.zoneId);
            assert.equal(alias.name, "calc.example.com");
            assert.equal(alias.type, "A");
            assert.deepEqual(alias.aliases, [
                {
                    name: `${autoName(shared("lb"))}-1234567890.us-east-1.elb.amazonaws.com`,
                    zoneId: "Z35SXDOTRQ7X7K",
                    evaluateTargetHealth: true,
                },
            ]);
        });

        it("with hostedZoneId uses that zone, and refuses a domain outside it", async function () {
            const run = await runUnderMocks({ set: { domainName: "calc.example.com", hostedZoneId: exampleZone.zoneId } });
            assert.deepEqual(
                run.calls("aws:route53/getZone:getZone").map((c) => c.inputs),
                [{ zoneId: exampleZone.zoneId }],
            );
            const outside = await failureOf({ set: { domainName: "calc.example.org", hostedZoneId: exampleZone.zoneId } });
            assert.match(
                outside,
                new RegExp(`${project.name}:domainName calc.example.org is not in the hosted zone example.com \\(${exampleZone.zoneId}\\)`),
            );
            const noZone = await failureOf({ set: { domainName: "calc.example.org" } });
            assert.match(
                noZone,
                new RegExp(
                    `domainName: no public hosted zone in this account holds calc.example.org \\(looked for calc.example.org, example.org\\); set ${project.name}:hostedZoneId`,
                ),
            );
        });

        it("a pull request's stack with dev's config serves pr-<N>.<domain>, and never writes or deletes dev's records", async function () {
            const cert = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab";
            const devConfig = { domainName: "calc.example.com", certificateArn: cert };
            const dev = await runUnderMocks({ configFile: suiteConfigFile(), set: { domainName: devConfig.domainName } });
            // What dev already made in the shared zone: its alias, and its certificate's validation record.
            const devRecords = dev.all(T.record).map((r) => ({
                zoneId: exampleZone.zoneId,
                name: String(r.state?.fqdn),
                type: String(dev.inputs(T.record, r.name).type),
                owner: "dev",
            }));
            assert.ok(devRecords.some((r) => r.name === "calc.example.com" && r.type === "A"));
            const pr = await runUnderMocks({
                stack: "pr-1",
                configFile: suiteConfigFile(),
                set: devConfig,
                fake: { world: { records: devRecords } },
            });
            assert.equal(pr.outputs.url, "https://pr-1.calc.example.com");
            assert.equal(
                pr.inputs(T.certificate).domainName,
                "pr-1.calc.example.com",
                "dev's certificate does not cover the pull request's name",
            );
            assert.notEqual(pr.inputs(T.listener, shared("https")).certificateArn, cert);
            const written = pr.all(T.record).map((r) => `${String(r.state?.fqdn)} ${pr.inputs(T.record, r.name).type}`);
            for (const record of devRecords) {
                assert.ok(
                    !written.includes(`${record.name} ${record.type}`),
                    `pr-1 writes (and its destroy would delete) dev's ${record.name}`,
                );
            }
            assert.ok(
                written.every((w) => w.split(" ")[0].endsWith("pr-1.calc.example.com")),
                written.join(", "),
            );
        });

        it("with certificateArn uses that certificate and requests none; one from another region is refused at preview", async function () {
            const arn = (region: string) => `arn:aws:acm:${region}:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab`;
            const run = await runUnderMocks({ set: { domainName: "calc.example.com", certificateArn: arn("us-east-1") } });
            assert.equal(run.inputs(T.listener, shared("https")).certificateArn, arn("us-east-1"));
            assert.equal(run.all(T.certificate).length, 0);
            assert.equal(run.all(T.record).length, 1, "only the alias record");
            const wrong = await failureOf({ set: { domainName: "calc.example.com", certificateArn: arn("eu-west-1") } });
            assert.match(
                wrong,
                new RegExp(
                    `${project.name}:certificateArn is in eu-west-1, but the stack is in us-east-1: a load balancer takes certificates from its own region only`,
                ),
            );
        });

        it("turning the domain on changes only the listeners, the load balancer's rules and what it adds", function () {
            assert.deepEqual(
                changedResources(defaults, withDomain).map(shortUrn),
                [
                    `${T.certificate}::${sharedName}-certificate`,
                    `${T.certificateValidation}::${sharedName}-certificate`,
                    `${T.listener}::${sharedName}-http`,
                    `${T.listener}::${sharedName}-https`,
                    `${T.record}::${sharedName}-alias`,
                    `${T.record}::${sharedName}-certificate-validation`,
                    `${T.ingress}::${sharedName}-load-balancer-https-ipv4`,
                    `calculator:index:ServiceDomain::${sharedName}`,
                ].sort(),
            );
        });
    });

    describe("AccessLogBucket", function () {
        let logged: Run;
        before(async function () {
            logged = await runUnderMocks({ set: { accessLogs: "true", logRetentionDays: "30" } });
        });

        it("writes the load balancer's access logs to a bucket of the stack's, once the bucket lets it", function () {
            const bucket = logged.inputs(T.bucket);
            assert.equal(bucket.forceDestroy, true, "a stack must destroy with logs in its bucket");
            const lb = logged.inputs(T.lb);
            assert.deepEqual(lb.accessLogs, { bucket: autoName(shared("access-logs")), prefix: accessLogPrefix, enabled: true });
            assert.ok(logged.one(T.lb).dependsOn.includes(`${T.bucketPolicy}::${sharedName}-access-logs`));
            assert.equal(logged.outputs.accessLogsBucket, autoName(shared("access-logs")));
            assert.equal(defaults.inputs(T.lb).accessLogs, undefined);
            assert.equal(defaults.outputs.accessLogsBucket, undefined);
        });

        it("keeps the bucket private and encrypted, and its objects logRetentionDays", function () {
            const block = logged.inputs(T.publicAccessBlock);
            for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
                assert.equal(block[k], true, k);
            assert.deepEqual(logged.inputs(T.encryption).rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
            const [rule] = logged.inputs(T.bucketLifecycle).rules;
            assert.equal(rule.status, "Enabled");
            assert.deepEqual(rule.expiration, { days: 30 });
        });

        it("lets only the region's load balancer log delivery write, under the stack's account, and nothing without TLS", async function () {
            const policy = JSON.parse(logged.inputs(T.bucketPolicy).policy);
            const [allow, deny] = policy.Statement;
            assert.deepEqual(allow.Principal, { AWS: "127311923021" }, "us-east-1's Elastic Load Balancing account");
            assert.equal(allow.Action, "s3:PutObject");
            assert.equal(allow.Resource, `arn:aws:s3:::${autoName(shared("access-logs"))}/${accessLogPrefix}/AWSLogs/123456789012/*`);
            assert.equal(deny.Effect, "Deny");
            assert.deepEqual(deny.Condition, { Bool: { "aws:SecureTransport": "false" } });
            assert.ok(logged.one(T.bucketPolicy).dependsOn.includes(`${T.publicAccessBlock}::${sharedName}-access-logs`));
            // Regions opened since August 2022 deliver as a service principal.
            const newer = await runUnderMocks({
                set: { accessLogs: "true", "aws:region": "ap-southeast-5" },
                fake: { world: { region: "ap-southeast-5" } },
            });
            assert.deepEqual(JSON.parse(newer.inputs(T.bucketPolicy).policy).Statement[0].Principal, {
                Service: "logdelivery.elasticloadbalancing.amazonaws.com",
            });
        });

        it("a pull request's stack writes none, though it has dev's accessLogs (its deploy role may make no S3 bucket)", async function () {
            const pr = await runUnderMocks({ stack: "pr-7", set: { accessLogs: "true" } });
            assert.deepEqual(pr.all(T.bucket), []);
            assert.equal(pr.inputs(T.lb).accessLogs, undefined);
            assert.equal(pr.outputs.accessLogsBucket, undefined);
        });

        it("turning access logs on changes only the load balancer, besides the bucket it adds", async function () {
            const on = await runUnderMocks({ set: { accessLogs: "true" } });
            assert.deepEqual(
                changedResources(defaults, on).map(shortUrn),
                [
                    `${T.lb}::${sharedName}-lb`,
                    `calculator:index:AccessLogBucket::${sharedName}`,
                    `${T.bucket}::${sharedName}-access-logs`,
                    `${T.bucketPolicy}::${sharedName}-access-logs`,
                    `${T.publicAccessBlock}::${sharedName}-access-logs`,
                    `${T.encryption}::${sharedName}-access-logs`,
                    `${T.bucketLifecycle}::${sharedName}-access-logs`,
                ].sort(),
            );
        });
    });

    describe("WebService", function () {
        it("puts an internet-facing ALB in front, deletable, dropping invalid headers", function () {
            const lb = defaults.inputs(T.lb);
            assert.equal(lb.loadBalancerType, "application");
            assert.equal(lb.internal, false);
            assert.equal(lb.enableDeletionProtection, false);
            assert.equal(lb.dropInvalidHeaderFields, true);
            assert.deepEqual(lb.securityGroups, [shared("load-balancer-id")]);
        });

        /** Every security group rule of a run, as [group, direction, protocol, ports, peer]. */
        function rulesOf(run: Run): string[] {
            const peer = (r: { cidrIpv4?: string; cidrIpv6?: string; referencedSecurityGroupId?: string }) =>
                r.cidrIpv4 ?? r.cidrIpv6 ?? `group ${r.referencedSecurityGroupId}`;
            return (["ingress", "egress"] as const)
                .flatMap((direction) =>
                    run.all(T[direction]).map((res) => {
                        const r = run.inputs(T[direction], res.name);
                        const ports = r.ipProtocol === "-1" ? "all" : `${r.fromPort}-${r.toPort}`;
                        return `${r.securityGroupId} ${direction} ${r.ipProtocol} ${ports} ${peer(r)}`;
                    }),
                )
                .sort();
        }

        it("opens the ALB on 80 only, over IPv4 (it has no IPv6 address); the ALB sends only to the tasks, and only the ALB reaches them", function () {
            assert.equal(defaults.inputs(T.lb).ipAddressType, "ipv4");
            assert.deepEqual(
                rulesOf(defaults),
                [
                    `${sharedName}-load-balancer-id egress tcp ${port}-${port} group ${svcName}-tasks-id`,
                    `${sharedName}-load-balancer-id ingress tcp 80-80 0.0.0.0/0`,
                    `${svcName}-tasks-id egress -1 all 0.0.0.0/0`,
                    `${svcName}-tasks-id ingress tcp ${port}-${port} group ${sharedName}-load-balancer-id`,
                ].sort(),
            );
            // Rules live in rule resources only: inline rules beside them would fight over the group.
            for (const sg of defaults.all(T.sg)) {
                const inputs = defaults.inputs(T.sg, sg.name);
                assert.equal(inputs.ingress, undefined, `${sg.name} declares inline ingress`);
                assert.equal(inputs.egress, undefined, `${sg.name} declares inline egress`);
            }
            assert.deepEqual(defaults.inputs(T.service).networkConfiguration.securityGroups, [named("tasks-id")]);
            const waitsFor = defaults.one(T.service).dependsOn;
            for (const rule of [...defaults.all(T.ingress), ...defaults.all(T.egress)]) {
                assert.ok(waitsFor.includes(`${rule.type}::${rule.name}`), `the service does not wait for ${rule.name}`);
            }
        });

        it("health-checks the tasks on the declared health path through an ip target group that drains quickly", function () {
            const tg = defaults.inputs(T.tg);
            assert.equal(tg.targetType, "ip");
            assert.equal(tg.port, port);
            assert.equal(tg.protocol, "HTTP");
            assert.equal(tg.protocolVersion, contract.protocolVersion ?? "HTTP1");
            assert.equal(tg.healthCheck.path, healthPath);
            assert.equal(tg.healthCheck.matcher, "200");
            assert.ok(tg.deregistrationDelay <= 30, `deregistration delay ${tg.deregistrationDelay}s`);
        });

        it("serves HTTP on 80 by default: one listener, forwarding to the target group", function () {
            const listeners = defaults.all(T.listener);
            assert.equal(listeners.length, 1);
            const http = defaults.inputs(T.listener, shared("http"));
            assert.equal(http.port, 80);
            assert.deepEqual(http.defaultActions, [
                { type: "forward", targetGroupArn: `arn:aws:lb:us-east-1:123456789012:${svcName}-app` },
            ]);
            assert.match(
                String(defaults.outputs.url),
                new RegExp(`^http://${escaped(shared("lb"))}-[0-9a-f]+-\\d+\\.us-east-1\\.elb\\.amazonaws\\.com$`),
            );
        });

        it("runs the image by digest, as the declared user, read-only, with the declared health check, stop timeout and settings", function () {
            const c = containerOf(defaults);
            assert.equal(c.image, defaults.outputs.imageRef);
            assert.match(c.image, /@sha256:[0-9a-f]{64}$/, "the task must pin the image by digest, never a tag");
            assert.deepEqual(c.portMappings, [{ name: "http", containerPort: port, hostPort: port, protocol: "tcp" }]);
            assert.equal(c.user, contract.user);
            assert.equal(c.readonlyRootFilesystem, contract.readonlyRootFilesystem ?? true);
            assert.deepEqual(c.healthCheck.command, contract.healthCheckCommand);
            const env = Object.fromEntries(c.environment.map((e: { name: string; value: string }) => [e.name, e.value]));
            assert.deepEqual(env, { ...contract.environment, PORT: String(port) }, "the declared settings and PORT, nothing else");
            assert.equal(defaults.inputs(T.lb).idleTimeout, loadBalancerIdleTimeoutSeconds);
            assert.equal(c.stopTimeout, contract.stopTimeoutSeconds);
            assert.equal(c.logConfiguration.logDriver, "awslogs");
            assert.equal(c.logConfiguration.options["awslogs-group"], defaults.outputs.logGroupName);
            assert.equal(c.logConfiguration.options["awslogs-region"], "us-east-1");
        });

        it("honours containerPort everywhere it matters", async function () {
            const run = await runUnderMocks({ set: { containerPort: "9000" } });
            const c = containerOf(run);
            assert.equal(c.portMappings[0].containerPort, 9000);
            assert.equal(c.environment.find((e: { name: string }) => e.name === "PORT").value, "9000");
            assert.equal(run.inputs(T.tg).port, 9000);
            assert.deepEqual(
                rulesOf(run).filter((r) => r.includes("group")),
                [
                    `${sharedName}-load-balancer-id egress tcp 9000-9000 group ${svcName}-tasks-id`,
                    `${svcName}-tasks-id ingress tcp 9000-9000 group ${sharedName}-load-balancer-id`,
                ].sort(),
            );
            assert.equal(run.inputs(T.service).loadBalancers[0].containerPort, 9000);
        });

        it("defines a Fargate task: awsvpc, its size, and its two roles", function () {
            const task = defaults.inputs(T.taskDef);
            assert.deepEqual(task.requiresCompatibilities, ["FARGATE"]);
            assert.equal(task.networkMode, "awsvpc");
            assert.equal(
                task.family,
                taskFamily(project.name, "test", familyPart),
                "the family carries the stack name so stacks do not share it",
            );
            assert.equal(task.executionRoleArn, `arn:aws:iam::123456789012:role/${autoName(named("execution"))}`);
            assert.equal(task.taskRoleArn, `arn:aws:iam::123456789012:role/${autoName(named("task"))}`);
        });

        it("makes a valid task family of any stack name the CLI allows", async function () {
            const dotted = await runUnderMocks({ stack: "staging.eu" });
            const dashed = await runUnderMocks({ stack: "staging-eu" });
            const family = dotted.inputs(T.taskDef).family;
            assert.match(family, /^[A-Za-z0-9_-]{1,255}$/);
            assert.ok(family.startsWith(`${project.name}-staging-eu-`), family);
            assert.notEqual(family, dashed.inputs(T.taskDef).family, "two stacks must not share a family");
            assert.equal(dashed.inputs(T.taskDef).family, taskFamily(project.name, "staging-eu", familyPart));
        });

        it("gives the execution role only AmazonECSTaskExecutionRolePolicy and the task role nothing", function () {
            for (const name of [named("execution"), named("task")]) {
                const trust = JSON.parse(defaults.inputs(T.role, name).assumeRolePolicy);
                assert.equal(trust.Statement.length, 1);
                assert.deepEqual(trust.Statement[0].Principal, { Service: "ecs-tasks.amazonaws.com" });
                // Only on behalf of this account (AWS's confused-deputy guidance).
                assert.deepEqual(trust.Statement[0].Condition, { StringEquals: { "aws:SourceAccount": "123456789012" } });
                assert.equal(defaults.inputs(T.role, name).inlinePolicies, undefined);
                assert.equal(defaults.inputs(T.role, name).managedPolicyArns, undefined);
            }
            const attachments = defaults.all(T.attachment).map((a) => defaults.inputs(T.attachment, a.name));
            assert.deepEqual(attachments, [
                {
                    role: autoName(named("execution")),
                    policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
                },
            ]);
            assert.equal(defaults.all(T.rolePolicy).length, 0);
        });

        it("with rolePermissionsBoundary, both roles carry the boundary and live under /<project>/; turning it on replaces only them, what names them, and the task definition", async function () {
            const boundary = `arn:aws:iam::123456789012:policy/go-fargate-${svcName}-ci/role-boundary`;
            const bounded = await runUnderMocks({ set: { rolePermissionsBoundary: boundary } });
            for (const name of [named("execution"), named("task")]) {
                assert.equal(bounded.inputs(T.role, name).permissionsBoundary, boundary, name);
                assert.equal(bounded.inputs(T.role, name).path, `/${project.name}/`, name);
                assert.equal(defaults.inputs(T.role, name).permissionsBoundary, undefined, `${name}: none by default`);
                assert.equal(defaults.inputs(T.role, name).path, undefined, `${name}: the default path by default`);
            }
            // IAM cannot move a role to another path: the two roles are made anew, and with them whatever names them.
            assert.deepEqual(
                planSummary(planUpdate(defaults, bounded)),
                [
                    `${T.role}::${svcName}-execution replace`,
                    `${T.attachment}::${svcName}-execution replace`,
                    `${T.role}::${svcName}-task replace`,
                    `${T.service}::${svcName}-app update`,
                    `${T.taskDef}::${svcName}-app replace`,
                ].sort(),
            );
            assert.deepEqual(refusedUpdates(defaults, bounded), []);
        });

        it("runs the service with a circuit breaker that rolls back, behind the target group, waiting for steady state", function () {
            const svc = defaults.inputs(T.service);
            assert.deepEqual(svc.deploymentCircuitBreaker, { enable: true, rollback: true });
            assert.ok(svc.healthCheckGracePeriodSeconds >= 10);
            assert.equal(svc.waitForSteadyState, true);
            assert.equal(svc.networkConfiguration.assignPublicIp, true);
            assert.deepEqual(svc.loadBalancers, [
                { targetGroupArn: `arn:aws:lb:us-east-1:123456789012:${svcName}-app`, containerName: "app", containerPort: port },
            ]);
            assert.deepEqual(svc.capacityProviderStrategies, [{ capacityProvider: "FARGATE", weight: 1 }]);
            assert.match(svc.taskDefinition, /^arn:aws:ecs:us-east-1:123456789012:task-definition\//);
            assert.ok(
                defaults.one(T.service).dependsOn.includes(`${T.listener}::${sharedName}-http`),
                "the service must wait for the listener",
            );
            // A task that starts before the role may pull the image fails to start.
            assert.ok(
                defaults.one(T.service).dependsOn.includes(`${T.attachment}::${svcName}-execution`),
                "the service must wait for the execution role's policy",
            );
        });

        it("runs ARM64 tasks on Fargate Spot, on the platform version that supports them (LATEST)", async function () {
            const run = await runUnderMocks({ set: { spot: "true", cpuArchitecture: "ARM64", cpu: "512", memory: "1024" } });
            assert.deepEqual(run.inputs(T.service).capacityProviderStrategies, [{ capacityProvider: "FARGATE_SPOT", weight: 1 }]);
            assert.equal(run.inputs(T.service).platformVersion, "LATEST");
            assert.equal(run.inputs(T.taskDef).runtimePlatform.cpuArchitecture, "ARM64");
        });

        it("spot=true runs on FARGATE_SPOT", async function () {
            const run = await runUnderMocks({ set: { spot: "true" } });
            assert.deepEqual(run.inputs(T.service).capacityProviderStrategies, [{ capacityProvider: "FARGATE_SPOT", weight: 1 }]);
            assert.deepEqual(run.inputs(T.capacity).capacityProviders, ["FARGATE", "FARGATE_SPOT"]);
        });

        it("toggling spot on a live stack rolls the service in place, which the provider allows only with forceNewDeployment", async function () {
            const spot = await runUnderMocks({ set: { spot: "true" } });
            assert.equal(spot.inputs(T.service).forceNewDeployment, true);
            assert.deepEqual(refusedUpdates(defaults, spot), []);
            assert.deepEqual(refusedUpdates(spot, defaults), []);
            // Updated in place, not replaced: the service keeps its name and its autoscaling target; the
            // cluster offers both capacity providers whatever its services use.
            assert.deepEqual(changedResources(defaults, spot).map(shortUrn), [`${T.service}::${svcName}-app`]);
        });

        it("the provider rule the spot toggle depends on: a strategy change without forceNewDeployment is refused", async function () {
            const spot = await runUnderMocks({ set: { spot: "true" } });
            const withoutForce = new Run({
                ...spot.run,
                resources: spot.resources.map((r) =>
                    r.type === T.service ? { ...r, inputs: { ...r.inputs, forceNewDeployment: false } } : r,
                ),
            });
            assert.deepEqual(refusedUpdates(defaults, withoutForce), [
                `${T.service}::${svcName}-app: force_new_deployment should be true when capacity_provider_strategy is being updated (terraform-provider-aws internal/service/ecs/service.go, capacityProviderStrategyCustomizeDiff)`,
            ]);
        });

        it("keeps logs for logRetentionDays and sets Container Insights from config", async function () {
            assert.deepEqual(defaults.inputs(T.cluster).settings, [{ name: "containerInsights", value: "disabled" }]);
            const run = await runUnderMocks({ set: { containerInsights: "true", logRetentionDays: "30" } });
            assert.deepEqual(run.inputs(T.cluster).settings, [{ name: "containerInsights", value: "enabled" }]);
            assert.equal(run.inputs(T.logGroup).retentionInDays, 30);
        });

        it("autoscales between minCount and maxCount on CPU and on requests per target", async function () {
            const run = await runUnderMocks({ set: { minCount: "2", desiredCount: "3", maxCount: "6" } });
            const target = run.inputs(T.scalingTarget);
            assert.equal(target.minCapacity, 2);
            assert.equal(target.maxCapacity, 6);
            assert.equal(target.resourceId, `service/${String(run.outputs.clusterName)}/${String(run.outputs.serviceName)}`);
            assert.equal(run.inputs(T.service).desiredCount, 3, "a new service starts with desiredCount tasks");
            const policies = run
                .all(T.scalingPolicy)
                .map((p) => run.inputs(T.scalingPolicy, p.name).targetTrackingScalingPolicyConfiguration);
            const metrics = policies.map((p) => p.predefinedMetricSpecification.predefinedMetricType).sort();
            assert.deepEqual(metrics, ["ALBRequestCountPerTarget", "ECSServiceAverageCPUUtilization"]);
            const requests = policies.find((p) => p.predefinedMetricSpecification.predefinedMetricType === "ALBRequestCountPerTarget");
            assert.match(
                requests.predefinedMetricSpecification.resourceLabel,
                new RegExp(`^app/${escaped(shared("lb"))}-[0-9a-f]+/[0-9a-f]+/targetgroup/${escaped(named("app"))}-[0-9a-f]+/[0-9a-f]+$`),
            );
        });
    });

    describe("stack", function () {
        it("tags every AWS resource with project and stack, through the provider's default tags", function () {
            const provider = defaults.one(T.provider);
            assert.deepEqual(JSON.parse(String(provider.inputs.defaultTags)), { tags: { project: project.name, stack: "test" } });
            const aws = defaults.resources.filter((r) => r.type.startsWith("aws:"));
            assert.ok(aws.length >= 15, `only ${aws.length} AWS resources`);
            const untagged = aws
                .filter((r) => !String(r.provider).includes("pulumi:providers:aws::aws::"))
                .map((r) => `${r.type}::${r.name}`);
            assert.deepEqual(untagged, [], "resources not created through the tagging provider");
        });

        it("makes every AWS lookup through the same provider, so lookups and resources share the stack's region", function () {
            const lookups = defaults.run.calls.filter((c) => c.token.startsWith("aws:"));
            assert.ok(lookups.length >= 4, `only ${lookups.length} lookups`);
            const stray = lookups.filter((c) => !String(c.provider).includes("pulumi:providers:aws::aws::")).map((c) => c.token);
            assert.deepEqual(stray, []);
        });

        it("passes every aws: setting of the stack to its provider, which reads none of them itself", async function () {
            const settings = {
                "aws:profile": "team-dev",
                "aws:allowedAccountIds": '["123456789012"]',
                "aws:assumeRoles": '[{"roleArn":"arn:aws:iam::123456789012:role/deploy","sessionName":"pulumi"}]',
                "aws:skipMetadataApiCheck": "false",
                "aws:maxRetries": "5",
                "aws:defaultTags": '{"tags":{"team":"payments"}}',
            };
            const run = await runUnderMocks({ set: settings });
            const p = run.inputs(T.provider);
            // The provider receives each as the default provider would from the stack: text, or the JSON the CLI stores.
            assert.equal(p.profile, "team-dev");
            assert.deepEqual(JSON.parse(p.allowedAccountIds), ["123456789012"]);
            assert.deepEqual(JSON.parse(p.assumeRoles), [{ roleArn: "arn:aws:iam::123456789012:role/deploy", sessionName: "pulumi" }]);
            assert.equal(p.skipMetadataApiCheck, "false");
            assert.equal(p.maxRetries, "5");
            assert.deepEqual(JSON.parse(p.defaultTags), { tags: { team: "payments", project: project.name, stack: "test" } });
            const bad = await failureOf({ set: { "aws:assumeRoles": "[{roleArn: x}" } });
            assert.match(bad, /aws:assumeRoles is "\[\{roleArn: x\}", which is not valid JSON/);
        });

        it("keeps an aws: setting the stack holds as a secret secret in the provider's inputs (the state records them)", async function () {
            const roles = '[{"roleArn":"arn:aws:iam::123456789012:role/deploy","externalId":"s3cr3t"}]';
            const run = await runUnderMocks({
                set: { "aws:assumeRoles": roles, "aws:profile": "team-dev" },
                secretKeys: ["aws:assumeRoles"],
            });
            const raw = run.one(T.provider).inputs;
            assert.ok(isSecret(raw.assumeRoles), "aws:assumeRoles reached the state in clear");
            assert.ok(!isSecret(raw.profile), "only what the stack holds secret is marked so");
            assert.deepEqual(JSON.parse(run.inputs(T.provider).assumeRoles), JSON.parse(roles));
        });

        it("uses the stack's aws:region", async function () {
            const suite = await runUnderMocks({ configFile: suiteConfigFile(), set: { "aws:region": "eu-west-1" } });
            assert.equal(suite.one(T.provider).inputs.region, "eu-west-1");
            assert.equal((await runUnderMocks({ configFile: suiteConfigFile() })).one(T.provider).inputs.region, suiteRegion);
        });

        it("destroys cleanly: nothing protected or retained, ECR force-deletes, ALB deletable", function () {
            const kept = defaults.resources.filter((r) => r.protect || r.retainOnDelete).map((r) => `${r.type}::${r.name}`);
            assert.deepEqual(kept, []);
            assert.equal(defaults.inputs(T.repository).forceDelete, true);
            assert.equal(defaults.inputs(T.lb).enableDeletionProtection, false);
        });

        it("with every option on, still destroys cleanly, tags every resource and looks up through the stack's provider", async function () {
            const all = await runUnderMocks({
                set: { vpc: "new", natGateway: "true", domainName: "calc.example.com", accessLogs: "true" },
            });
            const kept = all.resources.filter((r) => r.protect || r.retainOnDelete).map((r) => `${r.type}::${r.name}`);
            assert.deepEqual(kept, []);
            assert.equal(all.inputs(T.bucket).forceDestroy, true);
            const aws = all.resources.filter((r) => r.type.startsWith("aws:"));
            const untagged = aws.filter((r) => !String(r.provider).includes("pulumi:providers:aws::aws::")).map((r) => r.name);
            assert.deepEqual(untagged, []);
            const stray = all.run.calls.filter(
                (c) => c.token.startsWith("aws:") && !String(c.provider).includes("pulumi:providers:aws::aws::"),
            );
            assert.deepEqual(
                stray.map((c) => c.token),
                [],
            );
            const named = aws.filter((r) => r.inputs.name !== undefined && r.type !== T.record).map((r) => `${r.type}::${r.name}`);
            assert.deepEqual(named, [], "names come from auto-naming (a DNS record's name is the domain)");
        });

        it("leaves names to Pulumi's auto-naming, so many stacks share an account", function () {
            const named = defaults.resources
                .filter((r) => r.type.startsWith("aws:") && (r.inputs.name !== undefined || r.inputs.namePrefix !== undefined))
                .map((r) => `${r.type}::${r.name}`);
            assert.deepEqual(named, []);
        });

        it("exports url, imageRef, imageSizeBytes, imageSize, repositoryUrl, clusterName, serviceName, logGroupName, dashboardUrl", function () {
            const o = defaults.outputs;
            assert.deepEqual(Object.keys(o).sort(), [
                "clusterName",
                "dashboardUrl",
                "imageRef",
                "imageSize",
                "imageSizeBytes",
                "logGroupName",
                "repositoryUrl",
                "serviceName",
                "services",
                "url",
            ]);
            assert.equal(o.url, `http://${autoName(shared("lb"))}-1234567890.us-east-1.elb.amazonaws.com`, "url is the ALB's DNS name");
            assert.match(
                String(o.repositoryUrl),
                new RegExp(`^123456789012\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/${escaped(svcName)}-`),
            );
            assert.match(String(o.clusterName), new RegExp(`^${escaped(shared("cluster"))}-`));
            assert.match(String(o.serviceName), new RegExp(`^${escaped(named("app"))}-`));
            assert.match(String(o.logGroupName), new RegExp(`^${escaped(named("logs"))}-`));
            assert.equal(typeof o.imageSizeBytes, "number");
            // A stack of one service has its outputs at the top as well as under services.
            const own = (o.services as Record<string, Record<string, unknown>>)[svcName];
            assert.deepEqual(Object.keys(o.services as object), [svcName]);
            for (const key of ["imageRef", "imageSizeBytes", "imageSize", "repositoryUrl", "serviceName", "logGroupName", "dashboardUrl"]) {
                assert.equal(own[key], o[key], key);
            }
            assert.equal(own.url, o.url);
            assert.equal(own.kind, "public");
        });
    });

    describe("live stack: what `pulumi up` does to one that is already deployed", function () {
        const existing = {
            vpc: "existing",
            vpcId: ownVpc.vpcId,
            publicSubnetIds: ownVpc.publicSubnetIds.join(","),
            privateSubnetIds: ownVpc.privateSubnetIds.join(","),
        };
        const vpcChanges: [string, Record<string, string>, Record<string, string>][] = [
            ["default -> new", {}, { vpc: "new" }],
            ["new -> existing", { vpc: "new" }, existing],
            ["existing -> default", existing, {}],
        ];
        for (const [label, from, to] of vpcChanges) {
            it(`changing vpc (${label}) replaces the load balancer and everything bound to the VPC in one update, which AWS accepts`, async function () {
                const [live, next] = await Promise.all([runUnderMocks({ set: from }), runUnderMocks({ set: to })]);
                assert.deepEqual(refusedUpdates(live, next), []);
                const plan = planUpdate(live, next);
                const op = (type: string, name: string) => plan.find((s) => s.type === type && s.name === name)?.op;
                assert.equal(op(T.lb, shared("lb")), "replace");
                assert.deepEqual(plan.find((s) => s.type === T.lb)?.replacedBy, ["replacementTrigger"]);
                for (const [type, name] of [
                    [T.sg, shared("load-balancer")],
                    [T.sg, named("tasks")],
                    [T.tg, named("app")],
                    [T.listener, shared("http")],
                    [T.ingress, named("tasks-from-load-balancer")],
                    [T.egress, named("load-balancer-to-tasks")],
                ]) {
                    assert.equal(op(type, name), "replace", `${type}::${name}`);
                }
                // The service moves its tasks to the new subnets and target group in place.
                assert.equal(op(T.service, named("app")), "update");
                assert.equal(op(T.cluster, shared("cluster")), "same");
            });
        }

        it("the AWS rule a VPC change depends on: the load balancer updated in place onto another VPC is refused", async function () {
            const [live, next] = await Promise.all([runUnderMocks(), runUnderMocks({ set: { vpc: "new" } })]);
            const withoutTrigger = new Run(
                { ...next.run, resources: next.resources.map((r) => (r.type === T.lb ? { ...r, replacementTrigger: undefined } : r)) },
                next.world,
            );
            const refused = refusedUpdates(live, withoutTrigger);
            assert.equal(refused.length, 1, refused.join("\n"));
            assert.match(
                refused[0],
                new RegExp(
                    `^${escaped(`${T.lb}::${shared("lb")}: InvalidConfigurationRequest: ${shared("public-1-id")}, ${shared("public-2-id")}, ${shared("load-balancer-id")} not in the load balancer's VPC vpc-default`)}`,
                ),
            );
        });

        it("a stack deployed before the trigger existed: one `pulumi up` with the VPC unchanged records it, and only then can the VPC change", async function () {
            const [defaultsUp, newVpcPreview, newVpcUp] = await Promise.all([
                runUnderMocks(),
                runUnderMocks({ set: { vpc: "new" }, preview: true }),
                runUnderMocks({ set: { vpc: "new" } }),
            ]);
            const lbStep = (live: Run, next: Run) => planUpdate(live, next).find((s) => s.type === T.lb)!;
            // Its state holds no trigger. A preview of the VPC change, the new VPC's ID unknown, shows a replacement...
            const old = withoutRecordedTriggers(defaultsUp);
            assert.equal(newVpcPreview.one(T.lb).replacementTrigger, unknownMarker);
            assert.equal(lbStep(old, newVpcPreview).op, "replace");
            // ...but `pulumi up` compares the resolved ID with nothing, records it and updates in place, which AWS refuses.
            assert.equal(lbStep(old, newVpcUp).op, "update");
            assert.match(
                refusedUpdates(old, newVpcUp).join("\n"),
                new RegExp(`${escaped(shared("lb"))}: InvalidConfigurationRequest: .* not in the load balancer's VPC vpc-default`),
            );
            // The path: a `pulumi up` with the VPC as it is changes nothing and records the trigger...
            assert.deepEqual(planSummary(planUpdate(old, defaultsUp)), []);
            assert.equal(defaultsUp.one(T.lb).replacementTrigger, "vpc-default");
            // ...and the VPC change then replaces the load balancer, which AWS accepts.
            assert.equal(lbStep(defaultsUp, newVpcUp).op, "replace");
            assert.deepEqual(refusedUpdates(defaultsUp, newVpcUp), []);
        });

        it("an unchanged stack updates nothing; a new image replaces only the task definition and updates the service", async function () {
            // Each against the state and the registry the first `pulumi up` left: its image pushed.
            const [again, rebuilt] = await Promise.all([
                runUncached({ after: defaults }),
                runUncached({ after: defaults, fake: { imageDigest: `sha256:${"e".repeat(64)}` } }),
            ]);
            assert.deepEqual(planSummary(planUpdate(defaults, again)), []);
            assert.deepEqual(
                planSummary(planUpdate(defaults, rebuilt)),
                [`${T.taskDef}::${svcName}-app replace`, `${T.service}::${svcName}-app update`].sort(),
            );
        });

        it("turning the domain on: HTTP turns into a redirect only once the HTTPS listener serves", async function () {
            const withDomain = await runUnderMocks({ set: { domainName: "calc.example.com" } });
            assert.ok(
                withDomain.one(T.listener, shared("http")).dependsOn.includes(`${T.listener}::${sharedName}-https`),
                "the redirect does not wait for HTTPS",
            );
            assert.deepEqual(defaults.one(T.listener, shared("http")).dependsOn, []);
            const plan = planUpdate(defaults, withDomain);
            assert.equal(plan.find((s) => s.type === T.listener && s.name === shared("http"))?.op, "update");
            assert.equal(plan.find((s) => s.type === T.listener && s.name === shared("https"))?.op, "create");
            assert.deepEqual(refusedUpdates(defaults, withDomain), []);
        });
    });

    describe("preview of a new stack (as `pulumi preview` runs it)", function () {
        it("checks the config and the account, asks ECR for no image size, and leaves what AWS computes unknown", async function () {
            const preview = await runUnderMocks({ preview: true });
            assert.equal(preview.run.preview, true);
            assert.deepEqual(
                preview.calls("aws:ecr/getImage:getImage").filter((c) => c.inputs.imageDigest !== undefined),
                [],
                "the image is not pushed at preview: ECR has no size for it",
            );
            for (const key of ["imageRef", "imageSizeBytes", "imageSize", "url", "repositoryUrl"]) {
                assert.equal(preview.outputs[key], unknownMarker, key);
            }
            // Auto-names are made before the preview.
            assert.match(String(preview.outputs.serviceName), new RegExp(`^${escaped(named("app"))}-`));
            assert.equal(preview.inputs(T.taskDef).containerDefinitions, unknownMarker);
            assert.equal(preview.calls("aws:ec2/getVpcs:getVpcs").length, 1, "the default VPC is checked at preview");
            assert.deepEqual(preview.inputs(T.lb).subnets, ["subnet-a", "subnet-b", "subnet-c"]);
            assert.equal(preview.resources.length, defaults.resources.length);
        });

        it("with every option on, previews; the domain's URL is known before anything is made", async function () {
            const preview = await runUnderMocks({
                preview: true,
                set: { vpc: "new", natGateway: "true", domainName: "calc.example.com", accessLogs: "true" },
            });
            assert.equal(preview.outputs.url, "https://calc.example.com");
            // The new VPC's subnets have no IDs yet.
            assert.equal(preview.inputs(T.lb).subnets, unknownMarker);
        });
    });

    describe("preview stability", function () {
        it("an unchanged re-run gives identical inputs for every resource", async function () {
            const again = await runUncached();
            assert.deepEqual(changedResources(defaults, again), []);
            assert.equal(again.resources.length, defaults.resources.length);
        });

        it("a new image digest changes only the task definition and the service", async function () {
            const rebuilt = await runUncached({ fake: { imageDigest: `sha256:${"c".repeat(64)}` } });
            assert.deepEqual(
                changedResources(defaults, rebuilt).map(shortUrn),
                [`${T.taskDef}::${svcName}-app`, `${T.service}::${svcName}-app`].sort(),
            );
            assert.notEqual(rebuilt.outputs.imageRef, defaults.outputs.imageRef);
        });

        it("a change in the service's folder changes only the image, the task definition and the service", async function () {
            // In a copy: the checkout's service folder is what the engine specs beside this one build.
            const copy = copyRepository();
            let changed: Run;
            try {
                const file = path.join(copy, path.relative(repoRoot, serviceDir), "Dockerfile");
                fs.appendFileSync(file, "\n# a one-line change\n");
                changed = await runUncached({ projectDir: copy, after: defaults, fake: { imageDigest: `sha256:${"d".repeat(64)}` } });
            } finally {
                fs.rmSync(copy, { recursive: true, force: true });
            }
            // The new version's Stash is made anew and takes the registry's answer for it: not there yet.
            assert.equal(changed.one(T.stash).state?.output, false);
            assert.equal(changed.inputs(T.image).build.cacheFrom, undefined);
            // Back to the first version (a revert), after both were pushed: the registry holds it, and the build takes its layers.
            const reverted = await runUncached({ after: changed });
            assert.equal(reverted.one(T.stash).state?.output, true);
            assert.deepEqual(reverted.inputs(T.image).build.cacheFrom, { images: [reverted.inputs(T.image).imageName] });
            assert.deepEqual(
                changedResources(defaults, changed).map(shortUrn),
                [`${T.image}::${svcName}-image`, `${T.taskDef}::${svcName}-app`, `${T.service}::${svcName}-app`].sort(),
            );
            // As `pulumi up` takes it: the new version is asked of the registry afresh.
            assert.deepEqual(
                planSummary(planUpdate(defaults, changed)),
                [
                    `${T.image}::${svcName}-image update`,
                    `${T.stash}::${svcName}-image-in-registry replace`,
                    `${T.taskDef}::${svcName}-app replace`,
                    `${T.service}::${svcName}-app update`,
                ].sort(),
            );
        });

        it("a deploy leaves a scaled-out service's task count to autoscaling, even when desiredCount changes", async function () {
            assert.deepEqual(defaults.one(T.service).ignoreChanges, ["desiredCount"]);
            const scaled = await runUncached({ set: { desiredCount: "2" } });
            assert.deepEqual(changedResources(defaults, scaled), []);
            const bounds = await runUncached({ set: { minCount: "2", desiredCount: "2" } });
            assert.deepEqual(changedResources(defaults, bounds).map(shortUrn), [`${T.scalingTarget}::${svcName}-app`]);
        });

        it("with every option on, an unchanged re-run still gives identical inputs", async function () {
            const options = { set: { vpc: "new", natGateway: "true", domainName: "calc.example.com", accessLogs: "true" } };
            const [a, b] = await Promise.all([runUncached(options), runUncached(options)]);
            assert.deepEqual(changedResources(a, b), []);
        });

        it("turning natGateway on changes only the service's network, besides what it adds", async function () {
            const [publicTasks, privateTasks] = await Promise.all([
                runUnderMocks({ set: { vpc: "new" } }),
                runUnderMocks({ set: { vpc: "new", natGateway: "true" } }),
            ]);
            assert.deepEqual(
                changedResources(publicTasks, privateTasks).map(shortUrn),
                [
                    `${T.service}::${svcName}-app`,
                    `aws:ec2/eip:Eip::${sharedName}-nat`,
                    `${T.nat}::${sharedName}-nat`,
                    `${T.routeTable}::${sharedName}-private`,
                    `${T.subnet}::${sharedName}-private-1`,
                    `${T.subnet}::${sharedName}-private-2`,
                    `${T.routeAssoc}::${sharedName}-private-1`,
                    `${T.routeAssoc}::${sharedName}-private-2`,
                ].sort(),
            );
        });

        it("a file in the service's folder that .dockerignore leaves out of the build changes no version, and one it takes does", function () {
            // In a copy of the folder, whose .dockerignore leaves NOTES-*.md out (the version is all the program's inputs take of it).
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "service-folder-"));
            try {
                fs.cpSync(serviceDir, dir, { recursive: true });
                fs.appendFileSync(path.join(dir, ".dockerignore"), "\nNOTES-*.md\n");
                const version = () => sourceDigest(dir, path.join(dir, "Dockerfile"));
                const before = version();
                fs.writeFileSync(path.join(dir, "NOTES-1.md"), "notes that never reach the image\n");
                assert.equal(version(), before);
                fs.writeFileSync(path.join(dir, "taken.txt"), "a file the build context takes\n");
                fs.appendFileSync(path.join(dir, ".dockerignore"), "!taken.txt\n");
                assert.notEqual(version(), before);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("a shallow clone, a full clone and a copy at another path give identical inputs, after a commit outside the service's folder", async function () {
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "checkouts-"));
            const sh = (cwd: string, cmd: string, args: string[]) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: "pipe" });
            try {
                // A repository holding this working tree, whose last commit touches only the README.
                const origin = path.join(root, "origin");
                const tracked = sh(repoRoot, "git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]).split("\0");
                for (const file of tracked.filter((f) => f && fs.existsSync(path.join(repoRoot, f)))) {
                    fs.mkdirSync(path.dirname(path.join(origin, file)), { recursive: true });
                    fs.copyFileSync(path.join(repoRoot, file), path.join(origin, file));
                    fs.chmodSync(path.join(origin, file), fs.statSync(path.join(repoRoot, file)).mode);
                }
                const commit = (message: string) =>
                    sh(origin, "git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", message]);
                sh(origin, "git", ["init", "--quiet"]);
                sh(origin, "git", ["add", "--all"]);
                commit("the working tree");
                fs.appendFileSync(path.join(origin, "README.md"), "\nA README-only change.\n");
                sh(origin, "git", ["add", "README.md"]);
                commit("README only");

                const full = path.join(root, "full");
                const shallow = path.join(root, "ci", "shallow"); // actions/checkout's default: fetch-depth 1
                const copy = path.join(root, "laptop", "elsewhere", "copy"); // no .git, other times
                sh(root, "git", ["clone", "--quiet", `file://${origin}`, full]);
                sh(root, "git", ["clone", "--quiet", "--depth", "1", `file://${origin}`, shallow]);
                assert.equal(sh(shallow, "git", ["rev-list", "--count", "HEAD"]).trim(), "1", "the CI clone is not shallow");
                fs.cpSync(full, copy, { recursive: true, filter: (src) => path.basename(src) !== ".git" });
                for (const dir of [full, shallow, copy])
                    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"));

                const [a, b, c] = await Promise.all([full, shallow, copy].map((projectDir) => runUncached({ projectDir })));
                assert.ok(a.resources.length > 20);
                assert.deepEqual(changedResources(a, b), [], "a shallow clone and a full clone differ");
                assert.deepEqual(changedResources(a, c), [], "a copy at another path differs from a clone");
                assert.equal(a.inputs(T.image).build.context, path.relative(project.programDir, serviceDir));
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        });

        it("a change outside the service's folder (the README) changes nothing", async function () {
            const file = path.join(repoRoot, "README.md");
            const existed = fs.existsSync(file);
            const original = existed ? fs.readFileSync(file, "utf8") : "";
            let after: Run;
            try {
                fs.writeFileSync(file, original + "\nA line added by a test.\n");
                after = await runUncached();
            } finally {
                if (existed) fs.writeFileSync(file, original);
                else fs.rmSync(file);
            }
            assert.deepEqual(changedResources(defaults, after), []);
        });
    });
});
