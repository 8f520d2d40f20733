// What a team adopting this repository does first: its own service, the
// settings and secrets it reads, a second service; and what a stack deployed
// before components were named from their own name sees on its next update.
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { AccessLogBucket } from "../infra/access-logs";
import { ServiceDeclaration, declarationProblems } from "../infra/declaration";
import { loadConfig, mapConfigSource } from "../infra/config";
import { Environment, ServiceEnvironment } from "../infra/environment";
import { serviceNameMaxLength } from "../infra/naming";
import { readProject } from "../infra/project";
import { Container, WebService, WebServiceArgs, secretsPolicy, setByWebService, taskFamily } from "../infra/service";
import { autoNameMaxLength, fakeAws } from "../scripts/lib/fake-aws";
import { effectiveConfig } from "../scripts/lib/stack-config";
import { Run, changedResources, failureOf, isSecret, runUnderMocks, shortUrn } from "../scripts/lib/harness";
import { decide } from "./iam-evaluate";
import { buildUnderMocks } from "./in-process";
import { copyRepository } from "./repo-copy";
import { escaped, projectName, service, svcName } from "./service-under-test";

const T = {
    taskDef: "aws:ecs/taskDefinition:TaskDefinition",
    service: "aws:ecs/service:Service",
    parameter: "aws:ssm/parameter:Parameter",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    tg: "aws:lb/targetGroup:TargetGroup",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
};
const project = projectName;
const declared = readProject();

/** The config as the CLI hands it over (Pulumi.yaml's defaults, these on top), loaded as the program loads it. */
function load(set: Record<string, string>, secretKeys: string[] = []) {
    const values = effectiveConfig(Object.fromEntries(Object.entries(declared.config).map(([k, v]) => [k, v.default])), set);
    return loadConfig(mapConfigSource(values, project), project, {
        reservedNames: ["PORT", "SHUTDOWN_TIMEOUT", "IDLE_TIMEOUT"],
        secretKeys,
    });
}

function containerOf(run: Run) {
    const defs = JSON.parse(run.inputs(T.taskDef).containerDefinitions);
    assert.equal(defs.length, 1);
    return defs[0];
}
const envOf = (run: Run) => Object.fromEntries(containerOf(run).environment.map((e: { name: string; value: string }) => [e.name, e.value]));

const ssmArn = "arn:aws:ssm:us-east-1:123456789012:parameter/shared/db-url";
const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::";
const kmsKey = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-000000000001";

describe("template: adopting it", function () {
    this.timeout(120_000);

    describe("components named from their own name", function () {
        it("two WebServices in one stack get distinct URNs, names, task families, target groups and log groups", async function () {
            const made = await buildUnderMocks("two-services", (opts) => {
                const env = testEnvironment("shared", opts);
                new WebService("orders", serviceArgs({ port: 8080 }, env, { route: { paths: ["/orders/*"] } }), opts);
                new WebService("billing", serviceArgs({ port: 9090, healthCheckPath: "/health" }, env), opts);
                env.setDefaultTarget(undefined);
            });
            const urns = made.map((m) => m.urn);
            assert.deepEqual(
                urns.filter((u, i) => urns.indexOf(u) !== i),
                [],
                "no URN twice",
            );
            const of = (type: string, service: string) =>
                made.filter((m) => m.type === type && m.parent === `calculator:index:WebService::${service}`);
            const families = ["orders", "billing"].map((s) => of(T.taskDef, s)[0].inputs.family);
            assert.deepEqual(families, [taskFamily(project, "test", "orders"), taskFamily(project, "test", "billing")]);
            assert.deepEqual(families, [`${project}-test-orders`, `${project}-test-billing`]);
            const names = (type: string) => ["orders", "billing"].map((s) => of(type, s)[0].state.name);
            for (const type of [T.tg, T.logGroup, T.service]) {
                const [a, b] = names(type);
                assert.ok(a && b && a !== b, `${type}: ${String(a)} / ${String(b)}`);
            }
            // Each service's contract reaches its own target group.
            assert.deepEqual(
                ["orders", "billing"].map((s) => [
                    of(T.tg, s)[0].inputs.port,
                    (of(T.tg, s)[0].inputs.healthCheck as { path: string }).path,
                ]),
                [
                    [8080, "/healthz"],
                    [9090, "/health"],
                ],
            );
        });

        it("names a service's load balancer and target group within AWS's 32 characters for any valid service name, and keeps the names that fit", async function () {
            // The longest valid name, and two that differ only past the cut: the provider adds "-" and 7 characters to each.
            const long = ["a".repeat(serviceNameMaxLength - 6) + "-alpha", "a".repeat(serviceNameMaxLength - 6) + "-omega"];
            const made = await buildUnderMocks("long-names", (opts) => {
                for (const name of [...long, "short"]) {
                    // An environment may take a service's name (stacks made when the service held it keep it).
                    const env = testEnvironment(name, opts);
                    new WebService(name, serviceArgs({}, env), opts);
                    env.setDefaultTarget(undefined);
                    if (name !== "short") new AccessLogBucket(name, { retentionDays: 7 }, opts);
                }
            });
            for (const [type, max] of Object.entries(autoNameMaxLength)) {
                assert.ok(
                    made.some((m) => m.type === type),
                    type,
                );
                for (const n of made.filter((m) => m.type === type)) {
                    assert.ok(`${n.name}-`.length + 7 <= max, `${type} ${n.name}: auto-named past ${max}`);
                }
            }
            const lbs = made.filter((m) => m.type === "aws:lb/loadBalancer:LoadBalancer").map((m) => m.name);
            assert.equal(new Set(lbs).size, lbs.length, `two long names stay apart: ${lbs.join(", ")}`);
            assert.ok(lbs.includes("short-lb"), "a name that fits is kept (no URN of a deployed stack moves)");
            assert.ok(made.some((m) => m.type === T.tg && m.name === "short-app"));
        });

        it("the fake refuses a logical name the provider cannot auto-name, in the bridge's words", async function () {
            const fake = fakeAws();
            await assert.rejects(
                async () =>
                    fake.newResource({
                        type: "aws:lb/loadBalancer:LoadBalancer",
                        name: "a-service-named-at-length-lb",
                        inputs: {},
                        custom: true,
                    }),
                /could not make instance of 'aws:lb\/loadBalancer:LoadBalancer': name 'a-service-named-at-length-lb-' plus 7 random chars is longer than maximum length 32/,
            );
        });

        for (const [name, message] of [
            ["a".repeat(serviceNameMaxLength + 1), new RegExp(`${serviceNameMaxLength + 1} characters, at most ${serviceNameMaxLength}`)],
            ["Orders", /name "Orders": lowercase letters, digits and "-"/],
            ["orders_api", /name "orders_api": lowercase letters/],
            ["orders-", /name "orders-": .*ending with a letter or digit/],
        ] as [string, RegExp][]) {
            it(`refuses the service name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)}, naming the service and why`, function () {
                assert.throws(
                    () => new WebService(name, serviceArgs({}, noEnvironment)),
                    (err: Error) => err.message.startsWith(`WebService ${name}:`) && message.test(err.message),
                );
            });
        }

        it("refuses a container contract that cannot run, saying why", function () {
            assert.throws(
                () =>
                    new WebService(
                        "bad",
                        serviceArgs(
                            { port: 80, user: "0", environment: { PORT: "1" }, secrets: { "A-B": { valueFrom: ssmArn } } },
                            noEnvironment,
                        ),
                    ),
                (err: Error) =>
                    /port 80: a TCP port from 1024/.test(err.message) &&
                    /user "0": a non-root uid/.test(err.message) &&
                    /PORT: set by the service from its port/.test(err.message) &&
                    /A-B: not an environment variable name/.test(err.message),
            );
        });
    });

    describe("a service's declaration (infra/declaration.ts)", function () {
        const variants: [string, Partial<ServiceDeclaration> & { container?: Partial<Container> }, RegExp][] = [
            [
                "a port a non-root user cannot bind",
                { container: { port: 80 } as Container },
                /container\.port 80: a TCP port from 1024 to 65535/,
            ],
            [
                "a health path that is not a path",
                { container: { healthCheckPath: "healthz" } as Container },
                /container\.healthCheckPath "healthz": a path, starting with \//,
            ],
            ["root as the user", { container: { user: "0:0" } as Container }, /container\.user "0:0": a non-root uid\[:gid\]/],
            ["a name AWS would refuse", { name: "My_Service" }, /name "My_Service": lowercase letters, digits and "-"/],
            [
                "a stage its Dockerfile does not have",
                { target: "no-such-stage" },
                /target "no-such-stage": .*Dockerfile has no stage of that name/,
            ],
            ["a folder that is not there", { dir: "/nonexistent/service" }, /dir "\/nonexistent\/service": not a folder here/],
        ];
        for (const [what, change, message] of variants) {
            it(`refuses ${what}, naming the field`, function () {
                const d = { ...service, ...change, container: { ...service.container, ...change.container } };
                assert.match(declarationProblems(d).join("\n"), message);
            });
        }

        it("refuses a Dockerfile whose builder image is not ARG GO_IMAGE, and a go.mod with no toolchain line, saying what to write", function () {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "declared-"));
            try {
                fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM golang:1.27.3 AS build\nFROM scratch AS runtime\n");
                fs.writeFileSync(path.join(dir, "go.mod"), "module x\n\ngo 1.26\n");
                const problems = declarationProblems({ ...service, dir, target: "runtime", singleStageDockerfile: undefined }).join("\n");
                assert.match(
                    problems,
                    /must take its Go builder image from ARG GO_IMAGE \(ARG GO_IMAGE=golang:<version> before the first FROM/,
                );
                assert.match(problems, /go\.mod has no toolchain line \(toolchain goX\.Y\.Z\)/);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("the declared service has none of these problems", function () {
            assert.deepEqual(declarationProblems(service), []);
        });

        it("a declaration that cannot run fails the program as `pulumi preview` would, naming the service and the field", async function () {
            const copy = copyRepository();
            try {
                fs.appendFileSync(
                    path.join(copy, "infra", "services.ts"),
                    "\nObject.assign(services[0], { container: { ...services[0].container, port: 80 } });\n",
                );
                const message = await failureOf({ projectDir: copy });
                assert.match(
                    message,
                    new RegExp(
                        `the service ${escaped(svcName)} \\(declared in [^)]+/\\) cannot be deployed \\(1 problem\\):\\n  - container\\.port 80`,
                    ),
                );
            } finally {
                fs.rmSync(copy, { recursive: true, force: true });
            }
        });
    });

    describe("config environment", function () {
        it("a setting set with --path reaches the container, and only the task definition and the service change", async function () {
            const [plain, withSetting] = await Promise.all([
                runUnderMocks(),
                runUnderMocks({ set: { environment: JSON.stringify({ FEATURE_X: "on", LOG_LEVEL: "debug", RETRIES: 3 }) } }),
            ]);
            assert.deepEqual(envOf(withSetting), { ...envOf(plain), FEATURE_X: "on", LOG_LEVEL: "debug", RETRIES: "3" });
            assert.deepEqual(changedResources(plain, withSetting).map(shortUrn), [
                `${T.service}::${svcName}-app`,
                `${T.taskDef}::${svcName}-app`,
            ]);
        });

        const refused: [string, Record<string, unknown>, RegExp][] = [
            [
                "a name the service sets",
                { PORT: "9000" },
                new RegExp(`${escaped(project)}:environment\\.PORT: PORT is set by the service itself`),
            ],
            [
                "a name its contract sets",
                { SHUTDOWN_TIMEOUT: "1s" },
                /environment\.SHUTDOWN_TIMEOUT: SHUTDOWN_TIMEOUT is set by the service itself/,
            ],
            ["a name ECS sets", { ECS_CONTAINER_METADATA_URI: "x" }, /environment\.ECS_CONTAINER_METADATA_URI: .* is set by ECS/],
            ["a name no shell takes", { "FEATURE-X": "on" }, /environment\.FEATURE-X: "FEATURE-X" is not an environment variable name/],
            ["a value that is a map", { FEATURE_X: { a: 1 } }, /environment\.FEATURE_X is not a text value/],
        ];
        for (const [what, value, message] of refused) {
            it(`refuses ${what}, naming the key`, function () {
                assert.throws(
                    () => load({ environment: JSON.stringify(value) }),
                    (err: Error) => message.test(err.message),
                );
            });
        }
        it("a refused setting fails the program as `pulumi preview` would, with the service's own names reserved", async function () {
            const reserved = [...setByWebService, ...Object.keys(service.container.environment), ...Object.keys(service.container.secrets)];
            const name = reserved[reserved.length - 1];
            assert.match(
                await failureOf({ set: { environment: JSON.stringify({ [name]: "1s" }) } }),
                new RegExp(
                    `${escaped(project)}:environment\\.${name}: ${name} is set by the service itself \\(its contract sets ${escaped(reserved.join(", "))}\\)`,
                ),
            );
        });
        it("refuses a value that is not a map", async function () {
            assert.match(
                await failureOf({ set: { environment: "FEATURE_X=on" } }),
                new RegExp(`${escaped(project)}:environment is not a map of names to values`),
            );
        });
    });

    describe("config secrets", function () {
        const stored = { DB_PASSWORD: "hunter2-s3cret" };
        const withSecrets = (extra: Record<string, string> = {}, values: Record<string, string> = stored) => ({
            set: { secrets: JSON.stringify({ DB_URL: ssmArn, DB_USER: secretArn, ...values }), ...extra },
            secretKeys: [`${project}:secrets`],
        });

        it("reaches the container through the task definition's secrets, never in clear text", async function () {
            const run = await runUnderMocks(withSecrets());
            const c = containerOf(run);
            const parameter = run.one(T.parameter);
            assert.deepEqual(c.secrets, [
                { name: "DB_PASSWORD", valueFrom: parameter.state?.arn },
                { name: "DB_URL", valueFrom: ssmArn },
                { name: "DB_USER", valueFrom: secretArn },
            ]);
            assert.equal(
                c.environment.some((e: { name: string }) => e.name.startsWith("DB_")),
                false,
            );
            // The stored value: a SecureString the stack owns, its value a secret in the state.
            assert.equal(parameter.inputs.type, "SecureString");
            assert.ok(isSecret(parameter.inputs.value), "the parameter's value is kept secret");
            assert.equal(run.inputs(T.parameter).value, stored.DB_PASSWORD);
            const everywhere =
                JSON.stringify(run.resources.filter((r) => r.type !== T.parameter).map((r) => r.inputs)) + JSON.stringify(run.outputs);
            assert.ok(!everywhere.includes(stored.DB_PASSWORD), "the value appears nowhere but in the parameter");
            assert.ok(
                run.one(T.service).dependsOn.includes(`${T.rolePolicy}::${svcName}-execution-secrets`),
                "tasks start once they may read them",
            );
        });

        it("lets the execution role read exactly those secrets, and decrypt only with the customer key named", async function () {
            const [run, withKey] = await Promise.all([
                runUnderMocks(withSecrets()),
                runUnderMocks(withSecrets({ secretsKmsKeyArn: kmsKey })),
            ]);
            const policy = JSON.parse(run.inputs(T.rolePolicy).policy);
            const parameterArn = String(run.one(T.parameter).state?.arn);
            assert.deepEqual(policy.Statement, [
                { Sid: "Parameters", Effect: "Allow", Action: "ssm:GetParameters", Resource: [parameterArn, ssmArn].sort() },
                {
                    Sid: "Secrets",
                    Effect: "Allow",
                    Action: "secretsmanager:GetSecretValue",
                    Resource: ["arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"],
                },
            ]);
            const keyed = JSON.parse(withKey.inputs(T.rolePolicy).policy);
            assert.deepEqual(keyed.Statement.at(-1), { Sid: "CustomerKey", Effect: "Allow", Action: "kms:Decrypt", Resource: kmsKey });
            assert.equal(JSON.stringify(policy).includes("*"), false, "no wildcard");
            assert.equal(secretsPolicy([ssmArn]).includes("kms"), false);
        });

        it("a stack without secrets has no parameter, no secrets policy and no secrets in the task", async function () {
            const run = await runUnderMocks();
            assert.equal(run.all(T.parameter).length + run.all(T.rolePolicy).length, 0);
            assert.equal(containerOf(run).secrets, undefined);
        });

        it("rotating a value changes only the parameter, the task definition and the service (new tasks read it)", async function () {
            const [a, b] = await Promise.all([
                runUnderMocks(withSecrets()),
                runUnderMocks(withSecrets({}, { DB_PASSWORD: "rotated-value" })),
            ]);
            assert.deepEqual(changedResources(a, b).map(shortUrn), [
                `${T.service}::${svcName}-app`,
                `${T.taskDef}::${svcName}-app`,
                `${T.parameter}::${svcName}-secret-DB_PASSWORD`,
            ]);
        });

        it("adding one, or turning secrets on, changes only the parameter, the role's policy, the task definition and the service", async function () {
            const [none, one, two] = await Promise.all([
                runUnderMocks(),
                runUnderMocks({ set: { secrets: JSON.stringify(stored) }, secretKeys: [`${project}:secrets`] }),
                runUnderMocks(withSecrets()),
            ]);
            assert.deepEqual(changedResources(none, one).map(shortUrn), [
                `${T.service}::${svcName}-app`,
                `${T.taskDef}::${svcName}-app`,
                `${T.rolePolicy}::${svcName}-execution-secrets`,
                `${T.parameter}::${svcName}-secret-DB_PASSWORD`,
            ]);
            assert.deepEqual(changedResources(one, two).map(shortUrn), [
                `${T.service}::${svcName}-app`,
                `${T.taskDef}::${svcName}-app`,
                `${T.rolePolicy}::${svcName}-execution-secrets`,
            ]);
        });

        const refused: [string, { set: Record<string, string>; secretKeys?: string[] }, RegExp][] = [
            [
                "a plain-text value (not set with --secret), without echoing it",
                { set: { secrets: JSON.stringify({ DB_PASSWORD: "hunter2" }) } },
                /secrets\.DB_PASSWORD is plain text and not an ARN; a value must be encrypted in the stack: pulumi config set --secret --path 'secrets\.DB_PASSWORD'/,
            ],
            [
                "an ARN of another service",
                { set: { secrets: JSON.stringify({ BUCKET: "arn:aws:s3:::my-bucket" }) } },
                /secrets\.BUCKET is "arn:aws:s3:::my-bucket", which is not an SSM parameter .* or Secrets Manager secret/,
            ],
            [
                "a Secrets Manager ARN without the 6 characters that end the secret's name (the grant would match no secret)",
                { set: { secrets: JSON.stringify({ DB: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db" }) } },
                /secrets\.DB is "arn:aws:secretsmanager:us-east-1:123456789012:secret:db" without the 6 characters .*describe-secret --secret-id db --query ARN/,
            ],
            [
                "a name set both as a setting and as a secret",
                { set: { secrets: JSON.stringify({ DB_URL: ssmArn }), environment: JSON.stringify({ DB_URL: "x" }) } },
                new RegExp(`secrets\\.DB_URL and ${escaped(project)}:environment\\.DB_URL both set DB_URL; keep one`),
            ],
            [
                "a name the service sets",
                { set: { secrets: JSON.stringify({ PORT: ssmArn }) } },
                /secrets\.PORT: PORT is set by the service itself/,
            ],
            [
                "a KMS key that is an alias",
                { set: { secrets: JSON.stringify({ DB_URL: ssmArn }), secretsKmsKeyArn: "arn:aws:kms:us-east-1:123456789012:alias/mine" } },
                /secretsKmsKeyArn is .*; it accepts a KMS key ARN/,
            ],
            ["a KMS key without secrets", { set: { secretsKmsKeyArn: kmsKey } }, /secretsKmsKeyArn is set, but .*secrets names none/],
        ];
        for (const [what, opts, message] of refused) {
            it(`refuses ${what}`, function () {
                const m = (() => {
                    try {
                        load(opts.set, opts.secretKeys);
                    } catch (err) {
                        return (err as Error).message;
                    }
                    assert.fail("accepted");
                })();
                assert.match(m, message);
                assert.ok(!m.includes("hunter2"), "a value is never echoed");
            });
        }

        it("takes an SSM parameter of another region by its full ARN, as ECS does, and grants exactly that ARN", async function () {
            // ECS API reference, Secret: "If the parameter exists in a different Region, then the full ARN must be specified."
            const elsewhere = ssmArn.replace("us-east-1", "eu-west-1");
            const run = await runUnderMocks({ set: { secrets: JSON.stringify({ DB_URL: elsewhere }) } });
            assert.deepEqual(containerOf(run).secrets, [{ name: "DB_URL", valueFrom: elsewhere }]);
            assert.deepEqual(JSON.parse(run.inputs(T.rolePolicy).policy).Statement[0].Resource, [elsewhere]);
        });

        it("why a Secrets Manager ARN needs its suffix: IAM matches the resource ARN as written, and the secret's ends in 6 characters", function () {
            const secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";
            const request = { action: "secretsmanager:GetSecretValue", resource: secret };
            const granted = (valueFrom: string) => decide([JSON.parse(secretsPolicy([valueFrom]))], request);
            assert.equal(granted("arn:aws:secretsmanager:us-east-1:123456789012:secret:db"), "implicit deny");
            assert.equal(granted(`${secret}:password::`), "allow");
        });
        it("a refused secret fails the program as `pulumi preview` would, without the value", async function () {
            const m = await failureOf({ set: { secrets: JSON.stringify({ DB_PASSWORD: "hunter2" }) } });
            assert.match(m, /secrets\.DB_PASSWORD is plain text and not an ARN/);
            assert.ok(!m.includes("hunter2"));
        });
    });
});

/** An environment for component tests, in the default VPC. */
function testEnvironment(name: string, opts: pulumi.ComponentResourceOptions): Environment {
    return new Environment(
        name,
        {
            vpcId: "vpc-default",
            loadBalancerSubnetIds: ["subnet-a", "subnet-b"],
            loadBalancer: true,
            serviceConnect: false,
            containerInsights: false,
        },
        opts,
    );
}

/** Where a component that is refused before it makes anything would run. */
const noEnvironment: ServiceEnvironment = {
    vpcId: "vpc-default",
    clusterArn: pulumi.output("arn:aws:ecs:us-east-1:123456789012:cluster/none"),
    clusterName: pulumi.output("none"),
    ready: [],
};

/** A WebService's arguments for a component test, with a contract of its own. */
function serviceArgs(
    container: Partial<Container>,
    env: Environment | ServiceEnvironment,
    more: Partial<WebServiceArgs> = {},
): WebServiceArgs {
    return {
        project,
        stack: "test",
        environment: env instanceof Environment ? env.services : env,
        kind: "public",
        callsInternal: false,
        executeCommand: false,
        taskSubnetIds: ["subnet-a", "subnet-b"],
        assignPublicIp: true,
        imageRef: `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:${"c".repeat(64)}`,
        container: {
            port: 8080,
            healthCheckPath: "/healthz",
            user: "1000:1000",
            stopTimeoutSeconds: 10,
            environment: {},
            secrets: {},
            protocolVersion: "HTTP1",
            readonlyRootFilesystem: true,
            ...container,
        },
        cpu: 256,
        memory: 512,
        cpuArchitecture: "X86_64",
        desiredCount: 1,
        minCount: 1,
        maxCount: 2,
        spot: false,
        logRetentionDays: 7,
        ...more,
    };
}
