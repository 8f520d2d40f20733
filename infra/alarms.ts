// What tells a team its service is failing: CloudWatch alarms on the load
// balancer's and the targets' 5xx as a share of requests, the targets' p99
// response time, unhealthy targets, no healthy target at all, and the tasks'
// CPU and memory; a topic for their notifications; and a dashboard of the
// same figures. Missing data is no alarm (a service with no traffic is not
// failing), but for the healthy targets: none registered reports nothing.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { Children, awsSafeName } from "./naming";

export interface AlarmThresholds {
    /** Share of the requests the load balancer answered with a 5xx of its own (502, 503, 504), in percent. */
    loadBalancer5xxPercent: number;
    /** Share of the requests the tasks answered with a 5xx, in percent. */
    target5xxPercent: number;
    /** The targets' 99th-percentile response time, in milliseconds. */
    latencyP99Ms: number;
    /** The service's average CPU and memory use, in percent of the task's size. */
    cpuPercent: number;
    memoryPercent: number;
}

export interface AlarmArgs extends AlarmThresholds {
    /** Notifications to a topic the team has; or */
    topicArn?: string;
    /** to this address, subscribed to a topic the stack makes (it must confirm the subscription). */
    email?: string;
}

/** One minute per data point; an alarm after 3 bad minutes out of 5 (a single spike is not one). */
export const alarmPeriodSeconds = 60;
export const evaluationPeriods = 5;
export const datapointsToAlarm = 3;

/** Where a load balancer's and a target group's metrics are: the ARN suffixes CloudWatch names them by. */
export interface LoadBalancerMetrics {
    loadBalancer: pulumi.Input<string>;
    targetGroup: pulumi.Input<string>;
}

const elb = "AWS/ApplicationELB";

/** The alarms on what the load balancer sees; the deployment alarms are these. */
export function trafficAlarms(
    c: Children,
    on: LoadBalancerMetrics,
    t: AlarmThresholds & {
        /**
         * Whether to alarm on the load balancer's own 5xx: CloudWatch counts them per load balancer only
         * (HTTPCode_ELB_5XX_Count has no TargetGroup dimension), so they are one service's when it is the only public one.
         */
        loadBalancer5xx: boolean;
    },
    actions: pulumi.Input<string>[],
) {
    const common = {
        comparisonOperator: "GreaterThanThreshold",
        evaluationPeriods,
        datapointsToAlarm,
        treatMissingData: "notBreaching",
        alarmActions: actions,
        okActions: actions,
    };
    // errors as a share of requests; with no requests, no data (not an alarm).
    const rate = (errors: string, dimensions: Record<string, pulumi.Input<string>>) => [
        {
            id: "errors",
            returnData: false,
            metric: { namespace: elb, metricName: errors, dimensions, period: alarmPeriodSeconds, stat: "Sum" },
        },
        {
            id: "requests",
            returnData: false,
            metric: { namespace: elb, metricName: "RequestCount", dimensions, period: alarmPeriodSeconds, stat: "Sum" },
        },
        { id: "rate", returnData: true, expression: "100 * FILL(errors, 0) / requests", label: `${errors}, % of requests` },
    ];
    const target = { LoadBalancer: on.loadBalancer, TargetGroup: on.targetGroup };
    return {
        loadBalancer5xx: t.loadBalancer5xx
            ? c.make(aws.cloudwatch.MetricAlarm, "alarm-load-balancer-5xx", {
                  ...common,
                  alarmDescription: `More than ${t.loadBalancer5xxPercent} % of requests answered 5xx by the load balancer (no target, a target that closed the connection or timed out)`,
                  threshold: t.loadBalancer5xxPercent,
                  metricQueries: rate("HTTPCode_ELB_5XX_Count", { LoadBalancer: on.loadBalancer }),
              })
            : undefined,
        target5xx: c.make(aws.cloudwatch.MetricAlarm, "alarm-target-5xx", {
            ...common,
            alarmDescription: `More than ${t.target5xxPercent} % of requests answered 5xx by the service`,
            threshold: t.target5xxPercent,
            metricQueries: rate("HTTPCode_Target_5XX_Count", target),
        }),
        latency: c.make(aws.cloudwatch.MetricAlarm, "alarm-latency-p99", {
            ...common,
            alarmDescription: `The service's p99 response time above ${t.latencyP99Ms} ms`,
            namespace: elb,
            metricName: "TargetResponseTime",
            dimensions: target,
            period: alarmPeriodSeconds,
            extendedStatistic: "p99",
            // A minute with too few requests for a p99 to mean anything (CloudWatch: fewer than 10/(1-0.99))
            // leaves the alarm as it is: a near-idle stack is not rolled back on a handful of slow requests.
            evaluateLowSampleCountPercentiles: "ignore",
            threshold: t.latencyP99Ms / 1000, // the metric is in seconds
        }),
        unhealthy: c.make(aws.cloudwatch.MetricAlarm, "alarm-unhealthy-targets", {
            ...common,
            alarmDescription: "A task fails the load balancer's health check",
            namespace: elb,
            metricName: "UnHealthyHostCount",
            dimensions: target,
            period: alarmPeriodSeconds,
            statistic: "Maximum",
            threshold: 0,
        }),
        // An outage with no target at all sets off none of the above: the load balancer answers 503 itself before
        // it picks a target, which RequestCount leaves out (the 5xx share is then missing data), and no target
        // is unhealthy when none ever registers (an image that cannot be pulled, a secret that cannot be read, a
        // crash before the first health check). A target group with no healthy target reports 0, or nothing.
        noHealthyTargets: c.make(aws.cloudwatch.MetricAlarm, "alarm-no-healthy-targets", {
            ...common,
            alarmDescription: "No task passes the load balancer's health check: every request gets a 503 from the load balancer",
            comparisonOperator: "LessThanThreshold",
            treatMissingData: "breaching",
            namespace: elb,
            metricName: "HealthyHostCount",
            dimensions: target,
            period: alarmPeriodSeconds,
            statistic: "Minimum",
            threshold: 1,
        }),
    };
}

/** The alarms on the tasks' own use of their size. */
export function taskAlarms(
    c: Children,
    on: { clusterName: pulumi.Input<string>; serviceName: pulumi.Input<string> },
    t: AlarmThresholds,
    actions: pulumi.Input<string>[],
) {
    const alarm = (child: string, metricName: string, threshold: number, what: string) =>
        c.make(aws.cloudwatch.MetricAlarm, child, {
            alarmDescription: `The tasks' average ${what} above ${threshold} % of the task's size`,
            namespace: "AWS/ECS",
            metricName,
            dimensions: { ClusterName: on.clusterName, ServiceName: on.serviceName },
            period: alarmPeriodSeconds,
            statistic: "Average",
            comparisonOperator: "GreaterThanThreshold",
            threshold,
            evaluationPeriods,
            datapointsToAlarm,
            treatMissingData: "notBreaching",
            alarmActions: actions,
            okActions: actions,
        });
    return {
        cpu: alarm("alarm-cpu", "CPUUtilization", t.cpuPercent, "CPU"),
        memory: alarm("alarm-memory", "MemoryUtilization", t.memoryPercent, "memory"),
    };
}

/** The key policy of the topic's key: the account administers it; CloudWatch may encrypt to the topic, for this account's alarms only. */
export function alarmTopicKeyPolicy(accountId: string, partition = "aws"): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "Account",
                Effect: "Allow",
                Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
                Action: "kms:*",
                Resource: "*",
            },
            {
                Sid: "CloudWatchAlarms",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                Resource: "*",
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
        ],
    });
}

/** The topic's policy: CloudWatch publishes to it for this account's alarms only (the account's own principals need none: IAM grants them). */
export function alarmTopicPolicy(topicArn: string, accountId: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "CloudWatchAlarms",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: "sns:Publish",
                Resource: topicArn,
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
        ],
    });
}

/**
 * The stack's own topic for the alarms' notifications, encrypted. CloudWatch cannot publish to a
 * topic encrypted with the AWS-managed aws/sns key (its key policy cannot be changed to let it), so
 * the topic has a key of its own whose policy lets CloudWatch use it ($1 a month).
 */
export function alarmTopic(c: Children, email: string) {
    const accountId = aws.getCallerIdentityOutput({}, { parent: c.parent }).accountId;
    const key = c.make(aws.kms.Key, "alarms", {
        description: "Encrypts the alarm notifications' topic",
        enableKeyRotation: true,
        deletionWindowInDays: 7,
        policy: accountId.apply((id) => alarmTopicKeyPolicy(id)),
    });
    const topic = c.make(aws.sns.Topic, "alarms", { kmsMasterKeyId: key.arn });
    c.make(aws.sns.TopicPolicy, "alarms", {
        arn: topic.arn,
        policy: pulumi.all([topic.arn, accountId]).apply(([arn, id]) => alarmTopicPolicy(arn, id)),
    });
    c.make(aws.sns.TopicSubscription, "alarms-email", { topic: topic.arn, protocol: "email", endpoint: email });
    return topic;
}

/** The stack's dashboard for a service: project, stack and service, as CloudWatch takes a name. */
export function dashboardName(project: string, stack: string, service: string): string {
    return awsSafeName(`${project}-${stack}-${service}`);
}

/** The dashboard: the figures the alarms watch, one widget each, with the thresholds drawn in. */
export function dashboardBody(a: {
    region: string;
    /** A public service's load balancer and target group; none: the tasks' figures alone. */
    loadBalancer?: string;
    targetGroup?: string;
    clusterName: string;
    serviceName: string;
    /** Drawn in where there are alarms. */
    thresholds?: AlarmThresholds;
}): string {
    const lb = ["LoadBalancer", a.loadBalancer ?? ""];
    const tg = ["TargetGroup", a.targetGroup, ...lb];
    const ecs = ["ClusterName", a.clusterName, "ServiceName", a.serviceName];
    const t = a.thresholds;
    const widget = (title: string, metrics: unknown[], threshold: number | undefined, y: number, x: number) => ({
        type: "metric",
        x,
        y,
        width: 12,
        height: 6,
        properties: {
            title,
            region: a.region,
            view: "timeSeries",
            period: alarmPeriodSeconds,
            metrics,
            ...(threshold !== undefined ? { annotations: { horizontal: [{ label: "alarm", value: threshold }] } } : {}),
        },
    });
    const tasks = [
        widget("CPU %", [["AWS/ECS", "CPUUtilization", ...ecs, { stat: "Average" }]], t?.cpuPercent, 12, 0),
        widget("Memory %", [["AWS/ECS", "MemoryUtilization", ...ecs, { stat: "Average" }]], t?.memoryPercent, 12, 12),
    ];
    if (a.loadBalancer === undefined || a.targetGroup === undefined) return JSON.stringify({ widgets: tasks.map((w) => ({ ...w, y: 0 })) });
    return JSON.stringify({
        widgets: [
            widget("Requests", [[elb, "RequestCount", ...lb, { stat: "Sum" }]], undefined, 0, 0),
            widget(
                "5xx, % of requests",
                [
                    [elb, "HTTPCode_ELB_5XX_Count", ...lb, { id: "lbErrors", stat: "Sum", visible: false }],
                    [elb, "HTTPCode_Target_5XX_Count", ...tg, { id: "targetErrors", stat: "Sum", visible: false }],
                    [elb, "RequestCount", ...lb, { id: "requests", stat: "Sum", visible: false }],
                    [{ expression: "100 * FILL(lbErrors, 0) / requests", label: "load balancer 5xx %" }],
                    [{ expression: "100 * FILL(targetErrors, 0) / requests", label: "service 5xx %" }],
                ],
                t && Math.min(t.loadBalancer5xxPercent, t.target5xxPercent),
                0,
                12,
            ),
            widget(
                "Response time (s)",
                [
                    [elb, "TargetResponseTime", ...tg, { stat: "p50" }],
                    [elb, "TargetResponseTime", ...tg, { stat: "p99" }],
                ],
                t && t.latencyP99Ms / 1000,
                6,
                0,
            ),
            widget(
                "Targets",
                [
                    [elb, "HealthyHostCount", ...tg, { stat: "Minimum" }],
                    [elb, "UnHealthyHostCount", ...tg, { stat: "Maximum" }],
                ],
                undefined,
                6,
                12,
            ),
            ...tasks,
        ],
    });
}

/** The console's address of a dashboard. */
export function dashboardUrl(region: string, name: string): string {
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(name)}`;
}
