// What `pulumi up` does to a live stack when the program changes: which
// resources it creates, updates in place, replaces or deletes, and which of
// those updates AWS or the provider refuses. The mocks accept whatever the
// program declares; the rules here are the engine's and the providers' own,
// each from its source, for the resource types this program makes.
import { triggerReplaces, unknownMarker } from "../scripts/lib/mock-program";
import { Run, shortUrn, unsecret, withoutIgnored } from "../scripts/lib/harness";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- resource inputs are loosely typed JSON
type Inputs = Record<string, any>;

export type Operation = "create" | "update" | "replace" | "delete" | "same";

export interface Step {
    urn: string;
    type: string;
    name: string;
    op: Operation;
    /** The input properties that differ (for an update or a replacement). */
    changed: string[];
    /** Why it is replaced: the properties that force it, or the engine's replacement trigger. */
    replacedBy: string[];
}

/** terraform-provider-aws at the version pulumi-aws 7 bridges; every property there marked ForceNew (or RequiresReplace). */
const tf = "terraform-provider-aws";
const forceNew: Record<string, { source: string; properties: string[] | "*" }> = {
    "aws:ec2/securityGroup:SecurityGroup": {
        source: `${tf} internal/service/ec2/vpc_security_group.go`,
        properties: ["vpcId", "name", "namePrefix", "description"],
    },
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
        source: `${tf} internal/service/ec2/vpc_security_group_ingress_rule.go`,
        properties: ["securityGroupId"],
    },
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
        source: `${tf} internal/service/ec2/vpc_security_group_egress_rule.go`,
        properties: ["securityGroupId"],
    },
    // For an application load balancer, `subnets` and `securityGroups` change in place: customizeDiffLoadBalancerALB forces a new one only for subnet_mapping.
    "aws:lb/loadBalancer:LoadBalancer": {
        source: `${tf} internal/service/elbv2/load_balancer.go`,
        properties: ["name", "namePrefix", "internal", "loadBalancerType", "subnetMappings"],
    },
    "aws:lb/targetGroup:TargetGroup": {
        source: `${tf} internal/service/elbv2/target_group.go`,
        properties: ["vpcId", "port", "protocol", "protocolVersion", "targetType", "name", "namePrefix"],
    },
    "aws:lb/listener:Listener": { source: `${tf} internal/service/elbv2/listener.go`, properties: ["loadBalancerArn"] },
    "aws:lb/listenerRule:ListenerRule": { source: `${tf} internal/service/elbv2/listener_rule.go`, properties: ["listenerArn"] },
    "aws:servicediscovery/httpNamespace:HttpNamespace": {
        source: `${tf} internal/service/servicediscovery/http_namespace.go`,
        properties: ["name"],
    },
    "aws:ecs/cluster:Cluster": { source: `${tf} internal/service/ecs/cluster.go`, properties: ["name"] },
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": {
        source: `${tf} internal/service/ecs/cluster_capacity_providers.go`,
        properties: ["clusterName"],
    },
    // A task definition revision cannot change: every change registers a new one.
    "aws:ecs/taskDefinition:TaskDefinition": { source: `${tf} internal/service/ecs/task_definition.go`, properties: "*" },
    "aws:ecs/service:Service": {
        source: `${tf} internal/service/ecs/service.go`,
        properties: ["name", "cluster", "launchType", "schedulingStrategy"],
    },
    "aws:cloudwatch/logGroup:LogGroup": { source: `${tf} internal/service/logs/group.go`, properties: ["name", "namePrefix"] },
    "aws:iam/role:Role": { source: `${tf} internal/service/iam/role.go`, properties: ["name", "namePrefix", "path"] },
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
        source: `${tf} internal/service/iam/role_policy_attachment.go`,
        properties: "*",
    },
    "aws:iam/rolePolicy:RolePolicy": { source: `${tf} internal/service/iam/role_policy.go`, properties: ["role", "name", "namePrefix"] },
    "aws:ecr/repository:Repository": { source: `${tf} internal/service/ecr/repository.go`, properties: ["name"] },
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": { source: `${tf} internal/service/ecr/lifecycle_policy.go`, properties: ["repository"] },
    "aws:appautoscaling/target:Target": {
        source: `${tf} internal/service/appautoscaling/target.go`,
        properties: ["resourceId", "scalableDimension", "serviceNamespace"],
    },
    "aws:appautoscaling/policy:Policy": {
        source: `${tf} internal/service/appautoscaling/policy.go`,
        properties: ["name", "resourceId", "scalableDimension", "serviceNamespace"],
    },
    "aws:route53/record:Record": { source: `${tf} internal/service/route53/record.go`, properties: ["zoneId", "name"] },
    "aws:acm/certificate:Certificate": {
        source: `${tf} internal/service/acm/certificate.go`,
        properties: ["domainName", "subjectAlternativeNames"],
    },
    "aws:acm/certificateValidation:CertificateValidation": {
        source: `${tf} internal/service/acm/certificate_validation.go`,
        properties: "*",
    },
    "aws:ec2/vpc:Vpc": { source: `${tf} internal/service/ec2/vpc_.go`, properties: ["cidrBlock"] },
    "aws:ec2/subnet:Subnet": { source: `${tf} internal/service/ec2/vpc_subnet.go`, properties: ["vpcId", "cidrBlock", "availabilityZone"] },
    "aws:ec2/routeTable:RouteTable": { source: `${tf} internal/service/ec2/vpc_route_table.go`, properties: ["vpcId"] },
    "aws:ec2/routeTableAssociation:RouteTableAssociation": {
        source: `${tf} internal/service/ec2/vpc_route_table_association.go`,
        properties: ["subnetId", "gatewayId"],
    },
    "aws:ec2/eip:Eip": { source: `${tf} internal/service/ec2/ec2_eip.go`, properties: ["domain"] },
    "aws:ec2/natGateway:NatGateway": {
        source: `${tf} internal/service/ec2/vpc_nat_gateway.go`,
        properties: ["subnetId", "allocationId", "connectivityType"],
    },
    "aws:s3/bucket:Bucket": { source: `${tf} internal/service/s3/bucket.go`, properties: ["bucket", "bucketPrefix"] },
    "aws:s3/bucketPolicy:BucketPolicy": { source: `${tf} internal/service/s3/bucket_policy.go`, properties: ["bucket"] },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
        source: `${tf} internal/service/s3/bucket_public_access_block.go`,
        properties: ["bucket"],
    },
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
        source: `${tf} internal/service/s3/bucket_server_side_encryption_configuration.go`,
        properties: ["bucket", "expectedBucketOwner"],
    },
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {
        source: `${tf} internal/service/s3/bucket_lifecycle_configuration.go`,
        properties: ["bucket", "expectedBucketOwner"],
    },
    // pulumi-docker provider/provider.go Diff: any change of inputs is an update (a rebuild and push), never a replacement.
    "docker:index/image:Image": { source: "pulumi-docker provider/provider.go", properties: [] },
};

/**
 * Properties whose removal the provider leaves out of the diff, so that AWS keeps what it has: an update
 * that drops one changes nothing there.
 */
const keptWhenRemoved: Record<string, { source: string; properties: string[] }> = {
    "aws:ecs/service:Service": {
        source: `${tf} internal/service/ecs/service.go, alarms: DiffSuppressFunc verify.SuppressMissingOptionalConfigurationBlock`,
        properties: ["alarms"],
    },
};

/** A resource's inputs as AWS holds them after `pulumi up` from `old` to `next`: what the provider keeps of a removed property stays. */
export function inputsAfterUpdate(type: string, old: Inputs, next: Inputs): Inputs {
    const kept = (keptWhenRemoved[type]?.properties ?? []).filter((k) => next[k] === undefined && old[k] !== undefined);
    return { ...next, ...Object.fromEntries(kept.map((k) => [k, old[k]])) };
}

/** Strings a resource's replacement changes: its ID, and what the provider computed (ARN, DNS name, an auto-name…). */
function identities(r: { id?: string; inputs: Inputs; state?: Record<string, unknown> }): string[] {
    const computed = Object.entries(r.state ?? {})
        .filter(([k, v]) => typeof v === "string" && JSON.stringify(r.inputs[k]) !== JSON.stringify(v))
        .map(([, v]) => v as string);
    return [r.id ?? "", ...computed].filter((v) => v.length >= 6 && v !== unknownMarker);
}

function mentions(value: unknown, needles: string[]): boolean {
    const text = JSON.stringify(value) ?? "";
    return needles.some((n) => text.includes(n));
}

/** The state of a stack deployed before its program gave any resource a replacementTrigger: none recorded. */
export function withoutRecordedTriggers(live: Run): Run {
    return new Run({ ...live.run, resources: live.resources.map((r) => ({ ...r, replacementTrigger: undefined })) }, live.world);
}

/**
 * The steps `pulumi up` takes from the live stack (a run as `pulumi up` made it) to the program's next run. A
 * replaced resource gets a new ID (and ARN, name…), so whatever references it changes too, in turn.
 */
export function planUpdate(live: Run, next: Run): Step[] {
    const before = new Map(live.resources.map((r) => [r.urn, r]));
    // The engine takes a resource's old state by its URN, else by the first of its aliases the old
    // state holds; two resources claiming one old URN fail the update (pulumi/pulumi pkg/resource/deploy
    // step_generator.go; pkg/diag/errors.go 2008 "Duplicate resource alias").
    const oldUrnOf = new Map<string, string>();
    const claimedBy = new Map<string, string>();
    for (const r of next.resources) {
        const found = [r.urn, ...r.aliases].find((u) => before.has(u));
        if (!found) continue;
        const other = claimedBy.get(found);
        if (other) {
            throw new Error(
                `Duplicate resource alias '${found}' applied to resource with URN '${r.urn}' conflicting with resource with URN '${other}'`,
            );
        }
        claimedBy.set(found, r.urn);
        oldUrnOf.set(r.urn, found);
    }
    const steps = new Map<string, Step>();
    const replaced = new Set<string>();
    for (let changedSomething = true; changedSomething;) {
        changedSomething = false;
        const moved = [...replaced].flatMap((urn) =>
            identities({ ...before.get(urn)!, inputs: unsecret(before.get(urn)!.inputs) as Inputs }),
        );
        for (const r of next.resources) {
            const oldUrn = oldUrnOf.get(r.urn);
            const old = oldUrn ? before.get(oldUrn) : undefined;
            if (!old) {
                steps.set(r.urn, { urn: r.urn, type: r.type, name: r.name, op: "create", changed: [], replacedBy: [] });
                continue;
            }
            const a = withoutIgnored(unsecret(old.inputs) as Inputs, r.ignoreChanges);
            const b = inputsAfterUpdate(r.type, a, withoutIgnored(unsecret(r.inputs) as Inputs, r.ignoreChanges));
            const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
            const changed = keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]) || (k in a && mentions(a[k], moved)));
            const rule = forceNew[r.type];
            const replacedBy = [
                ...changed.filter((k) => rule && (rule.properties === "*" || rule.properties.includes(k))),
                ...changed.filter((k) => r.replaceOnChanges.includes(k) || r.replaceOnChanges.includes("*")),
                ...(triggerReplaces(old.replacementTrigger, r.replacementTrigger) ? ["replacementTrigger"] : []),
            ];
            const op: Operation = replacedBy.length > 0 ? "replace" : changed.length > 0 ? "update" : "same";
            if (op === "replace" && !replaced.has(old.urn)) {
                replaced.add(old.urn);
                changedSomething = true;
            }
            steps.set(r.urn, { urn: r.urn, type: r.type, name: r.name, op, changed, replacedBy: [...new Set(replacedBy)] });
        }
    }
    for (const old of live.resources) {
        if (!steps.has(old.urn) && !claimedBy.has(old.urn))
            steps.set(old.urn, { urn: old.urn, type: old.type, name: old.name, op: "delete", changed: [], replacedBy: [] });
    }
    return [...steps.values()];
}

/** "type::name op" for every step but "same", sorted: what `pulumi preview` lists. */
export function planSummary(steps: Step[]): string[] {
    return steps
        .filter((s) => s.op !== "same")
        .map((s) => `${shortUrn(s.urn)} ${s.op}`)
        .sort();
}

/** The VPC of each subnet and security group a run knows: the account's, and the ones it makes. */
function vpcOf(run: Run): Map<string, string> {
    const map = new Map<string, string>(run.world.subnets.map((s) => [s.id, s.vpcId]));
    for (const r of run.resources) {
        if ((r.type === "aws:ec2/subnet:Subnet" || r.type === "aws:ec2/securityGroup:SecurityGroup") && r.id) {
            map.set(r.id, String(unsecret(r.inputs.vpcId)));
        }
    }
    return map;
}

/**
 * Updates in place that the provider or AWS refuses. Each rule names where it comes from; the mocks would
 * accept all of these.
 */
const updateRules: {
    type: string;
    source: string;
    refuses(old: Inputs, next: Inputs, ctx: { live: Run; next: Run }): string | undefined;
}[] = [
    {
        type: "aws:ecs/service:Service",
        source: `${tf} internal/service/ecs/service.go, capacityProviderStrategyCustomizeDiff`,
        refuses: (old, next) =>
            JSON.stringify(old.capacityProviderStrategies) !== JSON.stringify(next.capacityProviderStrategies) &&
            next.forceNewDeployment !== true
                ? "force_new_deployment should be true when capacity_provider_strategy is being updated"
                : undefined,
    },
    {
        type: "aws:lb/loadBalancer:LoadBalancer",
        source: "ELB SetSubnets and SetSecurityGroups take only the load balancer's own VPC; pulumi/pulumi-aws#1382",
        refuses: (old, next, ctx) => {
            const liveVpcs = vpcOf(ctx.live);
            const nextVpcs = vpcOf(ctx.next);
            const vpc = new Set((old.subnets as string[]).map((id) => liveVpcs.get(id)));
            const stray = [
                ...((next.subnets as string[]) ?? []).filter((id) => !vpc.has(nextVpcs.get(id))),
                ...((next.securityGroups as string[]) ?? []).filter((id) => !vpc.has(nextVpcs.get(id))),
            ];
            return stray.length > 0
                ? `InvalidConfigurationRequest: ${stray.join(", ")} not in the load balancer's VPC ${[...vpc].join(", ")}`
                : undefined;
        },
    },
];

/** The updates in place from the live stack to the next run that `pulumi up` would fail on. */
export function refusedUpdates(live: Run, next: Run): string[] {
    const byUrn = new Map(live.resources.map((r) => [r.urn, r]));
    const refusals: string[] = [];
    for (const step of planUpdate(live, next).filter((s) => s.op === "update")) {
        const now = next.resources.find((r) => r.urn === step.urn)!;
        const old = byUrn.get([now.urn, ...now.aliases].find((u) => byUrn.has(u))!)!;
        for (const rule of updateRules.filter((u) => u.type === step.type)) {
            const message = rule.refuses(unsecret(old.inputs) as Inputs, unsecret(now.inputs) as Inputs, { live, next });
            if (message) refusals.push(`${shortUrn(step.urn)}: ${message} (${rule.source})`);
        }
    }
    return refusals;
}
