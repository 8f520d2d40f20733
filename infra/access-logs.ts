// An S3 bucket for the load balancer's access logs, owned by the stack:
// encrypted, never public, TLS only, expiring its objects, and destroyed with
// the stack even when it holds logs (stacks are short-lived).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { Children, NamingArgs, componentAliases } from "./naming";

export interface AccessLogBucketArgs extends NamingArgs {
    /** Days a log object is kept. */
    retentionDays: number;
}

/** The bucket's child name: its auto-name is `<component>-access-logs-<7 characters>` (CI roles are held to that). */
export const accessLogsChild = "access-logs";

/** Where in the bucket the load balancer writes. */
export const accessLogPrefix = "load-balancer";

/**
 * Elastic Load Balancing's log-delivery account in each Region that opened
 * before August 2022 (AWS ELB guide, "Enable access logs for your Application
 * Load Balancer"). Other Regions deliver as a service principal instead, as AWS
 * CDK's ApplicationLoadBalancer.logAccessLogs does.
 */
export const elbLogDeliveryAccounts: Record<string, string> = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
};

/** The bucket policy: the region's log delivery may write under the prefix; nothing without TLS. */
export function accessLogBucketPolicy(a: { bucketArn: string; region: string; accountId: string }): string {
    const account = elbLogDeliveryAccounts[a.region];
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "LoadBalancerLogDelivery",
                Effect: "Allow",
                Principal: account ? { AWS: account } : { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
                Action: "s3:PutObject",
                Resource: `${a.bucketArn}/${accessLogPrefix}/AWSLogs/${a.accountId}/*`,
            },
            {
                Sid: "TlsOnly",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [a.bucketArn, `${a.bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    });
}

export class AccessLogBucket extends pulumi.ComponentResource {
    readonly bucketName: pulumi.Output<string>;
    /** The policy that lets the load balancer write: turn logging on only once it is there. */
    readonly policy: aws.s3.BucketPolicy;

    constructor(name: string, args: AccessLogBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("calculator:index:AccessLogBucket", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), ...componentAliases(args)] });
        const parent = { parent: this };
        const c = new Children(this, name, args);
        const bucket = c.make(aws.s3.Bucket, accessLogsChild, { forceDestroy: true });
        const publicAccess = c.make(aws.s3.BucketPublicAccessBlock, "access-logs", {
            bucket: bucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        // Load balancers write access logs to SSE-S3 buckets only.
        c.make(aws.s3.BucketServerSideEncryptionConfiguration, "access-logs", {
            bucket: bucket.id,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
        });
        c.make(aws.s3.BucketLifecycleConfiguration, "access-logs", {
            bucket: bucket.id,
            rules: [
                {
                    id: "expire",
                    status: "Enabled",
                    filter: {},
                    expiration: { days: args.retentionDays },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                },
            ],
        });
        const region = aws.getRegionOutput({}, parent).region;
        const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
        this.policy = c.make(
            aws.s3.BucketPolicy,
            "access-logs",
            {
                bucket: bucket.id,
                policy: pulumi
                    .all([bucket.arn, region, accountId])
                    .apply(([bucketArn, r, id]) => accessLogBucketPolicy({ bucketArn, region: r, accountId: id })),
            },
            { dependsOn: [publicAccess] },
        );
        this.bucketName = bucket.bucket;
        this.registerOutputs({ bucketName: this.bucketName });
    }
}
