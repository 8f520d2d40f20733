// `npm run -s source-version`: from the version /version answers to the source
// it names, and back, on a real git history.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { imageSource } from "../infra/source";
import { repoRoot } from "../scripts/lib/docker";
import { service } from "./service-under-test";

const folder = path.relative(repoRoot, service.dir);
import { findVersion, versionAt } from "../scripts/source-version";
import { runUnderMocks } from "../scripts/lib/harness";

describe("source-version", function () {
    this.timeout(120_000);

    it("prints the version the program stamps on this checkout's image", async function () {
        const printed = execFileSync(
            process.execPath,
            ["-r", path.join(repoRoot, "scripts", "lib", "transpile-cache.cjs"), path.join(repoRoot, "scripts", "source-version.ts")],
            {
                cwd: repoRoot,
                encoding: "utf8",
                env: process.env,
            },
        ).trim();
        const run = await runUnderMocks();
        assert.equal(printed, run.inputs("docker:index/image:Image").build.args.VERSION);
        assert.match(printed, /^src-[0-9a-f]{12}$/);
    });

    it("finds the commits a version names, and the version of a commit", function () {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "history-"));
        const git = (...args: string[]) =>
            execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: root, encoding: "utf8" }).trim();
        try {
            git("init", "--quiet");
            fs.cpSync(service.dir, path.join(root, folder), { recursive: true });
            fs.writeFileSync(path.join(root, "README.md"), "first\n");
            git("add", "--all");
            git("commit", "--quiet", "-m", "first version");
            const first = git("rev-parse", "HEAD");
            const v1 = imageSource(path.join(root, folder), path.join(root, folder, "Dockerfile")).version;

            fs.appendFileSync(path.join(root, folder, "Dockerfile"), "\n# a change\n");
            git("commit", "--quiet", "-am", "second version");
            const second = git("rev-parse", "HEAD");
            const v2 = imageSource(path.join(root, folder), path.join(root, folder, "Dockerfile")).version;
            fs.appendFileSync(path.join(root, "README.md"), "a README-only change\n");
            git("commit", "--quiet", "-am", "README only");

            assert.notEqual(v1, v2);
            assert.equal(versionAt(first, root), v1);
            assert.equal(versionAt(second, root), v2);
            assert.equal(versionAt("HEAD", root), v2, "a commit outside the service folder keeps the version");
            assert.deepEqual(
                findVersion(v1, root).map((l) => l.split(" ")[0]),
                [first],
            );
            assert.deepEqual(
                findVersion(v2, root).map((l) => l.split(" ")[0]),
                [second],
            );
            assert.match(findVersion(v2, root)[0], / second version$/);
            assert.deepEqual(findVersion("src-000000000000", root), []);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});
