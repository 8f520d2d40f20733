// The stack: config -> image in ECR -> network (-> domain, access logs) ->
// Fargate service behind a load balancer -> outputs. Each step is a component
// in a module of its own.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";

import { AccessLogBucket, accessLogPrefix } from "./access-logs";
import { loadConfig } from "./config";
import { ServiceDomain, isPullRequestStack, stackDomainName } from "./domain";
import { ServiceImage } from "./image";
import { Network } from "./network";
import { secretConfigKeys, stackProviderArgs } from "./provider";
import { WebService } from "./service";
import { imageSource, repositoryUrl } from "./source";

const config = loadConfig();
const project = pulumi.getProject();
const stack = pulumi.getStack();
const appDir = path.join(__dirname, "..", "app");

// The stack's aws: settings (region, profile, allowedAccountIds, assumeRoles…), and on every
// taggable resource the project and stack, through the provider's default tags.
const provider = new aws.Provider("aws", stackProviderArgs(pulumi.runtime.allConfig(), { project, stack }, secretConfigKeys()));

const image = new ServiceImage(
    "calculator",
    {
        source: imageSource(appDir, path.join(appDir, "Dockerfile")),
        singleStage: config.compareSingleStage ? imageSource(appDir, path.join(appDir, "Dockerfile.single")) : undefined,
        platform: config.platform,
        imagesToKeep: config.imagesToKeep,
        goImage: process.env.GO_IMAGE || undefined,
        sourceUrl: repositoryUrl(path.join(__dirname, "..")),
    },
    { providers: { aws: provider } },
);

const network = new Network(
    "calculator",
    {
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
          "calculator",
          {
              project,
              domainName: stackDomainName(config.domainName, stack),
              hostedZoneId: config.hostedZoneId,
              certificateArn: isPullRequestStack(stack) ? undefined : config.certificateArn,
          },
          { providers: { aws: provider } },
      )
    : undefined;

const accessLogs = config.accessLogs
    ? new AccessLogBucket("calculator", { retentionDays: config.logRetentionDays }, { providers: { aws: provider } })
    : undefined;

const service = new WebService(
    "calculator",
    {
        project,
        stack,
        vpcId: network.vpcId,
        loadBalancerSubnetIds: network.loadBalancerSubnetIds,
        taskSubnetIds: network.taskSubnetIds,
        assignPublicIp: network.tasksNeedPublicIp,
        imageRef: image.imageRef,
        containerPort: config.containerPort,
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

// The stack outputs. The access logs' bucket and the single-stage comparison
// appear only when they were made.
export = {
    url: service.url,
    imageRef: image.imageRef,
    imageSizeBytes: image.imageSizeBytes,
    imageSize: image.imageSize,
    repositoryUrl: image.repositoryUrl,
    clusterName: service.clusterName,
    serviceName: service.serviceName,
    logGroupName: service.logGroupName,
    ...(accessLogs ? { accessLogsBucket: accessLogs.bucketName } : {}),
    ...(image.singleStageImageSizeBytes && image.imageSizeReduction
        ? { singleStageImageSizeBytes: image.singleStageImageSizeBytes, imageSizeReduction: image.imageSizeReduction }
        : {}),
};
