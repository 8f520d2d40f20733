// The stack: config -> network (-> domain, access logs) -> the environment its
// services share (cluster, load balancer, namespace) -> each service's image in
// ECR and its Fargate service -> outputs. The components (infra/*.ts but this
// file and infra/config/) read no config: this file reads it and hands each its
// arguments. The services are the ones infra/services.ts lists.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";

import { AccessLogBucket, accessLogPrefix } from "./access-logs";
import { ConfigError, SecretSetting, ServiceSettings, StackConfig, loadConfig } from "./config";
import {
    DeclarationError,
    ServiceDeclaration,
    declarationProblems,
    environmentProblems,
    internalUrl,
    kindOf,
    urlVariable,
} from "./declaration";
import { ServiceDomain, isPullRequestStack, stackDomainName } from "./domain";
import { requireCli } from "./engine";
import { Environment, sharedName } from "./environment";
import { ServiceImage } from "./image";
import { FormerParent, rolePath, rootUrn } from "./naming";
import { Network } from "./network";
import { readProject } from "./project";
import { secretConfigKeys, stackProviderArgs } from "./provider";
import { SecretSource, WebService, setByWebService, webServiceType } from "./service";
import { services } from "./services";
import { imageSource, repositoryUrl } from "./source";

// An older CLI fails the run with what to install (a rejection the runtime reports as the error).
const requiredPulumiVersion = readProject().requiredPulumiVersion;
if (requiredPulumiVersion) void requireCli(requiredPulumiVersion);

// A declaration that cannot run fails the preview naming the service and the field.
for (const service of services) {
    const declared = declarationProblems(service);
    if (declared.length > 0) throw new DeclarationError(service, declared);
}
const together = environmentProblems(services);
if (together.length > 0) {
    throw new ConfigError(together.map((p) => `infra/services.ts: ${p}`));
}

const project = pulumi.getProject();
const stack = pulumi.getStack();
/** The names a service's container gets from the platform: its port, and the addresses of the services it calls. */
const setFor = (d: ServiceDeclaration) => [...setByWebService, ...(d.calls ?? []).map(urlVariable)];
const config = loadConfig(undefined, project, {
    reservedNames: services.length === 1 ? [...setFor(services[0]), ...declaredNames(services[0])] : [],
    secretKeys: secretConfigKeys(),
    services: services.map((d) => ({ name: d.name, reservedNames: [...setFor(d), ...declaredNames(d)] })),
});
if (config.compareSingleStage && !services.some((d) => d.singleStageDockerfile)) {
    throw new ConfigError([
        `${project}:compareSingleStage is true, but no service declares a singleStageDockerfile to compare its image with (infra/services.ts)`,
    ]);
}

/** The names a service's declaration sets itself, which the stack's settings must not. */
function declaredNames(d: ServiceDeclaration): string[] {
    return [...Object.keys(d.container.environment), ...Object.keys(d.container.secrets)];
}

// The stack's aws: settings (region, profile, allowedAccountIds, assumeRoles…), and on every
// taggable resource the project and stack, through the provider's default tags.
const provider = new aws.Provider("aws", stackProviderArgs(pulumi.runtime.allConfig(), { project, stack }, secretConfigKeys()));
const opts = { providers: { aws: provider } };

// What the services share is named "shared". A stack deployed when it ran one service named these
// after it (and that service's component held the load balancer and cluster): each keeps its
// former names as aliases, so such a stack upgrades in place.
const formerOwners = services.filter((d) => kindOf(d) === "public");
const formerNaming = {
    formerComponentNames: formerOwners.map((d) => d.name),
    formerNames: formerOwners.some((d) => d.formerNames),
};
const formerParents: FormerParent[] = formerOwners.map((d) => ({
    urn: rootUrn(webServiceType, d.name),
    name: d.name,
    formerNames: d.formerNames,
}));

const network = new Network(
    sharedName,
    {
        ...formerNaming,
        project,
        vpc: config.vpc,
        vpcId: config.vpcId,
        publicSubnetIds: config.publicSubnetIds,
        privateSubnetIds: config.privateSubnetIds,
        natGateway: config.natGateway,
    },
    opts,
);

// A pull request's stack serves pr-<number>.<domainName>, with its own certificate: never dev's records.
const domain = config.domainName
    ? new ServiceDomain(
          sharedName,
          {
              ...formerNaming,
              project,
              domainName: stackDomainName(config.domainName, stack),
              hostedZoneId: config.hostedZoneId,
              certificateArn: isPullRequestStack(stack) ? undefined : config.certificateArn,
          },
          opts,
      )
    : undefined;

// A pull request's stack writes no access logs: its deploy role may then have no S3 at all.
const publicServices = services.filter((d) => kindOf(d) === "public");
const accessLogs =
    config.accessLogs && !isPullRequestStack(stack) && publicServices.length > 0
        ? new AccessLogBucket(sharedName, { ...formerNaming, retentionDays: config.logRetentionDays }, opts)
        : undefined;

const environment = new Environment(
    sharedName,
    {
        formerParents,
        vpcId: network.vpcId,
        loadBalancerSubnetIds: network.loadBalancerSubnetIds,
        loadBalancer: publicServices.length > 0,
        serviceConnect: services.some((d) => kindOf(d) === "internal"),
        domain: domain && { name: domain.domainName, zoneId: domain.zoneId, certificateArn: domain.certificateArn },
        accessLogs: accessLogs && { bucket: accessLogs.bucketName, prefix: accessLogPrefix, ready: accessLogs.policy },
        containerInsights: config.containerInsights,
    },
    opts,
);

/** A service's port: its settings' over its declaration's. */
const portOf = (d: ServiceDeclaration) => config.services[d.name].containerPort ?? d.container.port;

const deployed = services.map((d) => {
    const settings = config.services[d.name];
    const image = new ServiceImage(
        d.name,
        {
            formerNames: d.formerNames,
            source: imageSource(d.dir, path.join(d.dir, "Dockerfile")),
            target: d.target,
            singleStage:
                config.compareSingleStage && d.singleStageDockerfile
                    ? imageSource(d.dir, path.join(d.dir, d.singleStageDockerfile))
                    : undefined,
            platform: settings.platform,
            imagesToKeep: config.imagesToKeep,
            // The builder image, for air-gapped builds (the Dockerfiles' GO_IMAGE).
            buildArgs: process.env.GO_IMAGE ? { GO_IMAGE: process.env.GO_IMAGE } : undefined,
            sourceUrl: repositoryUrl(path.join(__dirname, "..")),
        },
        opts,
    );
    // The services it calls, at the names Service Connect gives them.
    const calls = Object.fromEntries(
        (d.calls ?? []).map((name) => {
            return [urlVariable(name), internalUrl(name, portOf(services.find((s) => s.name === name)!))];
        }),
    );
    const web = new WebService(
        d.name,
        {
            formerNames: d.formerNames,
            project,
            stack,
            environment: environment.services,
            kind: kindOf(d),
            route: d.route,
            callsInternal: (d.calls ?? []).length > 0,
            taskSubnetIds: network.taskSubnetIds,
            assignPublicIp: network.tasksNeedPublicIp,
            imageRef: image.imageRef,
            container: {
                ...d.container,
                port: portOf(d),
                environment: { ...d.container.environment, ...calls, ...settings.environment },
                secrets: { ...d.container.secrets, ...secretSources(settings.secrets) },
            },
            secretsKmsKeyArn: config.secretsKmsKeyArn,
            roleBoundary: config.rolePermissionsBoundary
                ? { policyArn: config.rolePermissionsBoundary, path: rolePath(project) }
                : undefined,
            alarms: alarmsFor(settings, config, publicServices.length === 1),
            cpu: settings.cpu,
            memory: settings.memory,
            cpuArchitecture: settings.cpuArchitecture,
            desiredCount: settings.desiredCount,
            minCount: settings.minCount,
            maxCount: settings.maxCount,
            spot: settings.spot,
            executeCommand: settings.executeCommand,
            logRetentionDays: config.logRetentionDays,
        },
        opts,
    );
    return { declaration: d, image, web };
});

// The load balancer's default: the public service with no route; an internal service lets in its callers.
environment.setDefaultTarget(deployed.find((s) => kindOf(s.declaration) === "public" && !s.declaration.route)?.web.targetGroupArn);
for (const caller of deployed) {
    for (const name of caller.declaration.calls ?? []) {
        deployed.find((s) => s.declaration.name === name)!.web.allowCallsFrom(caller.declaration.name, caller.web.taskSecurityGroupId);
    }
}

/** A service's alarms as its settings give them; none with alarms off. */
function alarmsFor(s: ServiceSettings, c: StackConfig, onlyPublicService: boolean) {
    if (!s.alarms) return undefined;
    return {
        loadBalancer5xx: onlyPublicService,
        loadBalancer5xxPercent: s.alarmLoadBalancer5xxPercent,
        target5xxPercent: s.alarmTarget5xxPercent,
        latencyP99Ms: s.alarmLatencyP99Ms,
        cpuPercent: s.alarmCpuPercent,
        memoryPercent: s.alarmMemoryPercent,
        // A pull request's stack has dev's config: its alarms still roll its deploys back, but
        // notify no one (each stack would subscribe dev's address anew, and page for a preview).
        email: isPullRequestStack(stack) ? undefined : c.alarmEmail,
        topicArn: isPullRequestStack(stack) ? undefined : c.alarmTopicArn,
    };
}

/** The stack's secret settings as the service takes them: a value stays secret (the state holds it encrypted). */
function secretSources(settings: Record<string, SecretSetting>): Record<string, SecretSource> {
    return Object.fromEntries(
        Object.entries(settings).map(([name, s]) => [name, "arn" in s ? { valueFrom: s.arn } : { value: pulumi.secret(s.value) }]),
    );
}

/** A service's outputs: where it is, what it runs, where its logs and figures are. */
function serviceOutputs(s: (typeof deployed)[number]) {
    const { image, web, declaration: d } = s;
    return {
        kind: kindOf(d),
        ...(kindOf(d) === "public" && environment.url
            ? {
                  url: d.route?.paths?.length
                      ? environment.url.apply((u) => `${u}${d.route!.paths![0].replace(/[*?].*$/, "")}`)
                      : environment.url,
              }
            : {}),
        ...(kindOf(d) === "internal" ? { internalUrl: internalUrl(d.name, portOf(d)) } : {}),
        imageRef: image.imageRef,
        imageSizeBytes: image.imageSizeBytes,
        imageSize: image.imageSize,
        repositoryUrl: image.repositoryUrl,
        serviceName: web.serviceName,
        logGroupName: web.logGroupName,
        dashboardUrl: web.dashboardUrl,
        ...(image.singleStageImageSizeBytes && image.imageSizeReduction
            ? { singleStageImageSizeBytes: image.singleStageImageSizeBytes, imageSizeReduction: image.imageSizeReduction }
            : {}),
    };
}

// The stack outputs: the environment's URL and cluster, every service's own under `services`; a
// stack of one service has that service's at the top as well, as it had before it could hold more.
const byService = deployed.map((s) => [s.declaration.name, serviceOutputs(s)] as const);
const single = byService.length === 1 ? byService[0][1] : undefined;
export = {
    ...(environment.url ? { url: environment.url } : {}),
    clusterName: environment.clusterName,
    services: Object.fromEntries(byService),
    ...(single
        ? {
              imageRef: single.imageRef,
              imageSizeBytes: single.imageSizeBytes,
              imageSize: single.imageSize,
              repositoryUrl: single.repositoryUrl,
              serviceName: single.serviceName,
              logGroupName: single.logGroupName,
              dashboardUrl: single.dashboardUrl,
              ...("singleStageImageSizeBytes" in single
                  ? { singleStageImageSizeBytes: single.singleStageImageSizeBytes, imageSizeReduction: single.imageSizeReduction }
                  : {}),
          }
        : {}),
    ...(accessLogs ? { accessLogsBucket: accessLogs.bucketName } : {}),
};
