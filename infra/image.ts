// The service's container image: an ECR repository, the image built from
// app/ and pushed there, and its size as ECR stores it.
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

import { humanBytes, sizeReduction } from "./size";
import { SourceVersion } from "./source";

export interface ServiceImageArgs {
    /** Build context: the app/ folder. */
    context: string;
    /** Dockerfile of the image to deploy (multi-stage; its `runtime` stage). */
    dockerfile: string;
    /** linux/amd64 or linux/arm64: the platform of the Fargate tasks. */
    platform: string;
    source: SourceVersion;
    imagesToKeep: number;
    /** Also build this single-stage Dockerfile into the same repository, to compare sizes. */
    singleStageDockerfile?: string;
    /** Builder image for air-gapped builds (the GO_IMAGE build arg); the Dockerfile's default otherwise. */
    goImage?: string;
}

/** The ECR lifecycle policy: untagged images expire after a day; at most `keep` images stay. */
export function lifecyclePolicy(keep: number): string {
    return JSON.stringify({
        rules: [
            {
                rulePriority: 1,
                description: "Expire untagged images after a day",
                selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: `Keep the ${keep} most recent images`,
                selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
                action: { type: "expire" },
            },
        ],
    });
}

export class ServiceImage extends pulumi.ComponentResource {
    readonly repositoryUrl: pulumi.Output<string>;
    readonly repositoryName: pulumi.Output<string>;
    /** repository@sha256:...: changes exactly when the pushed image does. */
    readonly imageRef: pulumi.Output<string>;
    /** Compressed size ECR stores and Fargate pulls. */
    readonly imageSizeBytes: pulumi.Output<number>;
    readonly imageSize: pulumi.Output<string>;
    readonly singleStageImageSizeBytes?: pulumi.Output<number>;
    readonly imageSizeReduction?: pulumi.Output<string>;

    constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("calculator:index:ServiceImage", name, {}, opts);

        const repository = new aws.ecr.Repository(
            name,
            {
                forceDelete: true, // a short-lived stack must destroy with images inside
                imageTagMutability: "MUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
            },
            { parent: this },
        );
        new aws.ecr.LifecyclePolicy(
            "lifecycle",
            { repository: repository.name, policy: lifecyclePolicy(args.imagesToKeep) },
            { parent: this },
        );

        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent: this });
        const registry = {
            server: repository.repositoryUrl,
            username: token.userName,
            password: pulumi.secret(token.password),
        };

        const build = (resourceName: string, dockerfile: string, tag: string, target?: string) =>
            new docker.Image(
                resourceName,
                {
                    imageName: pulumi.interpolate`${repository.repositoryUrl}:${tag}`,
                    build: {
                        context: args.context,
                        dockerfile,
                        target,
                        platform: args.platform,
                        builderVersion: "BuilderBuildKit",
                        args: {
                            VERSION: args.source.version,
                            COMMIT: args.source.commit,
                            SOURCE_DATE_EPOCH: args.source.sourceDateEpoch,
                            ...(args.goImage ? { GO_IMAGE: args.goImage } : {}),
                        },
                    },
                    registry,
                },
                { parent: this },
            );
        const sizeOf = (image: docker.Image) =>
            aws.ecr
                .getImageOutput(
                    {
                        repositoryName: repository.name,
                        imageDigest: image.repoDigest.apply(digestOf),
                    },
                    { parent: this },
                )
                .apply((i) => i.imageSizeInBytes);

        const image = build("image", args.dockerfile, args.source.version, "runtime");
        this.repositoryUrl = repository.repositoryUrl;
        this.repositoryName = repository.name;
        this.imageRef = image.repoDigest;
        this.imageSizeBytes = sizeOf(image);
        this.imageSize = this.imageSizeBytes.apply(humanBytes);

        if (args.singleStageDockerfile) {
            const single = build("single-stage-image", args.singleStageDockerfile, `${args.source.version}-single-stage`);
            this.singleStageImageSizeBytes = sizeOf(single);
            this.imageSizeReduction = pulumi
                .all([this.singleStageImageSizeBytes, this.imageSizeBytes])
                .apply(([s, m]) => sizeReduction(s, m));
        }

        this.registerOutputs({
            repositoryUrl: this.repositoryUrl,
            imageRef: this.imageRef,
            imageSizeBytes: this.imageSizeBytes,
            singleStageImageSizeBytes: this.singleStageImageSizeBytes,
        });
    }
}

/** "repo@sha256:abc" -> "sha256:abc". */
export function digestOf(repoDigest: string): string {
    const at = repoDigest.lastIndexOf("@");
    if (at < 0 || !repoDigest.slice(at + 1).startsWith("sha256:")) {
        throw new Error(`not a repository digest: ${repoDigest}`);
    }
    return repoDigest.slice(at + 1);
}
