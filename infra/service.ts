// A Fargate web service behind an Application Load Balancer: security groups,
// load balancer, target group and listeners, ECS cluster, logs, IAM roles,
// task definition, service and autoscaling.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

import { CpuArchitecture } from "./config";

export interface WebServiceArgs {
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
    containerPort: number;
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
}

/** The container's name in the task definition, the target of the load balancer. */
export const containerName = "app";
/** What the load balancer and the container health check probe. */
export const healthCheckPath = "/healthz";
/** How long the service may take to drain on SIGTERM (its SHUTDOWN_TIMEOUT). */
export const shutdownTimeoutSeconds = 20;
/** ECS waits this long after SIGTERM before SIGKILL: above the drain time. */
export const stopTimeoutSeconds = 30;
/** How long the load balancer keeps an idle connection to a client or a task. */
export const loadBalancerIdleTimeoutSeconds = 60;
/**
 * How long the service keeps an idle keep-alive connection (its IDLE_TIMEOUT).
 * It must outlast the load balancer's, or the load balancer may send a request
 * on a connection the task is closing and answer 502 (AWS: "Connection idle timeout").
 */
export const targetIdleTimeoutSeconds = loadBalancerIdleTimeoutSeconds + 5;
/** The user the image declares (nonroot); ECS enforces it too. */
export const runAsUser = "65532:65532";
/** Autoscaling targets. */
export const cpuTargetPercent = 60;
export const requestsPerTargetTarget = 1000;

/** The container definition, as ECS takes it in the task definition. */
export function containerDefinitions(a: { imageRef: string; containerPort: number; logGroupName: string; region: string }): string {
    return JSON.stringify([
        {
            name: containerName,
            image: a.imageRef,
            essential: true,
            portMappings: [{ name: "http", containerPort: a.containerPort, hostPort: a.containerPort, protocol: "tcp" }],
            environment: [
                { name: "PORT", value: String(a.containerPort) },
                { name: "LOG_LEVEL", value: "info" },
                { name: "SHUTDOWN_TIMEOUT", value: `${shutdownTimeoutSeconds}s` },
                { name: "IDLE_TIMEOUT", value: `${targetIdleTimeoutSeconds}s` },
            ],
            user: runAsUser,
            readonlyRootFilesystem: true,
            healthCheck: {
                command: ["CMD", "/app", "healthcheck"],
                interval: 10,
                timeout: 3,
                retries: 3,
                startPeriod: 5,
            },
            stopTimeout: stopTimeoutSeconds,
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
 * The task definition's family. ECS takes letters, digits, "-" and "_" (up to
 * 255); Pulumi stack names may also hold ".". Another character becomes "-",
 * and a short hash of the name then keeps "a.b" and "a-b" apart.
 */
export function taskFamily(project: string, stack: string): string {
    const name = `${project}-${stack}`;
    const safe = name.replace(/[^A-Za-z0-9_-]/g, "-");
    if (safe === name && name.length <= 255) return name;
    return `${safe.slice(0, 247)}-${createHash("sha256").update(name).digest("hex").slice(0, 7)}`;
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

    constructor(name: string, args: WebServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("calculator:index:WebService", name, {}, opts);
        const parent = { parent: this };
        const https = args.domain !== undefined;

        // Network access: the world reaches the load balancer; the load balancer reaches
        // only the tasks, and only the load balancer reaches them. The rules are resources
        // of their own (as terraform-aws-modules/alb and AWS CDK make them): the two groups
        // name each other, which inline rules cannot express without a cycle.
        const lbSecurityGroup = new aws.ec2.SecurityGroup(
            "load-balancer",
            { vpcId: args.vpcId, description: "Load balancer: HTTP(S) from anywhere, out to the tasks only" },
            parent,
        );
        const taskSecurityGroup = new aws.ec2.SecurityGroup(
            "tasks",
            { vpcId: args.vpcId, description: "Tasks: the container port from the load balancer only" },
            parent,
        );
        const rules: pulumi.Resource[] = [];
        const ingress = (name: string, a: aws.vpc.SecurityGroupIngressRuleArgs) =>
            rules.push(new aws.vpc.SecurityGroupIngressRule(name, a, parent));
        const egress = (name: string, a: aws.vpc.SecurityGroupEgressRuleArgs) =>
            rules.push(new aws.vpc.SecurityGroupEgressRule(name, a, parent));
        // IPv4 only: the load balancer has no IPv6 address (ipAddressType "ipv4"; the default VPC has no
        // IPv6 range), so "::/0" rules would open nothing (AWS CDK adds none unless the load balancer is dual-stack).
        const publicPorts: Record<string, number> = https ? { http: 80, https: 443 } : { http: 80 };
        for (const [portName, port] of Object.entries(publicPorts)) {
            ingress(`load-balancer-${portName}-ipv4`, {
                securityGroupId: lbSecurityGroup.id,
                description: `${portName.toUpperCase()} from anywhere`,
                ipProtocol: "tcp",
                fromPort: port,
                toPort: port,
                cidrIpv4: "0.0.0.0/0",
            });
        }
        egress("load-balancer-to-tasks", {
            securityGroupId: lbSecurityGroup.id,
            description: "To the tasks' container port (traffic and health checks)",
            ipProtocol: "tcp",
            fromPort: args.containerPort,
            toPort: args.containerPort,
            referencedSecurityGroupId: taskSecurityGroup.id,
        });
        ingress("tasks-from-load-balancer", {
            securityGroupId: taskSecurityGroup.id,
            description: "From the load balancer",
            ipProtocol: "tcp",
            fromPort: args.containerPort,
            toPort: args.containerPort,
            referencedSecurityGroupId: lbSecurityGroup.id,
        });
        // Out to ECR, CloudWatch Logs and the like over the internet or NAT gateway (IPv4, as AWS CDK's allowAllOutbound).
        egress("tasks-to-anywhere-ipv4", { securityGroupId: taskSecurityGroup.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });

        const loadBalancer = new aws.lb.LoadBalancer(
            "lb",
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
                parent: this,
                // The load balancer checks that it may write to the bucket when logging is turned on.
                dependsOn: args.accessLogs ? [args.accessLogs.ready] : [],
                // AWS takes subnets and security groups of the load balancer's own VPC only, and the
                // provider changes both in place (pulumi/pulumi-aws#1382): a new VPC needs a new load
                // balancer, made before the old one goes (Terraform's replace_triggered_by does the same).
                replacementTrigger: args.vpcId,
            },
        );
        const targetGroup = new aws.lb.TargetGroup(
            "app",
            {
                vpcId: args.vpcId,
                targetType: "ip",
                protocol: "HTTP",
                // HTTP/1.1 to the tasks: the service is built without net/http's HTTP/2.
                protocolVersion: "HTTP1",
                port: args.containerPort,
                deregistrationDelay: 15,
                healthCheck: {
                    path: healthCheckPath,
                    matcher: "200",
                    protocol: "HTTP",
                    interval: 10,
                    timeout: 5,
                    healthyThreshold: 2,
                    unhealthyThreshold: 3,
                },
            },
            parent,
        );
        const forward = [{ type: "forward", targetGroupArn: targetGroup.arn }];
        // The HTTPS listener waits for the certificate's DNS validation (minutes); HTTP turns into a
        // redirect to it only once it serves, so that turning the domain on never sends users nowhere.
        const httpsListener = https
            ? new aws.lb.Listener(
                  "https",
                  {
                      loadBalancerArn: loadBalancer.arn,
                      port: 443,
                      protocol: "HTTPS",
                      certificateArn: args.domain!.certificateArn,
                      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
                      defaultActions: forward,
                  },
                  parent,
              )
            : undefined;
        const httpListener = new aws.lb.Listener(
            "http",
            {
                loadBalancerArn: loadBalancer.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: https
                    ? [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]
                    : forward,
            },
            { parent: this, dependsOn: httpsListener ? [httpsListener] : [] },
        );
        const listeners = httpsListener ? [httpListener, httpsListener] : [httpListener];

        const cluster = new aws.ecs.Cluster(
            "cluster",
            { settings: [{ name: "containerInsights", value: args.containerInsights ? "enabled" : "disabled" }] },
            parent,
        );
        const capacityProvider = args.spot ? "FARGATE_SPOT" : "FARGATE";
        const capacityProviders = new aws.ecs.ClusterCapacityProviders(
            "capacity",
            {
                clusterName: cluster.name,
                capacityProviders: ["FARGATE", "FARGATE_SPOT"],
                defaultCapacityProviderStrategies: [{ capacityProvider, weight: 1 }],
            },
            parent,
        );
        const logGroup = new aws.cloudwatch.LogGroup("logs", { retentionInDays: args.logRetentionDays }, parent);

        const assumeByEcsTasks = aws.getCallerIdentityOutput({}, parent).accountId.apply(ecsTasksTrustPolicy);
        // Pulls the image and writes logs; nothing more.
        const executionRole = new aws.iam.Role("execution", { assumeRolePolicy: assumeByEcsTasks }, parent);
        const executionPolicy = new aws.iam.RolePolicyAttachment(
            "execution",
            { role: executionRole.name, policyArn: aws.iam.ManagedPolicy.AmazonECSTaskExecutionRolePolicy },
            parent,
        );
        // The service's own identity: it calls no AWS API, so it gets no policy.
        const taskRole = new aws.iam.Role("task", { assumeRolePolicy: assumeByEcsTasks }, parent);

        const region = aws.getRegionOutput({}, parent).region;
        const taskDefinition = new aws.ecs.TaskDefinition(
            "app",
            {
                family: taskFamily(args.project, args.stack),
                requiresCompatibilities: ["FARGATE"],
                networkMode: "awsvpc",
                cpu: String(args.cpu),
                memory: String(args.memory),
                runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: args.cpuArchitecture },
                executionRoleArn: executionRole.arn,
                taskRoleArn: taskRole.arn,
                containerDefinitions: pulumi
                    .all([args.imageRef, logGroup.name, region])
                    .apply(([imageRef, logGroupName, r]) =>
                        containerDefinitions({ imageRef, containerPort: args.containerPort, logGroupName, region: r }),
                    ),
            },
            parent,
        );

        const service = new aws.ecs.Service(
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
                loadBalancers: [{ targetGroupArn: targetGroup.arn, containerName, containerPort: args.containerPort }],
                healthCheckGracePeriodSeconds: 30,
                deploymentCircuitBreaker: { enable: true, rollback: true },
                deploymentMinimumHealthyPercent: 100,
                deploymentMaximumPercent: 200,
                propagateTags: "SERVICE",
                enableEcsManagedTags: true,
                waitForSteadyState: true,
            },
            {
                parent: this,
                // Tasks start only once they may pull the image and write logs (the role's policy attached).
                dependsOn: [...listeners, ...rules, capacityProviders, executionPolicy],
                // desiredCount is what a new service starts with; from then on autoscaling
                // owns it, and an update must not reset it (terraform-aws-modules/ecs:
                // ignore_changes = [desired_count]).
                ignoreChanges: ["desiredCount"],
            },
        );

        const scaling = new aws.appautoscaling.Target(
            "app",
            {
                serviceNamespace: "ecs",
                scalableDimension: "ecs:service:DesiredCount",
                resourceId: pulumi.interpolate`service/${cluster.name}/${service.name}`,
                minCapacity: args.minCount,
                maxCapacity: args.maxCount,
            },
            parent,
        );
        const targetTracking = (policyName: string, spec: aws.types.input.appautoscaling.PolicyTargetTrackingScalingPolicyConfiguration) =>
            new aws.appautoscaling.Policy(
                policyName,
                {
                    policyType: "TargetTrackingScaling",
                    serviceNamespace: scaling.serviceNamespace,
                    scalableDimension: scaling.scalableDimension,
                    resourceId: scaling.resourceId,
                    targetTrackingScalingPolicyConfiguration: spec,
                },
                parent,
            );
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

        this.loadBalancerDnsName = loadBalancer.dnsName;
        if (args.domain) {
            new aws.route53.Record(
                "alias",
                {
                    zoneId: args.domain.zoneId,
                    name: args.domain.name,
                    type: "A",
                    aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: true }],
                },
                parent,
            );
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
        });
    }
}
