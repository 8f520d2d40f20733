// The service's container image: an ECR repository, the image built from
// the service's folder and pushed there, and its size as ECR stores it.
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

import { Children, NamingArgs, componentAliases } from "./naming";
import { humanBytes, sizeReduction } from "./size";
import { ImageSource } from "./source";

export interface ServiceImageArgs extends NamingArgs {
    /** The service's folder and its Dockerfile. */
    source: ImageSource;
    /** The Dockerfile stage to deploy; none: its last. */
    target?: string;
    /** linux/amd64 or linux/arm64: the platform of the Fargate tasks. */
    platform: string;
    imagesToKeep: number;
    /** Also build the service's single-stage Dockerfile into the same repository, to compare sizes. */
    singleStage?: ImageSource;
    /** Build arguments of the Dockerfile's own (the calculator's GO_IMAGE, for air-gapped builders). */
    buildArgs?: Record<string, string>;
    /** The source repository's URL, for the image's org.opencontainers.image.source label. */
    sourceUrl?: string;
}

/** The image's tag: its source version and architecture, so that each platform's build has its own. */
export function imageTag(version: string, platform: string, variant = ""): string {
    return `${version}${variant ? `-${variant}` : ""}-${platform.split("/")[1]}`;
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
        super("calculator:index:ServiceImage", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), ...componentAliases(args)] });

        const c = new Children(this, name, args);
        // Named as the component itself (the first version did so too): one repository per component.
        const repository = new aws.ecr.Repository(
            name,
            {
                forceDelete: true, // a short-lived stack must destroy with images inside
                imageTagMutability: "MUTABLE",
                // Reads OS packages only: a scratch image has none (govulncheck in the workflows sees the Go code).
                imageScanningConfiguration: { scanOnPush: true },
            },
            { parent: this },
        );
        c.make(aws.ecr.LifecyclePolicy, "lifecycle", { repository: repository.name, policy: lifecyclePolicy(args.imagesToKeep) });

        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, { parent: this });
        const registry = {
            server: repository.repositoryUrl,
            username: token.userName,
            password: pulumi.secret(token.password),
        };

        const build = (resourceName: string, source: ImageSource, tag: string, target?: string) => {
            const imageName = pulumi.interpolate`${repository.repositoryUrl}:${tag}`;
            // Take layers from the registry only for a version it already holds (a revert): the provider
            // pulls each cacheFrom image before building and reports every one it cannot pull, which on
            // a new version is its own tag. The registry is asked once per version and the answer kept
            // in the state (a Stash, replaced with the version), or the push would change the inputs of
            // the next run and rebuild the image every other update.
            // Its input is asked anew on every run, and after a push the answer flips: the engine would show an
            // update of the Stash on every later preview. Its changes are ignored; a new version replaces it.
            const held = c.make(
                pulumi.Stash,
                `${resourceName}-in-registry`,
                { input: repository.name.apply((repositoryName) => registryHolds(repositoryName, tag, { parent: this })) },
                { replacementTrigger: tag, ignoreChanges: ["input"] },
            );
            return c.make(docker.Image, resourceName, {
                imageName,
                build: {
                    context: source.context,
                    dockerfile: source.dockerfile,
                    target,
                    platform: args.platform,
                    builderVersion: "BuilderBuildKit",
                    cacheFrom: pulumi
                        .all([held.output, imageName])
                        .apply(([inRegistry, name]) => (inRegistry === true ? { images: [name] } : undefined)),
                    args: {
                        VERSION: source.version,
                        // File times in the image; BuildKit 0.11 and later date the image config from it too.
                        SOURCE_DATE_EPOCH: "0",
                        // Cache metadata in the image, for a later build of the same source to take its layers.
                        BUILDKIT_INLINE_CACHE: "1",
                        ...(args.sourceUrl ? { SOURCE_URL: args.sourceUrl } : {}),
                        ...args.buildArgs,
                    },
                },
                registry,
            });
        };
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

        const image = build("image", args.source, imageTag(args.source.version, args.platform), args.target);
        this.repositoryUrl = repository.repositoryUrl;
        this.repositoryName = repository.name;
        this.imageRef = image.repoDigest;
        this.imageSizeBytes = sizeOf(image);
        this.imageSize = this.imageSizeBytes.apply(humanBytes);

        if (args.singleStage) {
            const single = build("single-stage-image", args.singleStage, imageTag(args.singleStage.version, args.platform, "single-stage"));
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

/** Whether the repository holds an image under the tag (false when it does not, or does not exist yet). */
async function registryHolds(repositoryName: string, imageTag: string, opts: pulumi.InvokeOptions): Promise<boolean> {
    try {
        await aws.ecr.getImage({ repositoryName, imageTag }, opts);
        return true;
    } catch {
        return false;
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
