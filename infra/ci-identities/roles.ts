// The two deploy roles: who may assume each (a GitHub event of one
// repository), which stacks each deploys, and so which of the program's
// resource types and lookups its policies cover.
import { CiConfig, pullRequestStacks } from "./config";
import { Grant, Where, functionGrants, resourceGrants } from "./permissions";
import { PolicyDocument, Statement, StateBackend, grantStatements, packPolicies, regionStatement, stateStatements } from "./policy";

/**
 * What only the main stack's program makes: a pull request's stack writes no access logs and
 * notifies no one (infra/index.ts), so its role may make no S3 bucket, KMS key or SNS topic.
 */
export const mainStackOnly = [
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:kms/key:Key",
    "aws:sns/topic:Topic",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:sns/topicSubscription:TopicSubscription",
];

/** What only a stack that serves a domain makes: without the CI stack's domainName, the roles may make none. */
export const domainOnly = [
    "aws:acm/certificate:Certificate",
    "aws:acm/certificateValidation:CertificateValidation",
    "aws:route53/record:Record",
];

export interface DeployRole {
    /** The logical name of the role and its policies. */
    name: string;
    description: string;
    /** The OIDC token's subject it trusts: the jobs of one GitHub environment. */
    subject: string;
    /** The stacks it deploys: a name, or pr-*. */
    stacks: string;
    /** The KMS key of its stacks' awskms:// secrets, the only state key it may use. */
    stateKmsKeyArn?: string;
    /** The resource types its stacks make, which its policies cover. */
    resourceTypes: string[];
    /** The DNS names (Route 53's normalized form, with and without the final dot) it may write, with domainName. */
    recordNames: string[];
}

/** The names a stack of `stacks` writes for `domain`: its own, and its certificate's validation record (`_<hash>.<name>`). */
function recordNames(stacks: string, domain: string): string[] {
    const own = stacks === pullRequestStacks ? `${pullRequestStacks}.${domain}` : domain;
    return [own, `_*.${own}`].flatMap((n) => [n, `${n}.`]);
}

/**
 * The subject of a GitHub job that names an environment: `repo:OWNER/NAME:environment:NAME`, in place
 * of its event's or branch's (GitHub, "About security hardening with OpenID Connect", "Filtering for a
 * specific environment"). GitHub runs such a job only where the environment's protection rules let it.
 */
export function environmentSubject(repository: string, environment: string): string {
    return `repo:${repository}:environment:${environment}`;
}

export function deployRoles(c: CiConfig): DeployRole[] {
    const types = Object.keys(resourceGrants).filter((t) => c.domainName !== undefined || !domainOnly.includes(t));
    return [
        {
            name: "pull-request-deploy",
            description: `Deploys and destroys the pull requests' stacks (${pullRequestStacks}) of ${c.githubRepository}, from the jobs of its ${c.pullRequestEnvironment} environment`,
            subject: environmentSubject(c.githubRepository, c.pullRequestEnvironment),
            stacks: pullRequestStacks,
            // Nothing of the main stack: a pull request's jobs run the branch's code.
            stateKmsKeyArn: c.pullRequestStateKmsKeyArn,
            resourceTypes: types.filter((t) => !mainStackOnly.includes(t)),
            recordNames: c.domainName ? recordNames(pullRequestStacks, c.domainName) : [],
        },
        {
            name: "main-deploy",
            description: `Deploys the ${c.mainStack} stack of ${c.githubRepository}, from the jobs of its ${c.mainEnvironment} environment`,
            subject: environmentSubject(c.githubRepository, c.mainEnvironment),
            stacks: c.mainStack,
            stateKmsKeyArn: c.stateKmsKeyArn,
            resourceTypes: types,
            recordNames: c.domainName ? recordNames(c.mainStack, c.domainName) : [],
        },
    ];
}

/** Every statement of a role's policies: its stacks' resources and lookups, its state, its regions. */
export function deployStatements(
    role: DeployRole,
    w: Omit<Where, "stacks" | "domain">,
    c: Pick<CiConfig, "regions" | "hostedZoneId">,
    backend: Pick<StateBackend, "bucket">,
): Statement[] {
    const where: Where = {
        ...w,
        stacks: role.stacks,
        domain: role.recordNames.length > 0 ? { names: role.recordNames, zoneId: c.hostedZoneId } : undefined,
    };
    const grants: Grant[] = [...role.resourceTypes.flatMap((t) => resourceGrants[t]), ...Object.values(functionGrants).flat()];
    return [
        regionStatement(c.regions, { ...backend, kmsKeyArn: role.stateKmsKeyArn }),
        ...grantStatements(grants, where),
        ...stateStatements({ ...backend, kmsKeyArn: role.stateKmsKeyArn }, where),
    ];
}

/** What a role's statements depend on besides its configuration: known only once the account is. */
export type AccountValues = Pick<Where, "partition" | "account" | "roleBoundaryArn">;

/** Values as long as any account's can be (a partition name, an account ID, an auto-named policy's ARN). */
export function widestAccountValues(boundaryPath: string): AccountValues {
    const partition = `aws-${"x".repeat(8)}`;
    const account = "0".repeat(12);
    return { partition, account, roleBoundaryArn: `arn:${partition}:iam::${account}:policy${boundaryPath}role-boundary-${"0".repeat(7)}` };
}

/**
 * How a role's statements are split into managed policies (each a list of statement IDs), laid out
 * with the widest account values: the program must know how many policies it makes before the
 * account is known, and each then fits IAM's limit in any account.
 */
export function policyLayout(
    role: DeployRole,
    w: Omit<Where, "stacks" | "domain" | keyof AccountValues>,
    widest: AccountValues,
    c: Pick<CiConfig, "regions" | "hostedZoneId">,
    backend: Pick<StateBackend, "bucket">,
): string[][] {
    return packPolicies(deployStatements(role, { ...w, ...widest }, c, backend)).map((d) => d.Statement.map((s) => s.Sid));
}

/** The statements, as the layout splits them. */
export function laidOut(layout: string[][], statements: Statement[]): PolicyDocument[] {
    const bySid = new Map(statements.map((s) => [s.Sid, s]));
    return layout.map((sids) => ({
        Version: "2012-10-17",
        Statement: sids.map((sid) => {
            const s = bySid.get(sid);
            if (!s) throw new Error(`no statement ${sid} to lay out`);
            return s;
        }),
    }));
}
