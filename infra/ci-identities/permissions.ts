// What the service's stacks ask of AWS, as IAM actions, by the Pulumi resource
// type or provider function that asks (terraform-provider-aws's create, read,
// update and delete of each, as pulumi-aws 7 bridges it), and how each action
// is held to the stacks one deploy role may touch. The scopes lean on the tags
// every resource gets from the program's provider (`project` and `stack`), on
// names that hold the stack's name, and on the IAM path and permissions
// boundary of the roles a stack makes. test/ci-identities.spec.ts checks every
// action and condition key against the Service Authorization Reference, and
// that the program makes no type this table does not cover.
import { accessLogsChild } from "../access-logs";

/** What a deploy role's statements are built for. */
export interface Where {
    partition: string;
    account: string;
    /** The service's Pulumi project: the `project` tag, the state's folder, the roles' path. */
    project: string;
    /** The stacks the role deploys: an exact name ("dev") or a prefix pattern ("pr-*"). */
    stacks: string;
    /** The permissions boundary every role the stacks make must carry. */
    roleBoundaryArn: string;
    /** The roles' IAM path: /<project>/. */
    rolePath: string;
    /** The stacks' domain, if they serve one: the records the role may write, and in which zone. */
    domain?: { names: string[]; zoneId?: string };
}

/**
 * How a grant's actions are held to the role's stacks.
 * - create: the request carries the stacks' tags, and any resource it acts on that already has a
 *   `stack` tag is theirs (so an existing resource of another stack cannot be overwritten or re-tagged).
 * - stack: the resource carries the stacks' tags.
 * - retag: as stack, and the new tags name the stacks too (services whose tag-on-create has its own key).
 * - addTags: as stack, with tags of other keys than project and stack: a default tag added to the program
 *   reaches deployed resources as a tagging request of that tag alone, without the stack's tags.
 * - tagOnCreate: tags sent with a create, which the service authorizes as a tagging action that
 *   names the create in `createAction`.
 * - named: the resource's ARN holds the stacks' names (`resources`).
 * - any: every resource: the action takes none, or reads nothing secret; `why` says which.
 */
export type Scope = "create" | "stack" | "retag" | "addTags" | "tagOnCreate" | "named" | "any";

export type Condition = Record<string, Record<string, string | string[]>>;

export interface Grant {
    actions: string[];
    scope: Scope;
    /** ARN patterns the grant is limited to; every resource when absent. */
    resources?: (w: Where) => string[];
    /** Conditions beyond the scope's. */
    condition?: (w: Where) => Condition;
    /** tagOnCreate: the service's condition key and the create actions it may name. */
    createAction?: { key: string; actions: string[] };
    /** any: why the action cannot be held to the stacks. */
    why?: string;
}

/** The tag keys the program's provider puts on every resource it makes. */
export const tagKeys = { project: "project", stack: "stack" } as const;

const any = (actions: string[], why: string): Grant => ({ actions, scope: "any", why });
const create = (...actions: string[]): Grant => ({ actions, scope: "create" });
const stack = (...actions: string[]): Grant => ({ actions, scope: "stack" });
/** A tag of another key added to the stacks' own resources (a new default tag of the program's provider). */
const addTags = (...actions: string[]): Grant => ({ actions, scope: "addTags" });

const describeOnly = "the service's Describe calls take no resource-level permissions";

// Tags sent with a create are authorized as a tagging action of the service's own, and these name the create.
const ecsCreates = ["CreateCluster", "CreateService", "RegisterTaskDefinition"];
const ec2Creates = [
    "CreateSecurityGroup",
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "CreateVpc",
    "CreateSubnet",
    "CreateInternetGateway",
    "CreateRouteTable",
    "AllocateAddress",
    "CreateNatGateway",
];
const elbCreates = ["CreateLoadBalancer", "CreateTargetGroup", "CreateListener"];
const ecsTagging: Grant[] = [
    { actions: ["ecs:TagResource"], scope: "tagOnCreate", createAction: { key: "ecs:CreateAction", actions: ecsCreates } },
    { actions: ["ecs:TagResource"], scope: "retag" },
    addTags("ecs:TagResource"),
];
const ec2Tagging: Grant[] = [
    { actions: ["ec2:CreateTags"], scope: "tagOnCreate", createAction: { key: "ec2:CreateAction", actions: ec2Creates } },
    { actions: ["ec2:CreateTags"], scope: "retag" },
    addTags("ec2:CreateTags"),
    any(["ec2:Describe*"], describeOnly),
];
const elbTagging: Grant[] = [
    {
        actions: ["elasticloadbalancing:AddTags"],
        scope: "tagOnCreate",
        createAction: { key: "elasticloadbalancing:CreateAction", actions: elbCreates },
    },
    { actions: ["elasticloadbalancing:AddTags"], scope: "retag" },
    addTags("elasticloadbalancing:AddTags"),
    any(["elasticloadbalancing:Describe*"], describeOnly),
];

/** A service-linked role the service makes the first time it is used in an account. */
function serviceLinkedRole(service: string): Grant {
    return {
        actions: ["iam:CreateServiceLinkedRole"],
        scope: "named",
        resources: (w) => [`arn:${w.partition}:iam::${w.account}:role/aws-service-role/${service}/*`],
        condition: () => ({ StringEquals: { "iam:AWSServiceName": service } }),
    };
}

const ec2 = (w: Where, type: string) => `arn:${w.partition}:ec2:*:${w.account}:${type}/*`;
const roles = (w: Where) => [`arn:${w.partition}:iam::${w.account}:role${w.rolePath}*`];
const withBoundary = (w: Where): Condition => ({ StringEquals: { "iam:PermissionsBoundary": w.roleBoundaryArn } });

/** The actions each resource type of the program needs, from create to delete. */
export const resourceGrants: Record<string, Grant[]> = {
    "aws:ecr/repository:Repository": [
        create("ecr:CreateRepository", "ecr:TagResource"),
        addTags("ecr:TagResource"),
        stack("ecr:DescribeRepositories", "ecr:ListTagsForResource", "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability"),
        // forceDelete: the repository goes with its images.
        stack("ecr:DeleteRepository"),
    ],
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": [stack("ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy")],
    // The push, and the layers of a version the repository already holds (cacheFrom).
    "docker:index/image:Image": [
        stack(
            "ecr:BatchCheckLayerAvailability",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
        ),
    ],

    "aws:ecs/cluster:Cluster": [
        create("ecs:CreateCluster"),
        stack("ecs:DescribeClusters", "ecs:UpdateCluster", "ecs:UpdateClusterSettings", "ecs:DeleteCluster", "ecs:ListTagsForResource"),
        ...ecsTagging,
        serviceLinkedRole("ecs.amazonaws.com"),
    ],
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": [stack("ecs:PutClusterCapacityProviders", "ecs:DescribeClusters")],
    "aws:ecs/taskDefinition:TaskDefinition": [
        create("ecs:RegisterTaskDefinition"),
        ...ecsTagging,
        any(
            ["ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition"],
            "ECS takes no resource for these (the SAR lists them as * only)",
        ),
        {
            // The task's two roles: the stack's own, under the project's path.
            actions: ["iam:PassRole"],
            scope: "stack",
            resources: roles,
            condition: () => ({ StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }),
        },
    ],
    "aws:ecs/service:Service": [
        create("ecs:CreateService"),
        ...ecsTagging,
        // waitForSteadyState follows the service's deployment to SUCCESSFUL (or fails on a rollback).
        stack("ecs:DescribeServices", "ecs:UpdateService", "ecs:DeleteService", "ecs:ListServiceDeployments", "ecs:ListTagsForResource"),
        any(
            ["ecs:DescribeServiceDeployments"],
            "a service deployment is not documented to carry its service's tags; the call reads a deployment's status only",
        ),
    ],

    "aws:lb/loadBalancer:LoadBalancer": [
        create("elasticloadbalancing:CreateLoadBalancer"),
        ...elbTagging,
        stack(
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:SetSecurityGroups",
            "elasticloadbalancing:SetSubnets",
            "elasticloadbalancing:SetIpAddressType",
            "elasticloadbalancing:DeleteLoadBalancer",
        ),
        serviceLinkedRole("elasticloadbalancing.amazonaws.com"),
    ],
    "aws:lb/targetGroup:TargetGroup": [
        create("elasticloadbalancing:CreateTargetGroup"),
        ...elbTagging,
        stack(
            "elasticloadbalancing:ModifyTargetGroup",
            "elasticloadbalancing:ModifyTargetGroupAttributes",
            "elasticloadbalancing:DeleteTargetGroup",
        ),
    ],
    // A listener is made on the load balancer, which must be the stack's (create's rule for a tagged resource).
    "aws:lb/listener:Listener": [
        create("elasticloadbalancing:CreateListener"),
        ...elbTagging,
        stack(
            "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:ModifyListenerAttributes",
            "elasticloadbalancing:DeleteListener",
        ),
    ],

    "aws:ec2/securityGroup:SecurityGroup": [
        // The new group carries the stack's tags. IAM authorizes the call against its VPC too, where the request's
        // tags are not in the context (the Service Authorization Reference lists aws:RequestTag for the group only):
        // the VPC has a statement of its own, without them, as the VPC User Guide's "Manage security groups" example.
        // Any VPC: the default one and a team's own carry no stack tag.
        { actions: ["ec2:CreateSecurityGroup"], scope: "create", resources: (w) => [ec2(w, "security-group")] },
        { actions: ["ec2:CreateSecurityGroup"], scope: "named", resources: (w) => [ec2(w, "vpc")] },
        ...ec2Tagging,
        // The provider removes the allow-all egress rule AWS adds to a new group.
        {
            actions: ["ec2:RevokeSecurityGroupEgress", "ec2:DeleteSecurityGroup"],
            scope: "stack",
            resources: (w) => [ec2(w, "security-group")],
        },
    ],
    // Rules on the stack's own groups only: the new rule is a create, the group must already be the stack's.
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": securityGroupRule("Ingress"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": securityGroupRule("Egress"),
    "aws:ec2/vpc:Vpc": [create("ec2:CreateVpc"), ...ec2Tagging, stack("ec2:ModifyVpcAttribute", "ec2:DeleteVpc")],
    // As a security group: the new subnet carries the request's tags, its VPC (the stack's own, vpc new) is checked on its own.
    "aws:ec2/subnet:Subnet": [
        { actions: ["ec2:CreateSubnet"], scope: "create", resources: (w) => [ec2(w, "subnet")] },
        { actions: ["ec2:CreateSubnet"], scope: "stack", resources: (w) => [ec2(w, "vpc")] },
        ...ec2Tagging,
        stack("ec2:ModifySubnetAttribute", "ec2:DeleteSubnet"),
    ],
    "aws:ec2/internetGateway:InternetGateway": [
        create("ec2:CreateInternetGateway"),
        ...ec2Tagging,
        stack("ec2:AttachInternetGateway", "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway"),
    ],
    "aws:ec2/routeTable:RouteTable": [
        { actions: ["ec2:CreateRouteTable"], scope: "create", resources: (w) => [ec2(w, "route-table")] },
        { actions: ["ec2:CreateRouteTable"], scope: "stack", resources: (w) => [ec2(w, "vpc")] },
        ...ec2Tagging,
        stack("ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute", "ec2:DeleteRouteTable"),
    ],
    "aws:ec2/routeTableAssociation:RouteTableAssociation": [
        stack("ec2:AssociateRouteTable", "ec2:ReplaceRouteTableAssociation", "ec2:DisassociateRouteTable"),
        any(["ec2:Describe*"], describeOnly),
    ],
    "aws:ec2/eip:Eip": [create("ec2:AllocateAddress"), ...ec2Tagging, stack("ec2:DisassociateAddress", "ec2:ReleaseAddress")],
    // The new gateway carries the request's tags; the subnet and the address it takes are the stack's own.
    "aws:ec2/natGateway:NatGateway": [
        { actions: ["ec2:CreateNatGateway"], scope: "create", resources: (w) => [ec2(w, "natgateway")] },
        { actions: ["ec2:CreateNatGateway"], scope: "stack", resources: (w) => [ec2(w, "subnet"), ec2(w, "elastic-ip"), ec2(w, "vpc")] },
        ...ec2Tagging,
        stack("ec2:DeleteNatGateway"),
    ],

    // Roles only under the project's path and with the boundary, so that a deploy role can neither
    // make a role stronger than the boundary nor change (or pass) a role it did not make.
    "aws:iam/role:Role": [
        { actions: ["iam:CreateRole"], scope: "create", resources: roles, condition: withBoundary },
        { actions: ["iam:TagRole"], scope: "create", resources: roles },
        { actions: ["iam:TagRole"], scope: "addTags", resources: roles },
        {
            // A new rolePermissionsBoundary on a deployed stack sets it in place: only to the boundary (never removed:
            // iam:DeleteRolePermissionsBoundary is not granted).
            actions: ["iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRole"],
            scope: "stack",
            resources: roles,
            condition: withBoundary,
        },
        {
            actions: [
                "iam:GetRole",
                "iam:ListRoleTags",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
            ],
            scope: "stack",
            resources: roles,
        },
    ],
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": [
        {
            actions: ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            scope: "stack",
            resources: roles,
            // The one managed policy the program attaches (the execution role's).
            condition: (w) => ({
                StringEquals: {
                    ...withBoundary(w).StringEquals,
                    "iam:PolicyARN": `arn:${w.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
                },
            }),
        },
        { actions: ["iam:ListAttachedRolePolicies"], scope: "stack", resources: roles },
    ],
    "aws:iam/rolePolicy:RolePolicy": [
        { actions: ["iam:PutRolePolicy", "iam:DeleteRolePolicy"], scope: "stack", resources: roles, condition: withBoundary },
        { actions: ["iam:GetRolePolicy"], scope: "stack", resources: roles },
    ],

    "aws:cloudwatch/logGroup:LogGroup": [
        create("logs:CreateLogGroup", "logs:TagResource"),
        addTags("logs:TagResource"),
        stack("logs:PutRetentionPolicy", "logs:ListTagsForResource", "logs:DeleteLogGroup"),
        any(["logs:DescribeLogGroups"], "CloudWatch Logs takes no resource for it"),
    ],
    "aws:appautoscaling/target:Target": [
        // RegisterScalableTarget makes the target and changes it: new, tagged; existing, the stack's.
        create("application-autoscaling:RegisterScalableTarget", "application-autoscaling:TagResource"),
        addTags("application-autoscaling:TagResource"),
        stack(
            "application-autoscaling:RegisterScalableTarget",
            "application-autoscaling:DeregisterScalableTarget",
            "application-autoscaling:ListTagsForResource",
        ),
        any(["application-autoscaling:DescribeScalableTargets"], "Application Auto Scaling takes no resource for it"),
        // Application Auto Scaling reads and scales the service with the caller's own permissions.
        stack("ecs:DescribeServices", "ecs:UpdateService"),
        serviceLinkedRole("ecs.application-autoscaling.amazonaws.com"),
    ],
    "aws:appautoscaling/policy:Policy": [
        stack("application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy"),
        any(["application-autoscaling:DescribeScalingPolicies"], "Application Auto Scaling takes no resource for it"),
        {
            // Target tracking makes its CloudWatch alarms with the caller's permissions; they carry no tags.
            actions: ["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"],
            scope: "named",
            resources: (w) => [`arn:${w.partition}:cloudwatch:*:${w.account}:alarm:TargetTracking-service/*`],
        },
    ],
    "aws:cloudwatch/metricAlarm:MetricAlarm": [
        // PutMetricAlarm makes an alarm and changes it.
        create("cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"),
        addTags("cloudwatch:TagResource"),
        stack("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource", "cloudwatch:DeleteAlarms"),
    ],
    // A dashboard carries no tags (the provider sends none); its name holds project and stack.
    "aws:cloudwatch/dashboard:Dashboard": [
        {
            actions: ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"],
            scope: "named",
            resources: (w) => [`arn:${w.partition}:cloudwatch::${w.account}:dashboard/${w.project}-${w.stacks}-*`],
        },
    ],

    "aws:ssm/parameter:Parameter": [
        // PutParameter makes a parameter (with tags) and overwrites it (without).
        create("ssm:PutParameter", "ssm:AddTagsToResource"),
        addTags("ssm:AddTagsToResource"),
        stack("ssm:PutParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:ListTagsForResource", "ssm:DeleteParameter"),
        any(["ssm:DescribeParameters"], "Systems Manager takes no resource for it; it lists names and types, never values"),
    ],

    "aws:acm/certificate:Certificate": [
        create("acm:RequestCertificate", "acm:AddTagsToCertificate"),
        addTags("acm:AddTagsToCertificate"),
        stack("acm:DescribeCertificate", "acm:ListTagsForCertificate", "acm:DeleteCertificate"),
    ],
    "aws:acm/certificateValidation:CertificateValidation": [stack("acm:DescribeCertificate")],
    "aws:route53/record:Record": [
        {
            // Only the stacks' own names in the zone: the alias record and the certificate's validation record.
            actions: ["route53:ChangeResourceRecordSets"],
            scope: "named",
            resources: (w) => [`arn:${w.partition}:route53:::hostedzone/${w.domain?.zoneId ?? "*"}`],
            condition: (w) => ({
                "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": w.domain?.names ?? [] },
            }),
        },
        any(["route53:GetChange", "route53:ListResourceRecordSets"], "Route 53 changes and records carry no tags"),
    ],

    // The alarms' own topic, made only with alarmEmail, which a pull request's stack never uses.
    "aws:kms/key:Key": [
        create("kms:CreateKey", "kms:TagResource"),
        addTags("kms:TagResource"),
        stack(
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:PutKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:EnableKeyRotation",
            "kms:ListResourceTags",
            "kms:ScheduleKeyDeletion",
        ),
    ],
    "aws:sns/topic:Topic": [
        create("sns:CreateTopic", "sns:TagResource"),
        addTags("sns:TagResource"),
        stack("sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:ListTagsForResource", "sns:DeleteTopic"),
    ],
    "aws:sns/topicPolicy:TopicPolicy": [stack("sns:GetTopicAttributes", "sns:SetTopicAttributes")],
    "aws:sns/topicSubscription:TopicSubscription": [
        stack("sns:Subscribe"),
        any(
            ["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"],
            "SNS authorizes these against the subscription, which carries no tags",
        ),
    ],

    // The access logs' bucket, which a pull request's stack never makes. S3 buckets' tags are not
    // IAM conditions (without per-bucket ABAC), so their names are the scope: every access-log bucket
    // of the account's stacks of any project named so: auto-named `<component>-access-logs-<hex>`, or, made before
    // components named their children (and kept by the alias), `access-logs-<hex>`.
    "aws:s3/bucket:Bucket": [
        accessLogBucket(
            "s3:CreateBucket",
            // Tags sent with the create (CreateBucketConfiguration.Tags) need TagResource; PutBucketTagging sets them after.
            "s3:TagResource",
            "s3:PutBucketTagging",
            "s3:GetBucket*",
            "s3:GetAccelerateConfiguration",
            "s3:GetEncryptionConfiguration",
            "s3:GetLifecycleConfiguration",
            "s3:GetReplicationConfiguration",
            "s3:ListBucket",
            // forceDestroy empties the bucket before it deletes it.
            "s3:ListBucketVersions",
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:DeleteBucket",
        ),
    ],
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": [
        accessLogBucket("s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    ],
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": [
        accessLogBucket("s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"),
    ],
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": [
        accessLogBucket("s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
    ],
    "aws:s3/bucketPolicy:BucketPolicy": [accessLogBucket("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy")],

    // What makes no AWS call of its own.
    "pulumi:providers:aws": [],
    "pulumi:index:Stash": [],
};

function securityGroupRule(direction: "Ingress" | "Egress"): Grant[] {
    const authorize = `ec2:AuthorizeSecurityGroup${direction}`;
    const groups = (w: Where) => [ec2(w, "security-group")];
    return [
        { actions: [authorize], scope: "create", resources: (w) => [ec2(w, "security-group-rule")] },
        {
            actions: [authorize, `ec2:RevokeSecurityGroup${direction}`, `ec2:UpdateSecurityGroupRuleDescriptions${direction}`],
            scope: "stack",
            resources: groups,
        },
        // A change of a rule in place names both the group and the rule, each the stack's.
        { actions: ["ec2:ModifySecurityGroupRules"], scope: "stack", resources: (w) => [...groups(w), ec2(w, "security-group-rule")] },
        ...ec2Tagging,
    ];
}

function accessLogBucket(...actions: string[]): Grant {
    return {
        actions,
        scope: "named",
        resources: (w) =>
            [`*-${accessLogsChild}-*`, `${accessLogsChild}-*`].flatMap((name) => [
                `arn:${w.partition}:s3:::${name}`,
                `arn:${w.partition}:s3:::${name}/*`,
            ]),
    };
}

/** The actions of the provider functions (lookups) the program calls. */
export const functionGrants: Record<string, Grant[]> = {
    "aws:index/getRegion:getRegion": [],
    "aws:index/getPartition:getPartition": [],
    // STS answers GetCallerIdentity for any caller.
    "aws:index/getCallerIdentity:getCallerIdentity": [],
    "aws:index/getAvailabilityZones:getAvailabilityZones": [any(["ec2:Describe*"], describeOnly)],
    "aws:ec2/getVpcs:getVpcs": [any(["ec2:Describe*"], describeOnly)],
    "aws:ec2/getSubnets:getSubnets": [any(["ec2:Describe*"], describeOnly)],
    "aws:ec2/getSubnet:getSubnet": [any(["ec2:Describe*"], describeOnly)],
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": [
        any(["ecr:GetAuthorizationToken"], "ECR takes no resource for it; a push or pull still needs the repository's permissions"),
    ],
    // Whether the stack's own repository holds a version, and its size.
    "aws:ecr/getImage:getImage": [{ actions: ["ecr:DescribeImages"], scope: "stack" }],
    "aws:route53/getZone:getZone": [
        any(
            ["route53:ListHostedZones", "route53:ListHostedZonesByName", "route53:GetHostedZone", "route53:ListTagsForResource"],
            "finding the domain's zone by name reads the account's zones (their names, never their records)",
        ),
    ],
};
