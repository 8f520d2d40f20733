// The identities GitHub Actions deploys the service with: the account's GitHub
// OIDC provider, the boundary every role the service's stacks make carries, a
// role for pull requests (their pr-* stacks only) and a role for the main
// branch (its stack only). An administrator runs it once per account; the
// workflows then hold no AWS key. README.md, "Deploy to AWS", says how.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { pulumiConfigSource } from "../config";
import { rolePath } from "../naming";
import { readProject } from "../project";
import { secretConfigKeys, stackProviderArgs } from "../provider";
import { ciProject, loadCiConfig } from "./config";
import { githubAudience, githubIssuer, githubTrustPolicy, roleBoundaryPolicy } from "./policy";
import { AccountValues, deployRoles, deployStatements, laidOut, policyLayout, widestAccountValues } from "./roles";

const project = pulumi.getProject();
const stack = pulumi.getStack();
const allConfig = pulumi.runtime.allConfig();
const config = loadCiConfig(pulumiConfigSource(project), project, allConfig["aws:region"]);
/** The service whose stacks the roles deploy: the project this folder sits in. */
const service = readProject().name;

const provider = new aws.Provider("aws", stackProviderArgs(allConfig, { project, stack }, secretConfigKeys()));
const opts = { provider };

// One per account: IAM refuses a second provider for the same issuer. AWS checks GitHub's
// certificate against its own trusted CAs, so no thumbprint is pinned.
const oidcProviderArn = config.oidcProviderArn
    ? pulumi.output(config.oidcProviderArn)
    : new aws.iam.OpenIdConnectProvider("github", { url: `https://${githubIssuer}`, clientIdLists: [githubAudience] }, opts).arn;

const boundaryPath = `/${ciProject.name}/`;
const boundary = new aws.iam.Policy(
    "role-boundary",
    {
        path: boundaryPath,
        description: `The most a role made by ${service}'s stacks may do: what an ECS task execution role does`,
        policy: JSON.stringify(roleBoundaryPolicy({ project: service })),
    },
    opts,
);

const account: pulumi.Output<AccountValues> = pulumi
    .all([aws.getPartitionOutput({}, opts).partition, aws.getCallerIdentityOutput({}, opts).accountId, boundary.arn])
    .apply(([partition, accountId, roleBoundaryArn]) => ({ partition, account: accountId, roleBoundaryArn }));
const fixed = { project: service, rolePath: rolePath(service) };
// Each role's own state key is its DeployRole's: the pull-request role never gets the main stack's.
const backend = { bucket: config.stateBucket };

const roleArns: Record<string, pulumi.Output<string>> = {};
for (const role of deployRoles(config)) {
    const made = new aws.iam.Role(
        role.name,
        {
            description: role.description,
            assumeRolePolicy: oidcProviderArn.apply((arn) => JSON.stringify(githubTrustPolicy(arn, role.subject))),
            maxSessionDuration: 3600,
        },
        opts,
    );
    // IAM caps a managed policy at 6,144 characters: the statements are split over as many as they need.
    const layout = policyLayout(role, fixed, widestAccountValues(boundaryPath), config, backend);
    const documents = account.apply((values) => laidOut(layout, deployStatements(role, { ...fixed, ...values }, config, backend)));
    layout.forEach((_, i) => {
        const policy = new aws.iam.Policy(
            `${role.name}-${i + 1}`,
            { description: `${role.description} (${i + 1} of ${layout.length})`, policy: documents.apply((d) => JSON.stringify(d[i])) },
            opts,
        );
        new aws.iam.RolePolicyAttachment(`${role.name}-${i + 1}`, { role: made.name, policyArn: policy.arn }, opts);
    });
    roleArns[role.name] = made.arn;
}

export const oidcProvider = oidcProviderArn;
export const pullRequestRoleArn = roleArns["pull-request-deploy"];
export const mainRoleArn = roleArns["main-deploy"];
export const roleBoundaryArn = boundary.arn;
