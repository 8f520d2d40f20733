// IAM policy documents for the deploy roles: the grants of permissions.ts made
// statements for one set of stacks, the Pulumi state they may read and write,
// the region they are held to, the boundary of the roles their stacks make,
// and the trust of GitHub's OIDC tokens for one repository and one event.
import { Condition, Grant, Where, tagKeys } from "./permissions";

export interface Statement {
    Sid: string;
    Effect: "Allow" | "Deny";
    /** Trust policies only: who may assume the role. */
    Principal?: Record<string, string>;
    Action?: string[];
    NotAction?: string[];
    /** Every statement but a trust policy's. */
    Resource?: string | string[];
    Condition?: Condition;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: Statement[];
}

/** IAM's limit on a managed policy, counted without whitespace (IAM quotas, "Managed policy size"). */
export const managedPolicyMaxChars = 6144;
/** Managed policies a role may have attached, by default (IAM quotas; raisable to 20). */
export const managedPoliciesPerRole = 10;

/** The condition operator for the stacks' tag: exact for one stack, a pattern for "pr-*". */
function stackOperator(stacks: string): "StringEquals" | "StringLike" {
    return stacks.includes("*") ? "StringLike" : "StringEquals";
}

/** Conditions joined: every key of every operator must hold. */
export function allOf(...conditions: (Condition | undefined)[]): Condition {
    const out: Condition = {};
    for (const c of conditions) {
        for (const [operator, keys] of Object.entries(c ?? {})) out[operator] = { ...out[operator], ...keys };
    }
    return out;
}

function tagged(kind: "RequestTag" | "ResourceTag", w: Where, ifExists = false): Condition {
    return allOf(
        { [stackOperator(w.stacks) + (ifExists ? "IfExists" : "")]: { [`aws:${kind}/${tagKeys.stack}`]: w.stacks } },
        ifExists ? {} : { StringEquals: { [`aws:${kind}/${tagKeys.project}`]: w.project } },
    );
}

/** The conditions that hold a grant to the stacks, by its scope. */
export function scopeCondition(g: Grant, w: Where): Condition {
    switch (g.scope) {
        case "create":
            return allOf(tagged("RequestTag", w), tagged("ResourceTag", w, true));
        case "stack":
            return tagged("ResourceTag", w);
        case "retag":
            return allOf(tagged("ResourceTag", w), tagged("RequestTag", w));
        case "addTags":
            return allOf(tagged("ResourceTag", w), {
                "ForAllValues:StringNotEquals": { "aws:TagKeys": [tagKeys.project, tagKeys.stack] },
            });
        case "tagOnCreate":
            if (!g.createAction) throw new Error(`tagOnCreate grant of ${g.actions.join(", ")} names no create action key`);
            return allOf({ StringEquals: { [g.createAction.key]: g.createAction.actions } }, tagged("RequestTag", w));
        case "named":
        case "any":
            return {};
    }
}

const sids: Record<Grant["scope"], string> = {
    create: "CreateTaggedForTheStacks",
    stack: "TheStacksResources",
    retag: "RetagTheStacksResources",
    addTags: "AddTagsToTheStacksResources",
    tagOnCreate: "TagOnCreate",
    named: "NamedForTheStacks",
    any: "NoResourceLevelPermissions",
};

/** Statements for the grants: those alike in scope, resources and conditions are one statement. */
export function grantStatements(grants: Grant[], w: Where): Statement[] {
    const merged = new Map<string, { scope: Grant["scope"]; actions: Set<string>; resources: string[]; condition: Condition }>();
    for (const g of grants) {
        const resources = [...new Set(g.resources?.(w) ?? ["*"])].sort();
        const condition = allOf(scopeCondition(g, w), g.condition?.(w));
        const key = JSON.stringify([g.scope, resources, condition]);
        const entry = merged.get(key) ?? { scope: g.scope, actions: new Set<string>(), resources, condition };
        for (const a of g.actions) entry.actions.add(a);
        merged.set(key, entry);
    }
    const count: Partial<Record<Grant["scope"], number>> = {};
    return [...merged.values()].map((m) => {
        const n = (count[m.scope] = (count[m.scope] ?? 0) + 1);
        return {
            Sid: `${sids[m.scope]}${n}`,
            Effect: "Allow" as const,
            Action: [...m.actions].sort(),
            Resource: m.resources.length === 1 ? m.resources[0] : m.resources,
            ...(Object.keys(m.condition).length > 0 ? { Condition: m.condition } : {}),
        };
    });
}

/** Where a self-managed Pulumi backend keeps the state: an S3 bucket, and the KMS key of `awskms://` secrets. */
export interface StateBackend {
    bucket?: string;
    kmsKeyArn?: string;
}

/** The S3 actions on the state bucket: the region statement leaves them alone (the bucket may be in another region). */
export const stateActions = ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"];
export const stateKeyActions = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"];

/**
 * The role's part of a self-managed backend (pulumi/pulumi pkg/backend/diy): its stacks' checkpoint,
 * history, backups and locks it reads and writes, and the store's metadata it reads: no other stack's.
 */
export function stateStatements(backend: StateBackend, w: Where): Statement[] {
    const out: Statement[] = [];
    if (backend.bucket) {
        const bucket = `arn:${w.partition}:s3:::${backend.bucket}`;
        const own = (stack: string) => [`${stack}.*`, `${stack}/*`];
        const under = (folder: string, stack: string) => own(stack).map((s) => `${bucket}/.pulumi/${folder}/${w.project}/${s}`);
        out.push(
            {
                Sid: "StateList",
                Effect: "Allow",
                Action: ["s3:ListBucket"],
                Resource: bucket,
                Condition: { StringLike: { "s3:prefix": [".pulumi/*"] } },
            },
            {
                Sid: "StateOfTheStacks",
                Effect: "Allow",
                Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                Resource: [
                    ...under("stacks", w.stacks),
                    ...under("history", w.stacks),
                    ...under("backups", w.stacks),
                    ...under("locks/organization", w.stacks),
                ],
            },
            {
                Sid: "StateReadOnly",
                Effect: "Allow",
                Action: ["s3:GetObject"],
                Resource: `${bucket}/.pulumi/meta.yaml`,
            },
        );
    }
    if (backend.kmsKeyArn) {
        out.push({ Sid: "StateSecrets", Effect: "Allow", Action: stateKeyActions, Resource: backend.kmsKeyArn });
    }
    return out;
}

/** Global services' calls, and the state's, go to endpoints outside the stacks' regions. */
export const globalServices = ["iam:*", "route53:*", "sts:*"];

/** Nothing outside the stacks' regions, but for the global services (and the state, which may be elsewhere). */
export function regionStatement(regions: string[], backend: StateBackend): Statement {
    return {
        Sid: "OnlyTheStacksRegions",
        Effect: "Deny",
        NotAction: [...globalServices, ...(backend.bucket ? stateActions : []), ...(backend.kmsKeyArn ? stateKeyActions : [])],
        Resource: "*",
        Condition: { StringNotEquals: { "aws:RequestedRegion": regions } },
    };
}

/** Statements split into managed policies of at most `limit` characters each, in order. */
export function packPolicies(statements: Statement[], limit = managedPolicyMaxChars): PolicyDocument[] {
    const docs: PolicyDocument[] = [];
    let current: Statement[] = [];
    const size = (s: Statement[]) => policySize({ Version: "2012-10-17", Statement: s });
    for (const s of statements) {
        if (size([s]) > limit) throw new Error(`statement ${s.Sid} alone is ${size([s])} characters, over IAM's ${limit}`);
        if (current.length > 0 && size([...current, s]) > limit) {
            docs.push({ Version: "2012-10-17", Statement: current });
            current = [];
        }
        current.push(s);
    }
    if (current.length > 0) docs.push({ Version: "2012-10-17", Statement: current });
    return docs;
}

/** A policy's size as IAM counts it: its JSON without whitespace. */
export function policySize(doc: PolicyDocument): number {
    return JSON.stringify(doc).replace(/\s/g, "").length;
}

/** GitHub's OIDC issuer, and the audience its tokens carry for AWS (configure-aws-credentials' default). */
export const githubIssuer = "token.actions.githubusercontent.com";
export const githubAudience = "sts.amazonaws.com";

/**
 * Who may assume a deploy role: a GitHub Actions job of one repository, with one subject
 * (`repo:OWNER/NAME:pull_request`, `repo:OWNER/NAME:ref:refs/heads/main`), compared exactly.
 */
export function githubTrustPolicy(providerArn: string, subject: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "GitHubActions",
                Effect: "Allow",
                Principal: { Federated: providerArn },
                Action: ["sts:AssumeRoleWithWebIdentity"],
                Condition: { StringEquals: { [`${githubIssuer}:aud`]: githubAudience, [`${githubIssuer}:sub`]: subject } },
            },
        ],
    };
}

/**
 * The permissions boundary of every role the stacks make: at most what an ECS task's execution role
 * does (pull the project's images, write logs, read its own stack's secrets and decrypt them through
 * SSM or Secrets Manager). A deploy role may give a role it makes any policy; the boundary caps it.
 */
export function roleBoundaryPolicy(w: Pick<Where, "project">): PolicyDocument {
    const project = { StringEquals: { [`aws:ResourceTag/${tagKeys.project}`]: w.project } };
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "PullTheProjectsImages",
                Effect: "Allow",
                Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                Resource: "*",
                Condition: project,
            },
            { Sid: "RegistryToken", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
            { Sid: "WriteLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: "*" },
            {
                // A task reads its own stack's secrets only: the role's stack tag (its session's
                // aws:PrincipalTag) must be the secret's. A pull request's stack names dev's ARN in vain.
                Sid: "ReadTheStacksOwnSecrets",
                Effect: "Allow",
                Action: ["ssm:GetParameters", "secretsmanager:GetSecretValue"],
                Resource: "*",
                Condition: {
                    StringEquals: {
                        [`aws:ResourceTag/${tagKeys.project}`]: w.project,
                        [`aws:ResourceTag/${tagKeys.stack}`]: `\${aws:PrincipalTag/${tagKeys.stack}}`,
                    },
                },
            },
            {
                Sid: "DecryptThroughSsmOrSecretsManager",
                Effect: "Allow",
                Action: ["kms:Decrypt"],
                Resource: "*",
                Condition: { StringLike: { "kms:ViaService": ["ssm.*.amazonaws.com", "secretsmanager.*.amazonaws.com"] } },
            },
        ],
    };
}
