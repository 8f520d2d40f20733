// Several services in one stack: the stack's own services, and beside them an
// example of each kind (a public service on a path, an internal one it calls,
// a worker), scaffolded into a copy of the repository as a team would add
// them. They share one load balancer, cluster and namespace; each has its
// own routes, security-group rules, settings and update steps.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

import { loadConfig, mapConfigSource } from "../infra/config";
import { ServiceDeclaration, environmentProblems } from "../infra/declaration";
import { readProject } from "../infra/project";
import { routePriority, routeMatches } from "../infra/routing";
import { webServiceType } from "../infra/service";
import { Run, runUncached, shortUrn } from "../scripts/lib/harness";
import type { RecordedResource } from "../scripts/lib/mock-program";
import { effectiveConfig } from "../scripts/lib/stack-config";
import { addExamples, added, ledger, ports, web, worker } from "./examples";
import { copyRepository } from "./repo-copy";
import { planUpdate, refusedUpdates } from "./update-plan";
import { service as first } from "./service-under-test";

const T = {
    tg: "aws:lb/targetGroup:TargetGroup",
    rule: "aws:lb/listenerRule:ListenerRule",
    listener: "aws:lb/listener:Listener",
    lb: "aws:lb/loadBalancer:LoadBalancer",
    cluster: "aws:ecs/cluster:Cluster",
    service: "aws:ecs/service:Service",
    taskDef: "aws:ecs/taskDefinition:TaskDefinition",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    namespace: "aws:servicediscovery/httpNamespace:HttpNamespace",
    policy: "aws:appautoscaling/policy:Policy",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
};
describe("an environment of several services", function () {
    this.timeout(240_000);
    let copy: string;
    let alone: Run;
    let together: Run;
    const of = (run: Run, type: string, service: string) =>
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded inputs are loosely typed JSON
        run.all(type).filter((r) => r.parent === `${webServiceType}::${service}`) as (RecordedResource & { inputs: any })[];

    before(async function () {
        copy = copyRepository();
        alone = await runUncached({ projectDir: copy, stack: "dev" });
        addExamples(copy);
        together = await runUncached({ projectDir: copy, stack: "dev", after: alone });
    });
    after(() => fs.rmSync(copy, { recursive: true, force: true }));

    it("shares one load balancer, listener, cluster and namespace", function () {
        for (const type of [T.lb, T.cluster, T.namespace]) assert.equal(together.all(type).length, 1, type);
        assert.equal(together.all(T.listener).length, 1);
        assert.deepEqual(together.inputs(T.cluster).serviceConnectDefaults, { namespace: together.one(T.namespace).state!.arn });
        for (const s of added) assert.deepEqual(of(together, T.service, s)[0].inputs.cluster, together.one(T.cluster).state!.arn, s);
    });

    it("routes the public service by its path, with its own target group and a rule of a stable priority; the others have none", function () {
        const [rule] = of(together, T.rule, web);
        assert.deepEqual(rule.inputs.conditions, [{ pathPattern: { values: ["/web/*"] } }]);
        assert.equal(rule.inputs.priority, routePriority(web, { paths: ["/web/*"] }));
        assert.deepEqual(rule.inputs.actions, [{ type: "forward", targetGroupArn: of(together, T.tg, web)[0].state!.arn }]);
        assert.equal(rule.inputs.listenerArn, together.one(T.listener).state!.arn);
        for (const s of [ledger, worker]) {
            assert.equal(of(together, T.tg, s).length, 0, `${s} has a target group`);
            assert.equal(of(together, T.service, s)[0].inputs.loadBalancers, undefined);
        }
        // The listener's default is still the stack's own service routed at every path.
        if (!first.route) {
            assert.deepEqual(together.inputs(T.listener).defaultActions, [
                { type: "forward", targetGroupArn: of(together, T.tg, first.name)[0].state!.arn },
            ]);
        }
        // The service's tasks wait for its rule: the target group is then on the load balancer.
        assert.ok(of(together, T.service, web)[0].dependsOn.includes(`${T.rule}::${rule.name}`));
    });

    it("the internal service is found by name through Service Connect, and only its caller may reach its port", function () {
        const sc = (s: string) => of(together, T.service, s)[0].inputs.serviceConnectConfiguration;
        assert.deepEqual(sc(ledger).services, [
            { portName: "http", discoveryName: ledger, clientAlias: [{ port: ports.ledger, dnsName: ledger }] },
        ]);
        assert.equal(sc(web).enabled, true);
        assert.equal(sc(web).services, undefined, "a caller is a client only");
        assert.equal(sc(worker), undefined, "a service that calls none has no Service Connect");
        const env = JSON.parse(of(together, T.taskDef, web)[0].inputs.containerDefinitions)[0].environment;
        assert.deepEqual(
            env.find((e: { name: string }) => e.name === "EXAMPLE_LEDGER_URL"),
            { name: "EXAMPLE_LEDGER_URL", value: `http://${ledger}:${ports.ledger}` },
        );
        const [ledgerTasks] = together.all("aws:ec2/securityGroup:SecurityGroup").filter((g) => g.name === `${ledger}-tasks`);
        const [webTasks] = together.all("aws:ec2/securityGroup:SecurityGroup").filter((g) => g.name === `${web}-tasks`);
        const intoLedger = together.all(T.ingress).filter((r) => r.inputs.securityGroupId === ledgerTasks.id);
        assert.deepEqual(
            intoLedger.map((r) => [r.inputs.referencedSecurityGroupId, r.inputs.fromPort, r.inputs.toPort]),
            [[webTasks.id, ports.ledger, ports.ledger]],
        );
        const [workerTasks] = together.all("aws:ec2/securityGroup:SecurityGroup").filter((g) => g.name === `${worker}-tasks`);
        assert.deepEqual(
            together.all(T.ingress).filter((r) => r.inputs.securityGroupId === workerTasks.id),
            [],
            "nothing reaches a worker",
        );
    });

    it("the worker has no port, its container's own health check, and scales on CPU alone", function () {
        const [def] = JSON.parse(of(together, T.taskDef, worker)[0].inputs.containerDefinitions);
        assert.equal(def.portMappings, undefined);
        assert.deepEqual(def.healthCheck.command, ["CMD", "/app", "healthcheck"]);
        assert.ok(!def.environment.some((e: { name: string }) => e.name === "PORT"));
        assert.deepEqual(
            of(together, T.policy, worker).map((p) => p.name),
            [`${worker}-cpu`],
        );
        assert.deepEqual(
            of(together, T.policy, web)
                .map((p) => p.name)
                .sort(),
            [`${web}-cpu`, `${web}-requests`],
        );
    });

    it("the load balancer's own 5xx roll back no service once several are public (CloudWatch counts them per load balancer only)", function () {
        const alarms = (s: string) => of(together, T.service, s)[0].inputs.alarms.alarmNames as string[];
        for (const s of [web, first.name]) {
            assert.ok(!alarms(s).some((n) => n.includes("load-balancer-5xx")), `${s}: ${alarms(s).join(", ")}`);
            assert.ok(
                alarms(s).some((n) => n.includes("target-5xx")),
                s,
            );
        }
    });

    it("adding the services creates only their own resources and the namespace; the cluster learns the namespace in place", function () {
        const steps = planUpdate(alone, together);
        assert.deepEqual(
            steps.filter((s) => s.op === "replace").map((s) => shortUrn(s.urn)),
            [],
        );
        // The first public service gives up the load balancer's 5xx alarm, which is no longer its alone.
        const lbAlarm = `aws:cloudwatch/metricAlarm:MetricAlarm::${first.name}-alarm-load-balancer-5xx`;
        assert.deepEqual(
            steps.filter((s) => s.op === "delete").map((s) => shortUrn(s.urn)),
            first.route || first.kind ? [] : [lbAlarm],
        );
        assert.deepEqual(
            steps
                .filter((s) => s.op === "update")
                .map((s) => `${shortUrn(s.urn)} (${s.changed.join(", ")})`)
                .sort(),
            [
                `${T.cluster}::shared-cluster (serviceConnectDefaults)`,
                ...(first.route || first.kind ? [] : [`${T.service}::${first.name}-app (alarms)`]),
            ].sort(),
        );
        const created = together.resources.filter((r) => steps.some((s) => s.op === "create" && s.urn === r.urn));
        const strays = created.filter((r) => !added.some((s) => r.name === s || r.name.startsWith(`${s}-`)) && r.type !== T.namespace);
        assert.deepEqual(
            strays.map((r) => shortUrn(r.urn)),
            [],
        );
        assert.deepEqual(refusedUpdates(alone, together), []);
    });

    it("removing them deletes only their own resources and the namespace, and AWS accepts the update", async function () {
        withoutExamples(copy);
        const removed = await runUncached({ projectDir: copy, stack: "dev", after: together });
        const steps = planUpdate(together, removed);
        assert.deepEqual(
            steps.filter((s) => s.op === "replace").map((s) => shortUrn(s.urn)),
            [],
        );
        const deleted = steps.filter((s) => s.op === "delete");
        assert.ok(deleted.length > 0);
        for (const s of deleted) {
            assert.ok(added.some((a) => s.name === a || s.name.startsWith(`${a}-`)) || s.type === T.namespace, shortUrn(s.urn));
        }
        assert.deepEqual(refusedUpdates(together, removed), []);
    });
});

/** The copy's services list as it was, the examples left out (their folders stay: a list names what runs). */
function withoutExamples(copy: string): void {
    const file = path.join(copy, "infra", "services.ts");
    const text = fs.readFileSync(file, "utf8");
    const without = text.replace(/, exampleLedger, exampleWeb, exampleWorker\]/, "]");
    assert.notEqual(without, text, "the examples are listed last");
    fs.writeFileSync(file, without);
}

describe("what a stack of several services refuses, naming the service and the field", function () {
    const base = (name: string, more: Partial<ServiceDeclaration> = {}): ServiceDeclaration => ({
        name,
        dir: "/nowhere",
        container: {
            port: 8080,
            healthCheckPath: "/healthz",
            user: "65532:65532",
            stopTimeoutSeconds: 30,
            environment: {},
            secrets: {},
            protocolVersion: "HTTP1",
            readonlyRootFilesystem: true,
        },
        ...more,
    });
    const cases: [string, ServiceDeclaration[], RegExp][] = [
        ["two services taking every request", [base("a"), base("b")], /a and b: each has no route, so each would take every request/],
        [
            "two on one path and host",
            [
                base("a"),
                base("b", { route: { paths: ["/x/*"], hosts: ["h.example.com"] } }),
                base("c", { route: { hosts: ["h.example.com"], paths: ["/x/*"] } }),
            ],
            /c\.route: the same paths and hosts as b's/,
        ],
        [
            "two rules of one priority",
            [base("a", { route: { paths: ["/a/*"], priority: 7 } }), base("b", { route: { paths: ["/b/*"], priority: 7 } })],
            /b\.route\.priority: 7, as a's \(a listener takes one rule of a priority\)/,
        ],
        ["a call to no service", [base("a", { calls: ["nope"] })], /a\.calls: nope is not a service of this stack/],
        [
            "a call to a public service",
            [base("a"), base("b", { route: { paths: ["/b/*"] }, calls: ["a"] })],
            /b\.calls: a is public: call it at its URL/,
        ],
        ["an internal service nothing calls", [base("a"), base("i", { kind: "internal" })], /i: an internal service that no service calls/],
        ["two of one name", [base("a"), base("a", { route: { paths: ["/x"] } })], /a: two services of this name/],
    ];
    for (const [what, services, message] of cases) {
        it(what, function () {
            assert.match(environmentProblems(services).join("\n"), message);
        });
    }
    it("a stack whose services fit together has no problem", function () {
        assert.deepEqual(
            environmentProblems([base("a", { calls: ["i"] }), base("b", { route: { paths: ["/b/*"] } }), base("i", { kind: "internal" })]),
            [],
        );
    });

    const project = readProject();
    const defaults = Object.fromEntries(Object.entries(project.config).map(([k, v]) => [k, v.default]));
    const load = (set: Record<string, string>, names = ["a", "b"]) =>
        loadConfig(mapConfigSource(effectiveConfig({ ...defaults, ...set }), project.name), project.name, {
            services: names.map((name) => ({ name, reservedNames: ["PORT"] })),
        });
    const p = project.name;
    const refusals: [string, Record<string, string>, RegExp][] = [
        [
            "a bad size of one service",
            { services: JSON.stringify({ b: { cpu: 300 } }) },
            new RegExp(`${p}:services\\.b\\.cpu is "300"; it accepts one of 256`),
        ],
        [
            "a service the stack has not",
            { services: JSON.stringify({ c: { cpu: 512 } }) },
            new RegExp(`${p}:services\\.c: no service of this stack is named c`),
        ],
        [
            "a key a service does not take",
            { services: JSON.stringify({ a: { vpc: "new" } }) },
            new RegExp(`${p}:services\\.a\\.vpc is not a service's setting`),
        ],
        [
            "one service's environment set for all",
            { environment: JSON.stringify({ X: "1" }) },
            new RegExp(`${p}:environment is set, but the stack has 2 services \\(a, b\\); set it for the service it is for`),
        ],
        [
            "a memory its own cpu does not allow",
            { services: JSON.stringify({ a: { cpu: 1024 } }) },
            /memory is 512, which Fargate does not allow with cpu 1024/,
        ],
        [
            "a name the service sets itself",
            { services: JSON.stringify({ a: { environment: { PORT: "1" } } }) },
            new RegExp(`${p}:services\\.a\\.environment\\.PORT: PORT is set by the service itself`),
        ],
    ];
    for (const [what, set, message] of refusals) {
        it(`config: ${what}`, function () {
            assert.throws(
                () => load(set),
                (err: Error) => message.test(err.message),
            );
        });
    }
    it("config: each service takes its own settings over the stack's, and the stack's where it sets none", function () {
        const c = load({
            cpu: "512",
            memory: "1024",
            services: JSON.stringify({ b: { cpu: 1024, memory: "2048", spot: true, environment: { MODE: "b" } } }),
        });
        assert.deepEqual([c.services.a.cpu, c.services.a.memory, c.services.a.spot, c.services.a.environment], [512, 1024, false, {}]);
        assert.deepEqual(
            [c.services.b.cpu, c.services.b.memory, c.services.b.spot, c.services.b.environment],
            [1024, 2048, true, { MODE: "b" }],
        );
    });
    it("config: a stack of one service still takes its environment and port at the top", function () {
        const c = load({ containerPort: "9000", environment: JSON.stringify({ X: "1" }) }, ["a"]);
        assert.deepEqual([c.services.a.containerPort, c.services.a.environment], [9000, { X: "1" }]);
    });
});

describe("routes as the load balancer matches them", function () {
    it("paths are case-sensitive with * and ?, hosts are not and ignore the port", function () {
        assert.ok(routeMatches({ paths: ["/api/*"] }, "x", "/api/v1"));
        assert.ok(!routeMatches({ paths: ["/api/*"] }, "x", "/API/v1"));
        assert.ok(routeMatches({ hosts: ["*.example.com"] }, "Api.Example.com:8080", "/"));
        assert.ok(!routeMatches({ hosts: ["api.example.com"], paths: ["/a"] }, "api.example.com", "/b"));
    });
    it("a more specific path gets an earlier priority, and a name's priority depends on nothing else", function () {
        assert.ok(routePriority("z", { paths: ["/api/admin/*"] }) < routePriority("a", { paths: ["/api/*"] }));
        assert.ok(routePriority("z", { hosts: ["h"], paths: ["/api/*"] }) < routePriority("a", { paths: ["/api/*"] }));
        assert.equal(routePriority("web", { paths: ["/web/*"] }), routePriority("web", { paths: ["/web/*"] }));
        assert.equal(routePriority("web", { paths: ["/web/*"], priority: 3 }), 3);
    });
});
