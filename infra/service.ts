// A Fargate web service behind an Application Load Balancer: security groups,
// load balancer, target group and listeners, ECS cluster, logs, IAM roles,
// secrets, task definition, service and autoscaling. What runs in it is an
// argument (Container); every child is named from the component's name.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import type { CpuArchitecture } from "./config";
import { AlarmArgs, alarmTopic, dashboardBody, dashboardName, dashboardUrl, taskAlarms, trafficAlarms } from "./alarms";
import { Children, NamingArgs, awsSafeName, serviceNameProblems } from "./naming";

export interface WebServiceArgs extends NamingArgs {
    /** Used in the task definition's family, which ECS needs named. */
    project: string;
    stack: string;
    vpcId: pulumi.Input<string>;
    /** Public subnets, two zones or more. */
    loadBalancerSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
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
    /** The service's own name: HTTPS on it with this (validated) certificate, and an alias record in the zone. */
    domain?: { name: string; zoneId: pulumi.Input<string>; certificateArn: pulumi.Input<string> };
    /** Where the load balancer writes its access logs; `ready` is the bucket policy that lets it. */
    accessLogs?: { bucket: pulumi.Input<string>; prefix: string; ready: pulumi.Resource };
    logRetentionDays: number;
    containerInsights: boolean;
    /** Alarms on the service (and a deployment that sets off a 5xx or latency one rolls back); none: no alarms. */
    alarms?: AlarmArgs;
}

/**
 * The container's contract: what the image's service does, as the task definition and the load
 * balancer must know it. README.md ("Bring your own service") says what a service must do.
 */
export interface Container {
    /** The port it listens on; the task sets PORT to it. 1024 or above: it runs as a non-root user. */
    port: number;
    /** What the load balancer asks for; a 200 is healthy. */
    healthCheckPath: string;
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
/** How long the load balancer keeps an idle connection to a client or a task. A service's keep-alive must outlast it (README). */
export const loadBalancerIdleTimeoutSeconds = 60;
/** Autoscaling targets. */
export const cpuTargetPercent = 60;
export const requestsPerTargetTarget = 1000;

/** A secret as the task definition names it: a name and the ARN ECS reads it from. */
export interface SecretRef {
    name: string;
    valueFrom: string;
}

/** The container definition, as ECS takes it in the task definition. */
export function containerDefinitions(a: {
    imageRef: string;
    container: Container;
    secrets: SecretRef[];
    /** Labels that change when a secret's stored value does, so that a new value starts new tasks. */
    labels: Record<string, string>;
    logGroupName: string;
    region: string;
}): string {
    const c = a.container;
    const environment = Object.entries({ ...c.environment, PORT: String(c.port) })
        .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
        .map(([name, value]) => ({ name, value }));
    return JSON.stringify([
        {
            name: containerName,
            image: a.imageRef,
            essential: true,
            ...(c.command ? { command: c.command } : {}),
            portMappings: [{ name: "http", containerPort: c.port, hostPort: c.port, protocol: "tcp" }],
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

/**
 * A load balancer's and a target group's name: at most 32 characters (Elastic Load Balancing API
 * Reference, CreateLoadBalancer and CreateTargetGroup, "Name"); the provider auto-names both under
 * that cap, and a logical name too long for it fails the preview.
 */
export const loadBalancerNameMaxLength = 32;

/** Why a container contract cannot run, one line each (none: it can). */
export function containerProblems(c: Container): string[] {
    const problems: string[] = [];
    if (!Number.isInteger(c.port) || c.port < 1024 || c.port > 65535) {
        problems.push(`port ${c.port}: a TCP port from 1024 to 65535 (a non-root user cannot bind a lower one)`);
    }
    if (!c.healthCheckPath.startsWith("/")) problems.push(`healthCheckPath ${JSON.stringify(c.healthCheckPath)}: a path, starting with /`);
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

export class WebService extends pulumi.ComponentResource {
    readonly url: pulumi.Output<string>;
    readonly loadBalancerDnsName: pulumi.Output<string>;
    readonly clusterName: pulumi.Output<string>;
    readonly serviceName: pulumi.Output<string>;
    readonly logGroupName: pulumi.Output<string>;
    readonly taskDefinitionArn: pulumi.Output<string>;
    readonly dashboardUrl: pulumi.Output<string>;
    /** The alarms' names, by what they watch (none without alarms). */
    readonly alarmNames: Record<string, pulumi.Output<string>> = {};

    constructor(name: string, args: WebServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("calculator:index:WebService", name, {}, opts);
        const problems = [...serviceNameProblems(name), ...containerProblems(args.container)];
        if (problems.length > 0) throw new Error(`WebService ${name}: the container cannot run:\n  - ${problems.join("\n  - ")}`);
        const c = new Children(this, name, args.formerNames);
        const parent = { parent: this };
        const https = args.domain !== undefined;
        const port = args.container.port;

        // Network access: the world reaches the load balancer; the load balancer reaches
        // only the tasks, and only the load balancer reaches them. The rules are resources
        // of their own (as terraform-aws-modules/alb and AWS CDK make them): the two groups
        // name each other, which inline rules cannot express without a cycle.
        const lbSecurityGroup = c.make(aws.ec2.SecurityGroup, "load-balancer", {
            vpcId: args.vpcId,
            description: "Load balancer: HTTP(S) from anywhere, out to the tasks only",
        });
        const taskSecurityGroup = c.make(aws.ec2.SecurityGroup, "tasks", {
            vpcId: args.vpcId,
            description: "Tasks: the container port from the load balancer only",
        });
        const rules: pulumi.Resource[] = [];
        const ingress = (rule: string, a: aws.vpc.SecurityGroupIngressRuleArgs) =>
            rules.push(c.make(aws.vpc.SecurityGroupIngressRule, rule, a));
        const egress = (rule: string, a: aws.vpc.SecurityGroupEgressRuleArgs) =>
            rules.push(c.make(aws.vpc.SecurityGroupEgressRule, rule, a));
        // IPv4 only: the load balancer has no IPv6 address (ipAddressType "ipv4"; the default VPC has no
        // IPv6 range), so "::/0" rules would open nothing (AWS CDK adds none unless the load balancer is dual-stack).
        const publicPorts: Record<string, number> = https ? { http: 80, https: 443 } : { http: 80 };
        for (const [portName, publicPort] of Object.entries(publicPorts)) {
            ingress(`load-balancer-${portName}-ipv4`, {
                securityGroupId: lbSecurityGroup.id,
                description: `${portName.toUpperCase()} from anywhere`,
                ipProtocol: "tcp",
                fromPort: publicPort,
                toPort: publicPort,
                cidrIpv4: "0.0.0.0/0",
            });
        }
        egress("load-balancer-to-tasks", {
            securityGroupId: lbSecurityGroup.id,
            description: "To the tasks' container port (traffic and health checks)",
            ipProtocol: "tcp",
            fromPort: port,
            toPort: port,
            referencedSecurityGroupId: taskSecurityGroup.id,
        });
        ingress("tasks-from-load-balancer", {
            securityGroupId: taskSecurityGroup.id,
            description: "From the load balancer",
            ipProtocol: "tcp",
            fromPort: port,
            toPort: port,
            referencedSecurityGroupId: lbSecurityGroup.id,
        });
        // Out to ECR, CloudWatch Logs and the like over the internet or NAT gateway (IPv4, as AWS CDK's allowAllOutbound).
        egress("tasks-to-anywhere-ipv4", { securityGroupId: taskSecurityGroup.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });

        const loadBalancer = c.make(
            aws.lb.LoadBalancer,
            { child: "lb", awsMaxLength: loadBalancerNameMaxLength },
            {
                loadBalancerType: "application",
                internal: false,
                ipAddressType: "ipv4",
                securityGroups: [lbSecurityGroup.id],
                subnets: args.loadBalancerSubnetIds,
                enableDeletionProtection: false,
                dropInvalidHeaderFields: true,
                idleTimeout: loadBalancerIdleTimeoutSeconds,
                accessLogs: args.accessLogs ? { bucket: args.accessLogs.bucket, prefix: args.accessLogs.prefix, enabled: true } : undefined,
            },
            {
                // The load balancer checks that it may write to the bucket when logging is turned on.
                dependsOn: args.accessLogs ? [args.accessLogs.ready] : [],
                // AWS takes subnets and security groups of the load balancer's own VPC only, and the
                // provider changes both in place (pulumi/pulumi-aws#1382): a new VPC needs a new load
                // balancer, made before the old one goes (Terraform's replace_triggered_by does the same).
                replacementTrigger: args.vpcId,
            },
        );
        const targetGroup = c.make(
            aws.lb.TargetGroup,
            { child: "app", awsMaxLength: loadBalancerNameMaxLength },
            {
                vpcId: args.vpcId,
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
        const forward = [{ type: "forward", targetGroupArn: targetGroup.arn }];
        // The HTTPS listener waits for the certificate's DNS validation (minutes); HTTP turns into a
        // redirect to it only once it serves, so that turning the domain on never sends users nowhere.
        const httpsListener = args.domain
            ? c.make(aws.lb.Listener, "https", {
                  loadBalancerArn: loadBalancer.arn,
                  port: 443,
                  protocol: "HTTPS",
                  certificateArn: args.domain.certificateArn,
                  sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
                  defaultActions: forward,
              })
            : undefined;
        const httpListener = c.make(
            aws.lb.Listener,
            "http",
            {
                loadBalancerArn: loadBalancer.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: https
                    ? [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]
                    : forward,
            },
            { dependsOn: httpsListener ? [httpsListener] : [] },
        );
        const listeners = httpsListener ? [httpListener, httpsListener] : [httpListener];

        const cluster = c.make(aws.ecs.Cluster, "cluster", {
            settings: [{ name: "containerInsights", value: args.containerInsights ? "enabled" : "disabled" }],
        });
        const capacityProvider = args.spot ? "FARGATE_SPOT" : "FARGATE";
        const capacityProviders = c.make(aws.ecs.ClusterCapacityProviders, "capacity", {
            clusterName: cluster.name,
            capacityProviders: ["FARGATE", "FARGATE_SPOT"],
            defaultCapacityProviderStrategies: [{ capacityProvider, weight: 1 }],
        });
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
        // The service's own identity: it calls no AWS API, so it gets no policy.
        const taskRole = c.make(aws.iam.Role, "task", { assumeRolePolicy: assumeByEcsTasks, ...bounded });

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
                    }),
                ),
        });

        // Alarms on what the load balancer sees; a deployment that sets one off rolls back (ECS deployment alarms).
        const topicArn = args.alarms?.topicArn ?? (args.alarms?.email ? alarmTopic(c, args.alarms.email).arn : undefined);
        const actions = topicArn ? [topicArn] : [];
        const metrics = { loadBalancer: loadBalancer.arnSuffix, targetGroup: targetGroup.arnSuffix };
        const traffic = args.alarms ? trafficAlarms(c, metrics, args.alarms, actions) : undefined;

        const service = c.make(
            aws.ecs.Service,
            "app",
            {
                cluster: cluster.arn,
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
                loadBalancers: [{ targetGroupArn: targetGroup.arn, containerName, containerPort: port }],
                healthCheckGracePeriodSeconds: 30,
                deploymentCircuitBreaker: { enable: true, rollback: true },
                alarms: traffic
                    ? {
                          alarmNames: [traffic.loadBalancer5xx.name, traffic.target5xx.name, traffic.latency.name],
                          enable: true,
                          rollback: true,
                      }
                    : deploymentAlarmsOff,
                deploymentMinimumHealthyPercent: 100,
                deploymentMaximumPercent: 200,
                propagateTags: "SERVICE",
                enableEcsManagedTags: true,
                waitForSteadyState: true,
            },
            {
                // Tasks start only once they may pull the image, write logs and read their secrets.
                dependsOn: [...listeners, ...rules, capacityProviders, ...executionPolicies],
                // desiredCount is what a new service starts with; from then on autoscaling
                // owns it, and an update must not reset it (terraform-aws-modules/ecs:
                // ignore_changes = [desired_count]).
                ignoreChanges: ["desiredCount"],
            },
        );

        const scaling = c.make(aws.appautoscaling.Target, "app", {
            serviceNamespace: "ecs",
            scalableDimension: "ecs:service:DesiredCount",
            resourceId: pulumi.interpolate`service/${cluster.name}/${service.name}`,
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
        targetTracking("requests", {
            targetValue: requestsPerTargetTarget,
            predefinedMetricSpecification: {
                predefinedMetricType: "ALBRequestCountPerTarget",
                resourceLabel: pulumi.interpolate`${loadBalancer.arnSuffix}/${targetGroup.arnSuffix}`,
            },
            scaleInCooldown: 120,
            scaleOutCooldown: 60,
        });

        const tasks = args.alarms
            ? taskAlarms(c, { clusterName: cluster.name, serviceName: service.name }, args.alarms, actions)
            : undefined;
        for (const [what, alarm] of Object.entries({ ...traffic, ...tasks })) this.alarmNames[what] = alarm.name;

        // The figures the alarms watch, on one page.
        const dashboard = c.make(aws.cloudwatch.Dashboard, "dashboard", {
            dashboardName: dashboardName(args.project, args.stack, name),
            dashboardBody: pulumi
                .all([region, loadBalancer.arnSuffix, targetGroup.arnSuffix, cluster.name, service.name])
                .apply(([r, lb, tg, clusterName, serviceName]) =>
                    dashboardBody({
                        region: r,
                        loadBalancer: lb,
                        targetGroup: tg,
                        clusterName,
                        serviceName,
                        thresholds: args.alarms,
                    }),
                ),
        });
        this.dashboardUrl = pulumi.all([region, dashboard.dashboardName]).apply(([r, n]) => dashboardUrl(r, n));

        this.loadBalancerDnsName = loadBalancer.dnsName;
        if (args.domain) {
            c.make(aws.route53.Record, "alias", {
                zoneId: args.domain.zoneId,
                name: args.domain.name,
                type: "A",
                aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: true }],
            });
        }

        this.url = args.domain ? pulumi.output(`https://${args.domain.name}`) : pulumi.interpolate`http://${loadBalancer.dnsName}`;
        this.clusterName = cluster.name;
        this.serviceName = service.name;
        this.logGroupName = logGroup.name;
        this.taskDefinitionArn = taskDefinition.arn;
        this.registerOutputs({
            url: this.url,
            clusterName: this.clusterName,
            serviceName: this.serviceName,
            logGroupName: this.logGroupName,
            dashboardUrl: this.dashboardUrl,
        });
    }
}
