// What a stack's services share: one ECS cluster, and, when a service is
// public, one Application Load Balancer with its security group, listeners and
// the domain's alias record; when a service is internal, the Service Connect
// namespace its callers find it in. Each service (infra/service.ts) brings its
// own target group, listener rule, tasks and roles.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { Children, NamingArgs, componentAliases } from "./naming";
import { loadBalancerIdleTimeoutSeconds, loadBalancerNameMaxLength } from "./routing";

export interface EnvironmentArgs extends NamingArgs {
    vpcId: pulumi.Input<string>;
    /** Public subnets, two zones or more. */
    loadBalancerSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Whether any service is public: without one, no load balancer is made. */
    loadBalancer: boolean;
    /** Whether any service is internal: its callers find it through a Service Connect namespace. */
    serviceConnect: boolean;
    /** The services' own name: HTTPS on it with this (validated) certificate, and an alias record in the zone. */
    domain?: { name: string; zoneId: pulumi.Input<string>; certificateArn: pulumi.Input<string> };
    /** Where the load balancer writes its access logs; `ready` is the bucket policy that lets it. */
    accessLogs?: { bucket: pulumi.Input<string>; prefix: string; ready: pulumi.Resource };
    containerInsights: boolean;
}

/** What a service takes of its environment. */
export interface ServiceEnvironment {
    vpcId: pulumi.Input<string>;
    clusterArn: pulumi.Output<string>;
    clusterName: pulumi.Output<string>;
    /** What every service's tasks wait for (the cluster's capacity providers). */
    ready: pulumi.Resource[];
    /** The load balancer, for the public services. */
    loadBalancer?: {
        arnSuffix: pulumi.Output<string>;
        securityGroupId: pulumi.Output<string>;
        /** The listener that forwards (HTTPS with a domain, else HTTP): the services' rules go on it. */
        listenerArn: pulumi.Output<string>;
        /** What a service's tasks must wait for: the listeners that route to it. */
        listeners: pulumi.Resource[];
    };
    /** The Service Connect namespace, with an internal service. */
    namespaceArn?: pulumi.Output<string>;
}

/** The name a stack gives its environment, and the network, domain and access logs it shares. */
export const sharedName = "shared";

/** The listener's answer to a request no service's route takes. */
export const noRouteResponse = {
    contentType: "application/json",
    messageBody: JSON.stringify({ error: "no service of this stack serves this path" }),
    statusCode: "404",
};

export class Environment extends pulumi.ComponentResource {
    readonly services: ServiceEnvironment;
    /** http(s)://<the domain or the load balancer's name>, with a public service. */
    readonly url?: pulumi.Output<string>;
    loadBalancerDnsName?: pulumi.Output<string>;
    readonly clusterName: pulumi.Output<string>;
    private resolveDefaultTarget?: (arn: pulumi.Output<string | undefined>) => void;

    constructor(name: string, args: EnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("calculator:index:Environment", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), ...componentAliases(args)] });
        const c = new Children(this, name, args);

        const namespace = args.serviceConnect
            ? c.make(aws.servicediscovery.HttpNamespace, "services", {
                  description: "Where the stack's services find its internal ones (ECS Service Connect)",
              })
            : undefined;
        const cluster = c.make(aws.ecs.Cluster, "cluster", {
            settings: [{ name: "containerInsights", value: args.containerInsights ? "enabled" : "disabled" }],
            ...(namespace ? { serviceConnectDefaults: { namespace: namespace.arn } } : {}),
        });
        // Each service names its own capacity provider (spot or not); the cluster offers both.
        const capacityProviders = c.make(aws.ecs.ClusterCapacityProviders, "capacity", {
            clusterName: cluster.name,
            capacityProviders: ["FARGATE", "FARGATE_SPOT"],
            defaultCapacityProviderStrategies: [{ capacityProvider: "FARGATE", weight: 1 }],
        });
        this.clusterName = cluster.name;
        this.services = {
            vpcId: args.vpcId,
            clusterArn: cluster.arn,
            clusterName: cluster.name,
            ready: [capacityProviders],
            namespaceArn: namespace?.arn,
            loadBalancer: args.loadBalancer ? this.makeLoadBalancer(c, args) : undefined,
        };
        this.url = this.services.loadBalancer
            ? args.domain
                ? pulumi.output(`https://${args.domain.name}`)
                : pulumi.interpolate`http://${this.loadBalancerDnsName}`
            : undefined;
        this.registerOutputs({ clusterName: this.clusterName, url: this.url });
    }

    /**
     * The target group a request no rule takes goes to (the public service routed at every path),
     * or none: a 404. Called once, after the services are made: the listener waits for it.
     */
    setDefaultTarget(targetGroupArn: pulumi.Output<string> | undefined): void {
        if (!this.resolveDefaultTarget) return;
        this.resolveDefaultTarget(targetGroupArn ?? pulumi.output(undefined));
        this.resolveDefaultTarget = undefined;
    }

    private makeLoadBalancer(c: Children, args: EnvironmentArgs): NonNullable<ServiceEnvironment["loadBalancer"]> {
        const https = args.domain !== undefined;
        // The world reaches the load balancer; each service lets it reach its own tasks only (its rules).
        const securityGroup = c.make(aws.ec2.SecurityGroup, "load-balancer", {
            vpcId: args.vpcId,
            description: "Load balancer: HTTP(S) from anywhere, out to the tasks only",
        });
        // IPv4 only: the load balancer has no IPv6 address (ipAddressType "ipv4"; the default VPC has no
        // IPv6 range), so "::/0" rules would open nothing (AWS CDK adds none unless the load balancer is dual-stack).
        const publicPorts: Record<string, number> = https ? { http: 80, https: 443 } : { http: 80 };
        const rules = Object.entries(publicPorts).map(([portName, publicPort]) =>
            c.make(aws.vpc.SecurityGroupIngressRule, `load-balancer-${portName}-ipv4`, {
                securityGroupId: securityGroup.id,
                description: `${portName.toUpperCase()} from anywhere`,
                ipProtocol: "tcp",
                fromPort: publicPort,
                toPort: publicPort,
                cidrIpv4: "0.0.0.0/0",
            }),
        );
        const loadBalancer = c.make(
            aws.lb.LoadBalancer,
            { child: "lb", awsMaxLength: loadBalancerNameMaxLength },
            {
                loadBalancerType: "application",
                internal: false,
                ipAddressType: "ipv4",
                securityGroups: [securityGroup.id],
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
        this.loadBalancerDnsName = loadBalancer.dnsName;

        // The default action forwards to the service routed at every path, which is made after this
        // component: the listener takes its target group's ARN when the stack hands it over (a
        // deferred output carries the target group as a dependency, so it is deleted after the listener).
        const [defaultTarget, resolve] = pulumi.deferredOutput<string | undefined>();
        this.resolveDefaultTarget = resolve;
        const defaultActions = defaultTarget.apply((arn) =>
            arn ? [{ type: "forward", targetGroupArn: arn }] : [{ type: "fixed-response", fixedResponse: noRouteResponse }],
        );
        // The HTTPS listener waits for the certificate's DNS validation (minutes); HTTP turns into a
        // redirect to it only once it serves, so that turning the domain on never sends users nowhere.
        const httpsListener = args.domain
            ? c.make(aws.lb.Listener, "https", {
                  loadBalancerArn: loadBalancer.arn,
                  port: 443,
                  protocol: "HTTPS",
                  certificateArn: args.domain.certificateArn,
                  sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
                  defaultActions,
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
                    : defaultActions,
            },
            { dependsOn: httpsListener ? [httpsListener] : [] },
        );
        if (args.domain) {
            c.make(aws.route53.Record, "alias", {
                zoneId: args.domain.zoneId,
                name: args.domain.name,
                type: "A",
                aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: true }],
            });
        }
        return {
            arnSuffix: loadBalancer.arnSuffix,
            securityGroupId: securityGroup.id,
            listenerArn: (httpsListener ?? httpListener).arn,
            listeners: [...rules, httpListener, ...(httpsListener ? [httpsListener] : [])],
        };
    }
}
