// Alarms, deployment alarms and the dashboard, under the mocks: every
// alarm's metric, dimensions and threshold; what a deployment watches; where
// notifications go; what turning them off changes.
import { strict as assert } from "assert";

import { alarmTopicKeyPolicy, datapointsToAlarm, evaluationPeriods } from "../infra/alarms";
import { readProject } from "../infra/project";
import { Run, changedResources, failureOf, runUnderMocks, shortUrn } from "../scripts/lib/harness";
import { inputsAfterUpdate, planUpdate } from "./update-plan";
import { named, projectName, svcName } from "./service-under-test";

const T = {
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    dashboard: "aws:cloudwatch/dashboard:Dashboard",
    service: "aws:ecs/service:Service",
    lb: "aws:lb/loadBalancer:LoadBalancer",
    tg: "aws:lb/targetGroup:TargetGroup",
    cluster: "aws:ecs/cluster:Cluster",
    topic: "aws:sns/topic:Topic",
    topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
    subscription: "aws:sns/topicSubscription:TopicSubscription",
    key: "aws:kms/key:Key",
};
const declared = readProject().config;
const byDefault = (key: string) => Number(declared[key].default);

/** The stack's alarms, by their logical name without the component's. */
function alarms(run: Run): Record<string, ReturnType<Run["inputs"]>> {
    return Object.fromEntries(run.all(T.alarm).map((a) => [a.name.replace(named("alarm-"), ""), run.inputs(T.alarm, a.name)]));
}

describe("alarms (Pulumi mocks)", function () {
    this.timeout(120_000);
    let run: Run;
    before(async function () {
        run = await runUnderMocks();
    });

    it("watches, by default, the load balancer's and the targets' 5xx rates, p99 latency, unhealthy targets, CPU and memory", function () {
        const a = alarms(run);
        assert.deepEqual(Object.keys(a).sort(), [
            "cpu",
            "latency-p99",
            "load-balancer-5xx",
            "memory",
            "no-healthy-targets",
            "target-5xx",
            "unhealthy-targets",
        ]);
        const lbSuffix = run.one(T.lb).state?.arnSuffix;
        const tgSuffix = run.one(T.tg).state?.arnSuffix;
        assert.ok(lbSuffix && tgSuffix);

        const rate = (alarm: (typeof a)[string]) =>
            Object.fromEntries(alarm.metricQueries.map((q: { id: string }) => [q.id, q])) as Record<
                string,
                { expression?: string; metric: { metricName: string; dimensions: Record<string, string> } }
            >;
        const lb5xx = rate(a["load-balancer-5xx"]);
        assert.equal(lb5xx.errors.metric.metricName, "HTTPCode_ELB_5XX_Count");
        assert.deepEqual(lb5xx.errors.metric.dimensions, { LoadBalancer: lbSuffix });
        assert.deepEqual(lb5xx.requests.metric.dimensions, { LoadBalancer: lbSuffix });
        assert.equal(lb5xx.rate.expression, "100 * FILL(errors, 0) / requests");
        assert.equal(a["load-balancer-5xx"].threshold, byDefault("alarmLoadBalancer5xxPercent"));

        const t5xx = rate(a["target-5xx"]);
        assert.equal(t5xx.errors.metric.metricName, "HTTPCode_Target_5XX_Count");
        assert.deepEqual(t5xx.errors.metric.dimensions, { LoadBalancer: lbSuffix, TargetGroup: tgSuffix });
        assert.equal(a["target-5xx"].threshold, byDefault("alarmTarget5xxPercent"));

        assert.equal(a["latency-p99"].metricName, "TargetResponseTime");
        assert.equal(a["latency-p99"].extendedStatistic, "p99");
        assert.deepEqual(a["latency-p99"].dimensions, { LoadBalancer: lbSuffix, TargetGroup: tgSuffix });
        assert.equal(a["latency-p99"].threshold, byDefault("alarmLatencyP99Ms") / 1000, "the metric is in seconds");
        // Too few requests in a minute for a p99 leave the alarm as it is (CloudWatch: evaluateLowSampleCountPercentiles).
        assert.equal(a["latency-p99"].evaluateLowSampleCountPercentiles, "ignore");

        assert.equal(a["unhealthy-targets"].metricName, "UnHealthyHostCount");
        assert.equal(a["unhealthy-targets"].threshold, 0);

        const ecs = { ClusterName: run.one(T.cluster).state?.name, ServiceName: run.one(T.service).state?.name };
        assert.deepEqual(
            [a.cpu.namespace, a.cpu.metricName, a.cpu.dimensions, a.cpu.threshold],
            ["AWS/ECS", "CPUUtilization", ecs, byDefault("alarmCpuPercent")],
        );
        assert.deepEqual(
            [a.memory.metricName, a.memory.dimensions, a.memory.threshold],
            ["MemoryUtilization", ecs, byDefault("alarmMemoryPercent")],
        );
        for (const [name, alarm] of Object.entries(a)) {
            if (name === "no-healthy-targets") continue;
            assert.equal(alarm.treatMissingData, "notBreaching", `${name}: a service with no traffic is not failing`);
            assert.equal(alarm.comparisonOperator, "GreaterThanThreshold", name);
        }
        for (const [name, alarm] of Object.entries(a)) {
            assert.deepEqual([alarm.evaluationPeriods, alarm.datapointsToAlarm], [evaluationPeriods, datapointsToAlarm], name);
            assert.deepEqual(alarm.alarmActions ?? [], [], `${name}: no notifications without alarmEmail or alarmTopicArn`);
        }
    });

    it("an outage with no target at all sets off an alarm: fewer than one healthy target, and no data is as bad", function () {
        // The load balancer's own 503s with no target are not in RequestCount, and UnHealthyHostCount stays 0
        // when no task ever registers: only the healthy targets' count sees it (CloudWatch, ALB metrics).
        const a = alarms(run)["no-healthy-targets"];
        assert.deepEqual(
            [a.namespace, a.metricName, a.statistic, a.comparisonOperator, a.threshold, a.treatMissingData],
            ["AWS/ApplicationELB", "HealthyHostCount", "Minimum", "LessThanThreshold", 1, "breaching"],
        );
        assert.deepEqual(a.dimensions, { LoadBalancer: run.one(T.lb).state?.arnSuffix, TargetGroup: run.one(T.tg).state?.arnSuffix });
        // Not a deployment alarm: during a deploy the old tasks stay healthy, and the circuit breaker sees tasks that never turn healthy.
        const names = Object.fromEntries(run.all(T.alarm).map((x) => [x.name, String(x.state?.name)]));
        assert.ok(!run.inputs(T.service).alarms.alarmNames.includes(names[named("alarm-no-healthy-targets")]));
    });

    it("rolls a deployment back on the 5xx and latency alarms, which exist, besides the circuit breaker", function () {
        const svc = run.inputs(T.service);
        const names = Object.fromEntries(run.all(T.alarm).map((a) => [a.name, String(a.state?.name)]));
        assert.deepEqual(svc.alarms, {
            alarmNames: [names[named("alarm-load-balancer-5xx")], names[named("alarm-target-5xx")], names[named("alarm-latency-p99")]],
            enable: true,
            rollback: true,
        });
        assert.ok(svc.alarms.alarmNames.every((n: string) => Object.values(names).includes(n)));
        assert.deepEqual(svc.deploymentCircuitBreaker, { enable: true, rollback: true });
    });

    it("draws the figures the alarms watch on a dashboard, and exports its URL", function () {
        const d = run.inputs(T.dashboard);
        assert.equal(d.dashboardName, `${projectName}-test-${svcName}`);
        const body = JSON.parse(d.dashboardBody);
        const metrics = body.widgets.flatMap((w: { properties: { metrics: unknown[][] } }) => w.properties.metrics.map((m) => m[1]));
        for (const m of [
            "RequestCount",
            "HTTPCode_ELB_5XX_Count",
            "HTTPCode_Target_5XX_Count",
            "TargetResponseTime",
            "UnHealthyHostCount",
            "CPUUtilization",
            "MemoryUtilization",
        ]) {
            assert.ok(metrics.includes(m), m);
        }
        assert.ok(JSON.stringify(body).includes(String(run.one(T.tg).state?.arnSuffix)));
        assert.equal(
            run.outputs.dashboardUrl,
            `https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/${projectName}-test-${svcName}`,
        );
    });

    it("with alarmEmail, notifies through an encrypted topic the stack owns, which CloudWatch may use", async function () {
        const mailed = await runUnderMocks({ set: { alarmEmail: "oncall@example.com" } });
        const topic = mailed.one(T.topic);
        const key = mailed.one(T.key);
        assert.equal(mailed.inputs(T.topic).kmsMasterKeyId, key.state?.arn, "encrypted with the stack's key, not aws/sns");
        assert.deepEqual(JSON.parse(mailed.inputs(T.key).policy), JSON.parse(alarmTopicKeyPolicy("123456789012")));
        assert.equal(mailed.inputs(T.key).enableKeyRotation, true);
        const policy = JSON.parse(mailed.inputs(T.topicPolicy).policy);
        assert.deepEqual(policy.Statement, [
            {
                Sid: "CloudWatchAlarms",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: "sns:Publish",
                Resource: topic.state?.arn,
                Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
            },
        ]);
        assert.deepEqual([mailed.inputs(T.subscription).protocol, mailed.inputs(T.subscription).endpoint], ["email", "oncall@example.com"]);
        for (const alarm of Object.values(alarms(mailed))) {
            assert.deepEqual([alarm.alarmActions, alarm.okActions], [[topic.state?.arn], [topic.state?.arn]]);
        }
    });

    it("a pull request's stack, with dev's alarmEmail, has the alarms but notifies no one and subscribes no address", async function () {
        const pr = await runUnderMocks({ stack: "pr-7", set: { alarmEmail: "oncall@example.com" } });
        assert.equal(pr.all(T.alarm).length, 7);
        assert.equal(pr.all(T.topic).length + pr.all(T.subscription).length + pr.all(T.key).length, 0);
        for (const alarm of Object.values(alarms(pr))) assert.deepEqual(alarm.alarmActions, []);
        assert.equal(pr.inputs(T.service).alarms.rollback, true);
    });

    it("with alarmTopicArn, notifies that topic and makes none", async function () {
        const arn = "arn:aws:sns:us-east-1:123456789012:oncall";
        const theirs = await runUnderMocks({ set: { alarmTopicArn: arn } });
        assert.equal(theirs.all(T.topic).length + theirs.all(T.key).length, 0);
        for (const alarm of Object.values(alarms(theirs))) assert.deepEqual(alarm.alarmActions, [arn]);
    });

    it("turning alarms off turns the deployment's alarms off on AWS: an explicit disabled block, as the provider keeps a removed one", async function () {
        const off = await runUnderMocks({ set: { alarms: "false" } });
        assert.equal(off.all(T.alarm).length, 0);
        const service = off.one(T.service);
        const after = inputsAfterUpdate(T.service, run.inputs(T.service), off.inputs(T.service));
        assert.deepEqual([after.alarms.enable, after.alarms.rollback], [false, false], "ECS still rolls back on alarms the stack deleted");
        assert.ok(after.alarms.alarmNames.length > 0, "the provider sends no names for an empty list, which the SDK refuses");
        assert.equal(planUpdate(run, off).find((s) => s.urn === service.urn)?.op, "update");
    });

    it("turning alarms off and on changes only the alarms, the deployment's alarms and the dashboard's alarm lines", async function () {
        const off = await runUnderMocks({ set: { alarms: "false" } });
        assert.deepEqual(
            changedResources(run, off).map(shortUrn),
            [
                ...run
                    .all(T.alarm)
                    .map((a) => `${T.alarm}::${a.name}`)
                    .sort(),
                `${T.dashboard}::${svcName}-dashboard`,
                `${T.service}::${svcName}-app`,
            ].sort(),
        );
    });

    it("a new threshold changes only its alarm and the dashboard's line", async function () {
        const tighter = await runUnderMocks({ set: { alarmLatencyP99Ms: "250" } });
        assert.deepEqual(
            changedResources(run, tighter).map(shortUrn),
            [`${T.dashboard}::${svcName}-dashboard`, `${T.alarm}::${svcName}-alarm-latency-p99`].sort(),
        );
        assert.equal(tighter.inputs(T.alarm, named("alarm-latency-p99")).threshold, 0.25);
    });

    const refused: [Record<string, string>, RegExp][] = [
        [{ alarmTarget5xxPercent: "0" }, /alarmTarget5xxPercent is "0"; it accepts a whole percent from 1 to 100/],
        [{ alarmCpuPercent: "101" }, /alarmCpuPercent is "101"/],
        [{ alarmLatencyP99Ms: "fast" }, /alarmLatencyP99Ms is "fast"; it accepts milliseconds from 1 to 60000/],
        [{ alarmEmail: "oncall" }, /alarmEmail is "oncall"; it accepts an email address/],
        [{ alarmTopicArn: "oncall" }, /alarmTopicArn is "oncall"; it accepts an SNS topic ARN/],
        [
            { alarmEmail: "a@example.com", alarmTopicArn: "arn:aws:sns:us-east-1:123456789012:t" },
            /alarmEmail and .*alarmTopicArn are both set/,
        ],
        [{ alarms: "false", alarmEmail: "a@example.com" }, /alarms is false, but .*alarmEmail is set/],
    ];
    it("refuses bad alarm settings at preview, naming the key", async function () {
        const messages = await Promise.all(refused.map(([set]) => failureOf({ set })));
        refused.forEach(([, message], i) => assert.match(messages[i], message));
    });
});
