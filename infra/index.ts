// The stack: config -> image in ECR -> network -> Fargate service behind a
// load balancer -> outputs. Each step is a component in a module of its own.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";

import { loadConfig } from "./config";
import { ServiceImage } from "./image";
import { Network } from "./network";
import { WebService } from "./service";
import { imageSource } from "./source";

const config = loadConfig();
const appDir = path.join(__dirname, "..", "app");

// Every taggable resource carries the project and stack, through the provider's default tags.
const provider = new aws.Provider("aws", {
    region: new pulumi.Config("aws").get<aws.Region>("region"),
    defaultTags: { tags: { project: pulumi.getProject(), stack: pulumi.getStack() } },
});

const image = new ServiceImage(
    "calculator",
    {
        source: imageSource(appDir, path.join(appDir, "Dockerfile")),
        singleStage: config.compareSingleStage ? imageSource(appDir, path.join(appDir, "Dockerfile.single")) : undefined,
        platform: config.platform,
        imagesToKeep: config.imagesToKeep,
        goImage: process.env.GO_IMAGE || undefined,
    },
    { providers: { aws: provider } },
);

const network = new Network("calculator", { vpc: config.vpc }, { providers: { aws: provider } });

const service = new WebService(
    "calculator",
    {
        project: pulumi.getProject(),
        stack: pulumi.getStack(),
        vpcId: network.vpcId,
        subnetIds: network.publicSubnetIds,
        imageRef: image.imageRef,
        containerPort: config.containerPort,
        cpu: config.cpu,
        memory: config.memory,
        cpuArchitecture: config.cpuArchitecture,
        desiredCount: config.desiredCount,
        minCount: config.minCount,
        maxCount: config.maxCount,
        spot: config.spot,
        certificateArn: config.certificateArn,
        logRetentionDays: config.logRetentionDays,
        containerInsights: config.containerInsights,
    },
    { providers: { aws: provider } },
);

// The stack outputs. The single-stage comparison appears only when it was built.
export = {
    url: service.url,
    imageRef: image.imageRef,
    imageSizeBytes: image.imageSizeBytes,
    imageSize: image.imageSize,
    repositoryUrl: image.repositoryUrl,
    clusterName: service.clusterName,
    serviceName: service.serviceName,
    logGroupName: service.logGroupName,
    ...(image.singleStageImageSizeBytes && image.imageSizeReduction
        ? { singleStageImageSizeBytes: image.singleStageImageSizeBytes, imageSizeReduction: image.imageSizeReduction }
        : {}),
};
