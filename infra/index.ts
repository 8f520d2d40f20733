// The stack: config -> image in ECR -> network (-> domain, access logs) ->
// Fargate service behind a load balancer -> outputs. Each step is a component
// in a module of its own; the service is the one infra/services.ts names, by
// its declaration in its own folder (README: "Bring your own service").
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";

import { AccessLogBucket, accessLogPrefix } from "./access-logs";
import { ConfigError, SecretSetting, loadConfig } from "./config";
import { ServiceDomain, isPullRequestStack, stackDomainName } from "./domain";
import { requireCli } from "./engine";
import { ServiceImage } from "./image";
import { rolePath } from "./naming";
import { Network } from "./network";
import { readProject } from "./project";
import { secretConfigKeys, stackProviderArgs } from "./provider";
import { DeclarationError, declarationProblems } from "./declaration";
import { SecretSource, WebService, setByWebService } from "./service";
import { service } from "./services";
import { imageSource, repositoryUrl } from "./source";

// An older CLI fails the run with what to install (a rejection the runtime reports as the error).
const requiredPulumiVersion = readProject().requiredPulumiVersion;
if (requiredPulumiVersion) void requireCli(requiredPulumiVersion);

// A declaration that cannot run fails the preview naming the service and the field.
const declared = declarationProblems(service);
if (declared.length > 0) throw new DeclarationError(service, declared);

const project = pulumi.getProject();
const stack = pulumi.getStack();
const config = loadConfig(undefined, project, {
    reservedNames: [...setByWebService, ...Object.keys(service.container.environment), ...Object.keys(service.container.secrets)],
    secretKeys: secretConfigKeys(),
});
if (config.compareSingleStage && !service.singleStageDockerfile) {
    throw new ConfigError([
        `${project}:compareSingleStage is true, but the service ${service.name} declares no singleStageDockerfile to compare its image with (infra/services.ts)`,
    ]);
}
const serviceDir = service.dir;

// The stack's aws: settings (region, profile, allowedAccountIds, assumeRoles…), and on every
// taggable resource the project and stack, through the provider's default tags.
const provider = new aws.Provider("aws", stackProviderArgs(pulumi.runtime.allConfig(), { project, stack }, secretConfigKeys()));

// Every component keeps the names it was first deployed with (formerNames), so that a stack made
// before components were named from their own name updates in place.
const image = new ServiceImage(
    service.name,
    {
        formerNames: service.formerNames,
        source: imageSource(serviceDir, path.join(serviceDir, "Dockerfile")),
        target: service.target,
        singleStage:
            config.compareSingleStage && service.singleStageDockerfile
                ? imageSource(serviceDir, path.join(serviceDir, service.singleStageDockerfile))
                : undefined,
        platform: config.platform,
        imagesToKeep: config.imagesToKeep,
        // The builder image, for air-gapped builds (the Dockerfiles' GO_IMAGE).
        buildArgs: process.env.GO_IMAGE ? { GO_IMAGE: process.env.GO_IMAGE } : undefined,
        sourceUrl: repositoryUrl(path.join(__dirname, "..")),
    },
    { providers: { aws: provider } },
);

const network = new Network(
    service.name,
    {
        formerNames: service.formerNames,
        project,
        vpc: config.vpc,
        vpcId: config.vpcId,
        publicSubnetIds: config.publicSubnetIds,
        privateSubnetIds: config.privateSubnetIds,
        natGateway: config.natGateway,
    },
    { providers: { aws: provider } },
);

// A pull request's stack serves pr-<number>.<domainName>, with its own certificate: never dev's records.
const domain = config.domainName
    ? new ServiceDomain(
          service.name,
          {
              formerNames: service.formerNames,
              project,
              domainName: stackDomainName(config.domainName, stack),
              hostedZoneId: config.hostedZoneId,
              certificateArn: isPullRequestStack(stack) ? undefined : config.certificateArn,
          },
          { providers: { aws: provider } },
      )
    : undefined;

// A pull request's stack writes no access logs: its deploy role may then have no S3 at all.
const accessLogs =
    config.accessLogs && !isPullRequestStack(stack)
        ? new AccessLogBucket(
              service.name,
              { formerNames: service.formerNames, retentionDays: config.logRetentionDays },
              { providers: { aws: provider } },
          )
        : undefined;

const web = new WebService(
    service.name,
    {
        formerNames: service.formerNames,
        project,
        stack,
        vpcId: network.vpcId,
        loadBalancerSubnetIds: network.loadBalancerSubnetIds,
        taskSubnetIds: network.taskSubnetIds,
        assignPublicIp: network.tasksNeedPublicIp,
        imageRef: image.imageRef,
        container: {
            ...service.container,
            // The declaration's port, unless the stack sets containerPort.
            port: config.containerPort ?? service.container.port,
            environment: { ...service.container.environment, ...config.environment },
            secrets: { ...service.container.secrets, ...secretSources(config.secrets) },
        },
        secretsKmsKeyArn: config.secretsKmsKeyArn,
        roleBoundary: config.rolePermissionsBoundary ? { policyArn: config.rolePermissionsBoundary, path: rolePath(project) } : undefined,
        alarms: config.alarms
            ? {
                  loadBalancer5xxPercent: config.alarmLoadBalancer5xxPercent,
                  target5xxPercent: config.alarmTarget5xxPercent,
                  latencyP99Ms: config.alarmLatencyP99Ms,
                  cpuPercent: config.alarmCpuPercent,
                  memoryPercent: config.alarmMemoryPercent,
                  // A pull request's stack has dev's config: its alarms still roll its deploys back, but
                  // notify no one (each stack would subscribe dev's address anew, and page for a preview).
                  email: isPullRequestStack(stack) ? undefined : config.alarmEmail,
                  topicArn: isPullRequestStack(stack) ? undefined : config.alarmTopicArn,
              }
            : undefined,
        cpu: config.cpu,
        memory: config.memory,
        cpuArchitecture: config.cpuArchitecture,
        desiredCount: config.desiredCount,
        minCount: config.minCount,
        maxCount: config.maxCount,
        spot: config.spot,
        domain: domain && { name: domain.domainName, zoneId: domain.zoneId, certificateArn: domain.certificateArn },
        accessLogs: accessLogs && { bucket: accessLogs.bucketName, prefix: accessLogPrefix, ready: accessLogs.policy },
        logRetentionDays: config.logRetentionDays,
        containerInsights: config.containerInsights,
    },
    { providers: { aws: provider } },
);

/** The stack's secret settings as the service takes them: a value stays secret (the state holds it encrypted). */
function secretSources(settings: Record<string, SecretSetting>): Record<string, SecretSource> {
    return Object.fromEntries(
        Object.entries(settings).map(([name, s]) => [name, "arn" in s ? { valueFrom: s.arn } : { value: pulumi.secret(s.value) }]),
    );
}

// The stack outputs. The access logs' bucket and the single-stage comparison
// appear only when they were made.
export = {
    url: web.url,
    imageRef: image.imageRef,
    imageSizeBytes: image.imageSizeBytes,
    imageSize: image.imageSize,
    repositoryUrl: image.repositoryUrl,
    clusterName: web.clusterName,
    serviceName: web.serviceName,
    logGroupName: web.logGroupName,
    dashboardUrl: web.dashboardUrl,
    ...(accessLogs ? { accessLogsBucket: accessLogs.bucketName } : {}),
    ...(image.singleStageImageSizeBytes && image.imageSizeReduction
        ? { singleStageImageSizeBytes: image.singleStageImageSizeBytes, imageSizeReduction: image.imageSizeReduction }
        : {}),
};
