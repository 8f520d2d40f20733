// One service of an environment (infra/environment.ts) on Fargate: its tasks'
// security group and rules, its target group and listener rule when it is
// public, its logs, IAM roles, secrets, task definition, ECS service,
// autoscaling, alarms and dashboard. What runs in it is an argument
// (Container); every child is named from the component's name.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { AlarmArgs, alarmTopic, dashboardBody, dashboardName, dashboardUrl, taskAlarms, trafficAlarms } from "./alarms";
import type { ServiceEnvironment } from "./environment";
import { Children, NamingArgs, awsSafeName, componentAliases, serviceNameProblems } from "./naming";
import { Route, loadBalancerNameMaxLength, routePriority, routeProblems, ruleConditions } from "./routing";

/** What a service is to the others: reached through the load balancer, reached by other services only, or reached by none. */
export type ServiceKind = "public" | "internal" | "worker";

export interface WebServiceArgs extends NamingArgs {
    /** Used in the task definition's family, which ECS needs named. */
    project: string;
    stack: string;
    /** The cluster, load balancer and namespace it shares with the stack's other services. */
    environment: ServiceEnvironment;
    kind: ServiceKind;
    /** A public service's route on the load balancer; none: the listener's default (every request no rule takes). */
    route?: Route;
    /** Whether it calls an internal service (it then resolves their names through Service Connect). */
    callsInternal: boolean;
    taskSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Tasks in public subnets need a public IP to reach ECR and CloudWatch Logs; behind a NAT gateway or endpoints they must not have one. */
    assignPublicIp: boolean;
    /** repository@sha256:... of the image to run: a digest, never a tag. */
    imageRef: pulumi.Input<string>;
    /** What the service in the image does, which the task and the load balancer must agree with. */
    container: Container;
    /** The customer-managed KMS key the secrets are encrypted with, if not an AWS-managed one: the execution role may decrypt with it. */
    secretsKmsKeyArn?: string;
    /** The permissions boundary its roles carry, and the IAM path they live under (a deploy role that requires both may make them). */
    roleBoundary?: { policyArn: string; path: string };
    cpu: number;
    memory: number;
    cpuArchitecture: CpuArchitecture;
    /** Tasks a new service starts with; autoscaling owns the count after that. */
    desiredCount: number;
    minCount: number;
    maxCount: number;
    spot: boolean;
    /** ECS Exec: a shell-less `aws ecs execute-command` into its tasks (the task role may open the SSM channels). */
    executeCommand: boolean;
    logRetentionDays: number;
    /** Alarms on the service (and a deployment that sets off a 5xx or latency one rolls back); none: no alarms. */
    alarms?: AlarmArgs & {
        /** Whether the load balancer's own 5xx are this service's: true when it is the one public service (the metric is per load balancer only). */
        loadBalancer5xx: boolean;
    };
}

/** The CPU architecture of a service's tasks. */
export type CpuArchitecture = "X86_64" | "ARM64";

/**
 * The container's contract: what the image's service does, as the task definition and the load
 * balancer must know it. README.md ("Bring your own service") says what a service must do.
 */
export interface Container {
    /** The port it listens on; the task sets PORT to it. 1024 or above: it runs as a non-root user. A worker has none. */
    port?: number;
    /** What the load balancer asks for; a 200 is healthy. A public service has one; an internal one may (its container's own check then probes it). */
    healthCheckPath?: string;
    /** A health check ECS runs inside the container (exec form, e.g. ["CMD", "/app", "healthcheck"]); none: the load balancer's alone. */
    healthCheckCommand?: string[];
    /** uid:gid the process runs as: never root. */
    user: string;
    /** Seconds ECS waits after SIGTERM before it kills the container (2 to 120): above the service's own drain time. */
    stopTimeoutSeconds: number;
    /** The command, where it is not the image's. */
    command?: string[];
    /** Plain settings, by name. */
    environment: Record<string, string>;
    /** Settings whose values are secret, by name: where each value lives. */
    secrets: Record<string, SecretSource>;
    /** What the load balancer speaks to the targets: HTTP1 (the calculator is built without HTTP/2), HTTP2 or GRPC. */
    protocolVersion: "HTTP1" | "HTTP2" | "GRPC";
    /** Whether the service writes nothing to its file system (then it is mounted read-only). */
    readonlyRootFilesystem: boolean;
}

/** Where a secret's value lives: an SSM parameter or Secrets Manager ARN the team keeps, or a value the stack stores as an SSM SecureString. */
export type SecretSource = { valueFrom: pulumi.Input<string> } | { value: pulumi.Input<string> };

/** The names the component sets itself, which `environment` and `secrets` must not. */
export const setByWebService = ["PORT"];
/** ECS sets these in every task (credentials, metadata); a setting must not shadow them. */
export const setByEcs = /^(ECS_|AWS_CONTAINER_|AWS_EXECUTION_ENV$)/;

/**
 * The service's deployment alarms with alarms off: said explicitly, since the provider leaves a removed
 * `alarms` block out of the diff (terraform-provider-aws ecs/service.go: DiffSuppressFunc
 * SuppressMissingOptionalConfigurationBlock) and ECS would keep rolling back on alarms the stack deleted.
 * A disabled block is how AWS Copilot turns them off (aws/copilot-cli#4565, with no names, through
 * CloudFormation). Here it needs a name: for an empty list the provider sends no AlarmNames
 * (expandAlarms: `v.Len() > 0`), which the AWS SDK refuses as a missing required field.
 */
export const deploymentAlarmsOff = { alarmNames: ["none"], enable: false, rollback: false };

/** The container's name in the task definition, the target of the load balancer. */
export const containerName = "app";
export { loadBalancerIdleTimeoutSeconds, loadBalancerNameMaxLength } from "./routing";
/** Autoscaling targets. */
export const cpuTargetPercent = 60;
export const requestsPerTargetTarget = 1000;

/** A secret as the task definition names it: a name and the ARN ECS reads it from. */
export interface SecretRef {
    name: string;
    valueFrom: string;
}

/** Service Connect's names for the protocols (ECS API reference, PortMapping appProtocol). */
const appProtocols = { HTTP1: "http", HTTP2: "http2", GRPC: "grpc" } as const;

/** The container definition, as ECS takes it in the task definition. */
export function containerDefinitions(a: {
    imageRef: string;
    container: Container;
    secrets: SecretRef[];
    /** Labels that change when a secret's stored value does, so that a new value starts new tasks. */
    labels: Record<string, string>;
    logGroupName: string;
    region: string;
    /** Whether other services reach it through Service Connect. */
    serviceConnect?: boolean;
}): string {
    const c = a.container;
    const environment = Object.entries({ ...c.environment, ...(c.port !== undefined ? { PORT: String(c.port) } : {}) })
        .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
        .map(([name, value]) => ({ name, value }));
    return JSON.stringify([
        {
            name: containerName,
            image: a.imageRef,
            essential: true,
            ...(c.command ? { command: c.command } : {}),
            // Named: Service Connect names the port an internal service is reached on, and takes its protocol.
            ...(c.port !== undefined
                ? {
                      portMappings: [
                          {
                              name: "http",
                              containerPort: c.port,
                              hostPort: c.port,
                              protocol: "tcp",
                              ...(a.serviceConnect ? { appProtocol: appProtocols[c.protocolVersion] } : {}),
                          },
                      ],
                  }
                : {}),
            environment,
            ...(a.secrets.length > 0 ? { secrets: a.secrets } : {}),
            ...(Object.keys(a.labels).length > 0 ? { dockerLabels: a.labels } : {}),
            user: c.user,
            readonlyRootFilesystem: c.readonlyRootFilesystem,
            ...(c.healthCheckCommand
                ? { healthCheck: { command: c.healthCheckCommand, interval: 10, timeout: 3, retries: 3, startPeriod: 5 } }
                : {}),
            stopTimeout: c.stopTimeoutSeconds,
            logConfiguration: {
                logDriver: "awslogs",
                options: {
                    "awslogs-group": a.logGroupName,
                    "awslogs-region": a.region,
                    "awslogs-stream-prefix": containerName,
                },
            },
        },
    ]);
}

/** Why a container contract cannot run, one line each (none: it can). */
export function containerProblems(c: Container): string[] {
    const problems: string[] = [];
    if (c.port !== undefined && (!Number.isInteger(c.port) || c.port < 1024 || c.port > 65535)) {
        problems.push(`port ${c.port}: a TCP port from 1024 to 65535 (a non-root user cannot bind a lower one)`);
    }
    if (c.healthCheckPath !== undefined && !c.healthCheckPath.startsWith("/")) {
        problems.push(`healthCheckPath ${JSON.stringify(c.healthCheckPath)}: a path, starting with /`);
    }
    if (!/^[1-9]\d*(:[1-9]\d*)?$/.test(c.user)) problems.push(`user ${JSON.stringify(c.user)}: a non-root uid[:gid], such as 65532:65532`);
    if (!Number.isInteger(c.stopTimeoutSeconds) || c.stopTimeoutSeconds < 2 || c.stopTimeoutSeconds > 120) {
        problems.push(`stopTimeoutSeconds ${c.stopTimeoutSeconds}: 2 to 120 (what Fargate allows)`);
    }
    const names = [...Object.keys(c.environment), ...Object.keys(c.secrets)];
    for (const name of names) {
        if (!environmentName.test(name))
            problems.push(`${name}: not an environment variable name (letters, digits and _, not starting with a digit)`);
        else if (setByWebService.includes(name)) problems.push(`${name}: set by the service from its port`);
        else if (setByEcs.test(name)) problems.push(`${name}: set by ECS in every task`);
    }
    for (const name of Object.keys(c.secrets)) {
        if (name in c.environment) problems.push(`${name}: both a setting and a secret`);
    }
    return problems;
}

/** What a POSIX shell takes as a variable name, and what ECS passes on. */
export const environmentName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The task definition's family: project, stack and service, as ECS takes it. `service` undefined
 * gives the family of the stacks that had one service (formerNames).
 */
export function taskFamily(project: string, stack: string, service?: string): string {
    return awsSafeName(service === undefined ? `${project}-${stack}` : `${project}-${stack}-${service}`);
}

/** The resource an ARN in valueFrom names, for an IAM policy: a Secrets Manager ARN without its :json-key:stage:id tail. */
export function secretResourceArn(valueFrom: string): string {
    const parts = valueFrom.split(":");
    return parts[2] === "secretsmanager" ? parts.slice(0, 7).join(":") : valueFrom;
}

/** The execution role's policy for reading the task's secrets: exactly those, and the customer key they are encrypted with, if one. */
export function secretsPolicy(valueFroms: string[], kmsKeyArn?: string): string {
    const arns = [...new Set(valueFroms.map(secretResourceArn))].sort();
    const ssm = arns.filter((a) => a.split(":")[2] === "ssm");
    const secretsManager = arns.filter((a) => a.split(":")[2] === "secretsmanager");
    const statements = [
        ...(ssm.length > 0 ? [{ Sid: "Parameters", Effect: "Allow", Action: "ssm:GetParameters", Resource: ssm }] : []),
        ...(secretsManager.length > 0
            ? [{ Sid: "Secrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secretsManager }]
            : []),
        ...(kmsKeyArn ? [{ Sid: "CustomerKey", Effect: "Allow", Action: "kms:Decrypt", Resource: kmsKeyArn }] : []),
    ];
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** A role trust policy for ECS tasks, only on behalf of this account (AWS's confused-deputy guidance). */
export function ecsTasksTrustPolicy(accountId: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Service: "ecs-tasks.amazonaws.com" },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
        ],
    });
}

/** What the task role may call for ECS Exec: the SSM channels the agent opens (ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec", IAM permissions). */
export const executeCommandPolicy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
        {
            Sid: "EcsExec",
            Effect: "Allow",
            Action: [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
            ],
            Resource: "*",
        },
    ],
});

/** The component's type token (its children's URNs hold it). */
export const webServiceType = "calculator:index:WebService";

export class WebService extends pulumi.ComponentResource {
    /** A public service's target group (none for internal services and workers). */
    readonly targetGroupArn?: pulumi.Output<string>;
    readonly clusterName: pulumi.Output<string>;
    readonly serviceName: pulumi.Output<string>;
    readonly logGroupName: pulumi.Output<string>;
    readonly taskDefinitionArn: pulumi.Output<string>;
    readonly dashboardUrl: pulumi.Output<string>;
    /** Its tasks' security group: an internal service lets its callers' in. */
    readonly taskSecurityGroupId: pulumi.Output<string>;
    /** The alarms' names, by what they watch (none without alarms). */
    readonly alarmNames: Record<string, pulumi.Output<string>> = {};
    private readonly children: Children;
    private readonly port?: number;

    constructor(name: string, args: WebServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super(webServiceType, name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), ...componentAliases(args)] });
        const problems = [...serviceNameProblems(name), ...containerProblems(args.container), ...kindProblems(args)];
        if (problems.length > 0) throw new Error(`WebService ${name}: the container cannot run:\n  - ${problems.join("\n  - ")}`);
        const c = (this.children = new Children(this, name, args));
        const parent = { parent: this };
        const env = args.environment;
        const port = (this.port = args.container.port);
        const lb = args.kind === "public" ? env.loadBalancer! : undefined;

        // Network access: only the load balancer reaches a public service's tasks, only its callers an
        // internal one's (allowCallsFrom), and nothing a worker's. The rules are resources of their own
        // (as terraform-aws-modules/alb and AWS CDK make them): the groups name each other, which
        // inline rules cannot express without a cycle.
        const taskSecurityGroup = c.make(aws.ec2.SecurityGroup, "tasks", {
            vpcId: env.vpcId,
            description:
                args.kind === "public"
                    ? "Tasks: the container port from the load balancer only"
                    : args.kind === "internal"
                      ? "Tasks: the container port from the services that call it only"
                      : "Tasks: no way in",
        });
        this.taskSecurityGroupId = taskSecurityGroup.id;
        const rules: pulumi.Resource[] = [];
        if (lb && port !== undefined) {
            rules.push(
                c.make(aws.vpc.SecurityGroupEgressRule, "load-balancer-to-tasks", {
                    securityGroupId: lb.securityGroupId,
                    description: "To the tasks' container port (traffic and health checks)",
                    ipProtocol: "tcp",
                    fromPort: port,
                    toPort: port,
                    referencedSecurityGroupId: taskSecurityGroup.id,
                }),
                c.make(aws.vpc.SecurityGroupIngressRule, "tasks-from-load-balancer", {
                    securityGroupId: taskSecurityGroup.id,
                    description: "From the load balancer",
                    ipProtocol: "tcp",
                    fromPort: port,
                    toPort: port,
                    referencedSecurityGroupId: lb.securityGroupId,
                }),
            );
        }
        // Out to ECR, CloudWatch Logs and the like over the internet or NAT gateway (IPv4, as AWS CDK's allowAllOutbound).
        rules.push(
            c.make(aws.vpc.SecurityGroupEgressRule, "tasks-to-anywhere-ipv4", {
                securityGroupId: taskSecurityGroup.id,
                ipProtocol: "-1",
                cidrIpv4: "0.0.0.0/0",
            }),
        );

        let targetGroup: aws.lb.TargetGroup | undefined;
        const routed: pulumi.Resource[] = [];
        if (lb && port !== undefined) {
            targetGroup = c.make(
                aws.lb.TargetGroup,
                { child: "app", awsMaxLength: loadBalancerNameMaxLength },
                {
                    vpcId: env.vpcId,
                    targetType: "ip",
                    protocol: "HTTP",
                    protocolVersion: args.container.protocolVersion,
                    port,
                    deregistrationDelay: 15,
                    healthCheck: {
                        path: args.container.healthCheckPath,
                        matcher: "200",
                        protocol: "HTTP",
                        interval: 10,
                        timeout: 5,
                        healthyThreshold: 2,
                        unhealthyThreshold: 3,
                    },
                },
            );
            this.targetGroupArn = targetGroup.arn;
            // A routed service's rule; the service with no route is the listener's default (Environment).
            if (args.route) {
                routed.push(
                    c.make(aws.lb.ListenerRule, "route", {
                        listenerArn: lb.listenerArn,
                        priority: routePriority(name, args.route),
                        conditions: ruleConditions(args.route),
                        actions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
                    }),
                );
            }
        }

        const logGroup = c.make(aws.cloudwatch.LogGroup, "logs", { retentionInDays: args.logRetentionDays });

        const assumeByEcsTasks = aws.getCallerIdentityOutput({}, parent).accountId.apply(ecsTasksTrustPolicy);
        const bounded = args.roleBoundary ? { permissionsBoundary: args.roleBoundary.policyArn, path: args.roleBoundary.path } : {};
        // Pulls the image, writes logs and reads the task's secrets; nothing more.
        const executionRole = c.make(aws.iam.Role, "execution", { assumeRolePolicy: assumeByEcsTasks, ...bounded });
        const executionPolicies: pulumi.Resource[] = [
            c.make(aws.iam.RolePolicyAttachment, "execution", {
                role: executionRole.name,
                policyArn: aws.iam.ManagedPolicy.AmazonECSTaskExecutionRolePolicy,
            }),
        ];
        // The service's own identity: it calls no AWS API, so it gets no policy; with ECS Exec, the SSM channels only.
        const taskRole = c.make(aws.iam.Role, "task", { assumeRolePolicy: assumeByEcsTasks, ...bounded });
        const taskPolicies = args.executeCommand
            ? [c.make(aws.iam.RolePolicy, "task-execute-command", { role: taskRole.name, policy: executeCommandPolicy })]
            : [];

        // Secrets: a value the stack holds becomes a SecureString parameter of its own (encrypted with
        // the account's aws/ssm key); the task definition names each by ARN, and ECS reads it at start.
        const secrets = Object.entries(args.container.secrets).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
        const secretRefs: pulumi.Output<SecretRef>[] = [];
        const labels: Record<string, pulumi.Output<string>> = {};
        for (const [secretName, source] of secrets) {
            if ("valueFrom" in source) {
                secretRefs.push(pulumi.output(source.valueFrom).apply((valueFrom) => ({ name: secretName, valueFrom })));
                continue;
            }
            const parameter = c.make(aws.ssm.Parameter, `secret-${secretName}`, {
                type: "SecureString",
                value: pulumi.secret(source.value),
                description: `${secretName} of ${name} in ${args.project}/${args.stack}`,
            });
            secretRefs.push(parameter.arn.apply((valueFrom) => ({ name: secretName, valueFrom })));
            // ECS reads a secret when a task starts only: a new value must start new tasks.
            labels[`secret-version.${secretName}`] = parameter.version.apply(String);
        }
        const secretList = pulumi.all(secretRefs);
        if (secrets.length > 0) {
            executionPolicies.push(
                c.make(aws.iam.RolePolicy, "execution-secrets", {
                    role: executionRole.name,
                    policy: secretList.apply((refs) =>
                        secretsPolicy(
                            refs.map((r) => r.valueFrom),
                            args.secretsKmsKeyArn,
                        ),
                    ),
                }),
            );
        }

        const region = aws.getRegionOutput({}, parent).region;
        const taskDefinition = c.make(aws.ecs.TaskDefinition, "app", {
            family: args.formerNames ? taskFamily(args.project, args.stack) : taskFamily(args.project, args.stack, name),
            requiresCompatibilities: ["FARGATE"],
            networkMode: "awsvpc",
            cpu: String(args.cpu),
            memory: String(args.memory),
            runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: args.cpuArchitecture },
            executionRoleArn: executionRole.arn,
            taskRoleArn: taskRole.arn,
            containerDefinitions: pulumi
                .all([args.imageRef, logGroup.name, region, secretList, pulumi.all(labels)])
                .apply(([imageRef, logGroupName, r, secretRefs, secretLabels]) =>
                    containerDefinitions({
                        imageRef,
                        container: args.container,
                        secrets: secretRefs,
                        labels: secretLabels,
                        logGroupName,
                        region: r,
                        serviceConnect: args.kind === "internal",
                    }),
                ),
        });

        // Alarms on what the load balancer sees; a deployment that sets one off rolls back (ECS deployment alarms).
        const topicArn = args.alarms?.topicArn ?? (args.alarms?.email ? alarmTopic(c, args.alarms.email).arn : undefined);
        const actions = topicArn ? [topicArn] : [];
        const metrics = lb && targetGroup ? { loadBalancer: lb.arnSuffix, targetGroup: targetGroup.arnSuffix } : undefined;
        const traffic = args.alarms && metrics ? trafficAlarms(c, metrics, args.alarms, actions) : undefined;
        const deploymentAlarms = traffic
            ? [...(traffic.loadBalancer5xx ? [traffic.loadBalancer5xx.name] : []), traffic.target5xx.name, traffic.latency.name]
            : [];

        // Service Connect: an internal service is found by its name on its port; a caller resolves those names.
        const serviceConnect =
            env.namespaceArn && (args.kind === "internal" || args.callsInternal)
                ? {
                      enabled: true,
                      namespace: env.namespaceArn,
                      ...(args.kind === "internal" && port !== undefined
                          ? { services: [{ portName: "http", discoveryName: name, clientAlias: [{ port, dnsName: name }] }] }
                          : {}),
                      logConfiguration: {
                          logDriver: "awslogs",
                          options: { "awslogs-group": logGroup.name, "awslogs-region": region, "awslogs-stream-prefix": "service-connect" },
                      },
                  }
                : undefined;

        const capacityProvider = args.spot ? "FARGATE_SPOT" : "FARGATE";
        const service = c.make(
            aws.ecs.Service,
            "app",
            {
                cluster: env.clusterArn,
                taskDefinition: taskDefinition.arn,
                desiredCount: args.desiredCount,
                capacityProviderStrategies: [{ capacityProvider, weight: 1 }],
                // The provider refuses to change the capacity provider strategy of a live
                // service (spot on or off) unless the change also forces a new deployment.
                // terraform-aws-modules/ecs sets it by default too.
                forceNewDeployment: true,
                platformVersion: "LATEST",
                networkConfiguration: {
                    subnets: args.taskSubnetIds,
                    securityGroups: [taskSecurityGroup.id],
                    assignPublicIp: args.assignPublicIp,
                },
                ...(targetGroup && port !== undefined
                    ? {
                          loadBalancers: [{ targetGroupArn: targetGroup.arn, containerName, containerPort: port }],
                          // ECS takes a grace period only for a service behind a load balancer.
                          healthCheckGracePeriodSeconds: 30,
                      }
                    : {}),
                ...(serviceConnect ? { serviceConnectConfiguration: serviceConnect } : {}),
                ...(args.executeCommand ? { enableExecuteCommand: true } : {}),
                deploymentCircuitBreaker: { enable: true, rollback: true },
                alarms: deploymentAlarms.length > 0 ? { alarmNames: deploymentAlarms, enable: true, rollback: true } : deploymentAlarmsOff,
                deploymentMinimumHealthyPercent: 100,
                deploymentMaximumPercent: 200,
                propagateTags: "SERVICE",
                enableEcsManagedTags: true,
                waitForSteadyState: true,
            },
            {
                // Tasks start once the load balancer routes to them, and once they may pull the image,
                // write logs and read their secrets.
                dependsOn: [...env.ready, ...(lb ? lb.listeners : []), ...routed, ...rules, ...executionPolicies, ...taskPolicies],
                // desiredCount is what a new service starts with; from then on autoscaling
                // owns it, and an update must not reset it (terraform-aws-modules/ecs:
                // ignore_changes = [desired_count]).
                ignoreChanges: ["desiredCount"],
            },
        );

        const scaling = c.make(aws.appautoscaling.Target, "app", {
            serviceNamespace: "ecs",
            scalableDimension: "ecs:service:DesiredCount",
            resourceId: pulumi.interpolate`service/${env.clusterName}/${service.name}`,
            minCapacity: args.minCount,
            maxCapacity: args.maxCount,
        });
        const targetTracking = (policyName: string, spec: aws.types.input.appautoscaling.PolicyTargetTrackingScalingPolicyConfiguration) =>
            c.make(aws.appautoscaling.Policy, policyName, {
                policyType: "TargetTrackingScaling",
                serviceNamespace: scaling.serviceNamespace,
                scalableDimension: scaling.scalableDimension,
                resourceId: scaling.resourceId,
                targetTrackingScalingPolicyConfiguration: spec,
            });
        targetTracking("cpu", {
            targetValue: cpuTargetPercent,
            predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
            scaleInCooldown: 120,
            scaleOutCooldown: 60,
        });
        // Requests per task, where the load balancer counts them; an internal service or a worker scales on CPU alone.
        if (lb && targetGroup) {
            targetTracking("requests", {
                targetValue: requestsPerTargetTarget,
                predefinedMetricSpecification: {
                    predefinedMetricType: "ALBRequestCountPerTarget",
                    resourceLabel: pulumi.interpolate`${lb.arnSuffix}/${targetGroup.arnSuffix}`,
                },
                scaleInCooldown: 120,
                scaleOutCooldown: 60,
            });
        }

        const tasks = args.alarms
            ? taskAlarms(c, { clusterName: env.clusterName, serviceName: service.name }, args.alarms, actions)
            : undefined;
        for (const [what, alarm] of Object.entries({ ...traffic, ...tasks })) if (alarm) this.alarmNames[what] = alarm.name;

        // The figures the alarms watch, on one page.
        const dashboard = c.make(aws.cloudwatch.Dashboard, "dashboard", {
            dashboardName: dashboardName(args.project, args.stack, name),
            dashboardBody: pulumi
                .all([region, lb?.arnSuffix, targetGroup?.arnSuffix, env.clusterName, service.name])
                .apply(([r, lbSuffix, tg, clusterName, serviceName]) =>
                    dashboardBody({
                        region: r,
                        loadBalancer: lbSuffix,
                        targetGroup: tg,
                        clusterName,
                        serviceName,
                        thresholds: args.alarms,
                    }),
                ),
        });
        this.dashboardUrl = pulumi.all([region, dashboard.dashboardName]).apply(([r, n]) => dashboardUrl(r, n));

        this.clusterName = env.clusterName;
        this.serviceName = service.name;
        this.logGroupName = logGroup.name;
        this.taskDefinitionArn = taskDefinition.arn;
        this.registerOutputs({
            clusterName: this.clusterName,
            serviceName: this.serviceName,
            logGroupName: this.logGroupName,
            dashboardUrl: this.dashboardUrl,
        });
    }

    /** Lets a caller's tasks reach this internal service's port (its tasks' security group rule, named after the caller). */
    allowCallsFrom(caller: string, callerTasks: pulumi.Input<string>): void {
        if (this.port === undefined) throw new Error(`allowCallsFrom(${caller}): the service has no port`);
        this.children.make(aws.vpc.SecurityGroupIngressRule, `tasks-from-${caller}`, {
            securityGroupId: this.taskSecurityGroupId,
            description: `From ${caller}'s tasks`,
            ipProtocol: "tcp",
            fromPort: this.port,
            toPort: this.port,
            referencedSecurityGroupId: callerTasks,
        });
    }
}

/** Why a service of a kind cannot run so, one line each (none: it can). */
export function kindProblems(a: { kind: ServiceKind; route?: Route; container: Container }): string[] {
    const c = a.container;
    const problems: string[] = [];
    if (a.kind === "worker") {
        if (c.port !== undefined)
            problems.push(`container.port: a worker has no port (nothing reaches it); make it internal or public to serve one`);
        if (c.healthCheckPath !== undefined)
            problems.push(
                `container.healthCheckPath: a worker has no load balancer to ask it; its container's own check (healthCheckCommand) is its health`,
            );
        if (!c.healthCheckCommand)
            problems.push(
                `container.healthCheckCommand: a worker's health is its container's own check, such as ["CMD", "/app", "healthcheck"]`,
            );
    } else {
        if (c.port === undefined)
            problems.push(`container.port: a${a.kind === "internal" ? "n internal" : " public"} service listens on one`);
        if (a.kind === "public" && c.healthCheckPath === undefined)
            problems.push(`container.healthCheckPath: the load balancer's health check asks a public service for it`);
    }
    if (a.kind !== "public" && a.route !== undefined)
        problems.push(
            `route: only a public service has one (a${a.kind === "worker" ? " worker" : "n internal service"} is not on the load balancer)`,
        );
    if (a.route) problems.push(...routeProblems(a.route));
    return problems;
}
