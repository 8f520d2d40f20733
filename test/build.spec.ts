// engine spec: how the platform builds, caches and pushes the service's image, on a
// real Docker engine and a real registry on 127.0.0.1, whichever service infra/services.ts
// declares (the calculator's own image tests are in app/test/).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { contextFiles } from "../infra/source";
import {
    build,
    buildSteps,
    docker,
    dockerEnv,
    dockerRaw,
    httpRequest,
    filesTheBuildSees,
    inspect,
    push,
    registryImage,
} from "../scripts/lib/docker";
import { service, svcName } from "./service-under-test";

const buildArgs = { VERSION: "src-0123456789ab", SOURCE_URL: "https://example.com/service" };
const imageTag = `${svcName}-build-test:${process.pid}`;

function tmpDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

describe("the service's image, as the platform builds it (real Docker engine)", function () {
    let imageId: string;

    before(async function () {
        dockerEnv(); // fails here, with how to get an engine, when there is none
        const res = await build({ context: service.dir, target: service.target, tags: [imageTag], buildArgs });
        assert.ok(res.imageId, "the build produced no image ID");
        imageId = res.imageId;
    });

    after(async function () {
        await dockerRaw(["rmi", "--force", imageTag]).catch(() => undefined);
    });

    describe("caching", function () {
        it("on an engine without build cache, takes the layers of an image already pushed (inline cache, --cache-from)", async function () {
            // As the program builds: cache metadata inline, the image's own reference as the cache source.
            const { registry } = dockerEnv();
            const ref = `${registry}/${svcName}-cache-${process.pid}:src-cache-test-amd64`;
            const args = { ...buildArgs, VERSION: `src-cache-${process.pid}`, BUILDKIT_INLINE_CACHE: "1" };
            const dropBuildCache = async () => {
                await dockerRaw(["rmi", ref]);
                // What a fresh CI runner lacks: build records and the local context (Go's cache mounts may stay).
                for (const type of ["regular", "source.local"])
                    await docker(["builder", "prune", "--all", "--force", "--filter", `type=${type}`]);
            };
            try {
                const first = await build({ context: service.dir, target: service.target, buildArgs: args, tags: [ref], cacheFrom: [ref] });
                const layers = (await inspect(first.imageId!)).RootFS.Layers;
                await push(ref);

                await dropBuildCache();
                const uncached = await build({ context: service.dir, target: service.target, buildArgs: args, tags: [ref] });
                assert.ok(
                    buildSteps(uncached.log).some((s) => !s.cached),
                    "the build cache was not dropped",
                );

                await dropBuildCache();
                const cached = await build({
                    context: service.dir,
                    target: service.target,
                    buildArgs: args,
                    tags: [ref],
                    cacheFrom: [ref],
                });
                assert.match(cached.log, new RegExp(`importing cache manifest from ${ref.replace(/[.]/g, "\\.")}`));
                const steps = buildSteps(cached.log);
                assert.deepEqual(
                    steps.filter((s) => !s.cached).map((s) => s.name),
                    [],
                    "steps were built again",
                );
                assert.deepEqual((await inspect(cached.imageId!)).RootFS.Layers, layers);
                console.log(`      uncached ${uncached.seconds.toFixed(1)} s, from the registry's cache ${cached.seconds.toFixed(1)} s`);
            } finally {
                await dockerRaw(["rmi", ref]);
            }
        });

        it("a no-op rebuild takes every step from the cache", async function () {
            await build({ context: service.dir, target: service.target, buildArgs });
            const res = await build({ context: service.dir, target: service.target, buildArgs });
            const steps = buildSteps(res.log);
            assert.ok(steps.length >= 5, `too few steps parsed from the build log:\n${res.log}`);
            assert.deepEqual(
                steps.filter((s) => !s.cached).map((s) => s.name),
                [],
                "steps rebuilt although nothing changed",
            );
        });
    });

    describe("registry", function () {
        it("takes a push, and the compressed size is read from its manifest", async function () {
            const { registry } = dockerEnv();
            const repository = `${svcName}-test-${process.pid}`;
            const ref = `${registry}/${repository}:push-test`;
            await docker(["tag", imageId, ref]);
            try {
                const digest = await push(ref);
                const remote = await registryImage(registry, repository, "push-test");
                assert.equal(remote.digest, digest);
                assert.equal(remote.architecture, "amd64");
                const byDigest = await registryImage(registry, repository, digest);
                assert.equal(byDigest.compressedBytes, remote.compressedBytes);

                // Each layer blob the manifest names is stored at the size it states.
                let blobBytes = 0;
                for (const layer of remote.layers) {
                    const head = await httpRequest(`http://${registry}/v2/${repository}/blobs/${layer.digest}`, { method: "HEAD" });
                    assert.equal(head.status, 200);
                    blobBytes += Number(head.headers["content-length"]);
                }
                assert.equal(remote.compressedBytes, blobBytes);
                const uncompressed = (await inspect(imageId)).Size;
                assert.ok(remote.compressedBytes < uncompressed, "compressed size is not below the unpacked size");
                const repoDigests: string[] = (await inspect(imageId)).RepoDigests;
                assert.ok(
                    repoDigests.includes(`${registry}/${repository}@${digest}`),
                    `RepoDigests ${repoDigests.join(", ")} lack the pushed digest`,
                );
                console.log(`      pushed ${digest}: ${remote.compressedBytes} bytes compressed, ${uncompressed} unpacked`);
            } finally {
                await dockerRaw(["rmi", ref]);
            }
        });
    });

    describe("build context", function () {
        it("the version's digest covers exactly the files the build sees of the service's folder", async function () {
            assert.deepEqual(contextFiles(service.dir), (await filesTheBuildSees(service.dir)).sort());
        });

        it("reads .dockerignore as the engine does: comments, anchors, **, exceptions, parent folders", async function () {
            const context = tmpDir("dockerignore-");
            try {
                const files = [
                    "main.go",
                    "go.mod",
                    "README.md",
                    "notes.txt",
                    ".env",
                    "q1.go",
                    "sp ace.go",
                    "a/x.go",
                    "a/b/y.go",
                    "a/b/c/z.go",
                    "a/b/c/z.txt",
                    "docs/d.md",
                    "internal/x/x.go",
                    "internal/x/testdata/t.json",
                    "vendor/m/m.go",
                    "vendor/n.go",
                ];
                for (const f of files) {
                    fs.mkdirSync(path.dirname(path.join(context, f)), { recursive: true });
                    fs.writeFileSync(path.join(context, f), f);
                }
                fs.writeFileSync(
                    path.join(context, ".dockerignore"),
                    [
                        "# a comment",
                        "*.md",
                        "!README.md",
                        "/notes.txt",
                        "**/c",
                        "vendor",
                        "!vendor/m/m.go",
                        "./.env",
                        "a/b/*.go",
                        "internal/**/testdata",
                        "q?.go",
                        "",
                    ].join("\n"),
                );
                const seen = (await filesTheBuildSees(context)).sort();
                assert.deepEqual(seen, [
                    ".dockerignore",
                    "README.md",
                    "a/x.go",
                    "docs/d.md",
                    "go.mod",
                    "internal/x/x.go",
                    "main.go",
                    "sp ace.go",
                    "vendor/m/m.go",
                ]);
                assert.deepEqual(contextFiles(context), seen);
            } finally {
                fs.rmSync(context, { recursive: true, force: true });
            }
        });
    });
});
