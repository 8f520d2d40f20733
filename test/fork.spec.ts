// engine spec: a fork, as a platform team makes one, in a copy of the repository: the
// declared service's folder (the calculator and its own tests) deleted, a service of the
// team's own made with `npm run new-service` (another name, port and health path), one
// setting and one secret set in Pulumi.dev.yaml, and then the platform's whole suite
// (`npm test`) run there, on the engine this machine has. It must pass unchanged.
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { repoRoot } from "../scripts/lib/docker";
import { copyRepository } from "./repo-copy";
import { projectName, service } from "./service-under-test";

/** Set in the fork's own run, whose suite holds this spec too: it does not fork again. */
const inner = "PLATFORM_FORK_TEST";

function sh(cwd: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string }> {
    return new Promise((resolve) => {
        const p = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (out += d));
        p.on("close", (code) => resolve({ code: code ?? 1, out }));
    });
}

describe("a fork with a service of its own", function () {
    this.timeout(30 * 60_000);

    it("passes the platform's suite, the sample and its tests deleted, a new service on another port and health path, with a setting and a secret", async function () {
        if (process.env[inner]) this.skip();
        const sample = path.relative(repoRoot, service.dir);
        const copy = copyRepository((f) => f.startsWith(`${sample}/`));
        try {
            const made = await sh(copy, process.execPath, [
                "-r",
                "./scripts/lib/transpile-cache.cjs",
                "scripts/new-service.ts",
                "greeter",
                "--port",
                "9090",
                "--health-path",
                "/health",
            ]);
            assert.equal(made.code, 0, made.out);
            assert.match(made.out, /infra\/services\.ts now lists greeter: /);
            // What the README tells a team to write in its stack file: a setting, and a secret as `pulumi config set --secret` leaves it.
            fs.appendFileSync(
                path.join(copy, "Pulumi.dev.yaml"),
                [
                    `  ${projectName}:environment:`,
                    "    GREETING: hello",
                    `  ${projectName}:secrets:`,
                    "    API_TOKEN:",
                    "      secure: v1:c3RhbmQtaW4=:c3RhbmQtaW4=",
                    "",
                ].join("\n"),
            );
            // A fork is a repository of its own: its history starts here.
            for (const args of [
                ["init", "--quiet"],
                ["add", "--all"],
                ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "fork"],
            ]) {
                const git = await sh(copy, "git", args);
                assert.equal(git.code, 0, git.out);
            }
            const run = await sh(copy, "bash", ["scripts/test.sh"], { ...process.env, [inner]: "1" });
            fs.writeFileSync(path.join(repoRoot, ".cache", "fork-test.log"), run.out);
            const passing = [...run.out.matchAll(/^\s*(\d+) passing/gm)].map((m) => Number(m[1]));
            assert.equal(run.code, 0, `the fork's npm test failed (whole log: .cache/fork-test.log):\n${run.out.slice(-6000)}`);
            assert.equal(passing.length, 2, `two mocha tiers, engine and mocks:\n${run.out.slice(-3000)}`);
            assert.ok(
                passing.every((n) => n > 20),
                `too few tests ran in the fork: ${passing.join(", ")}`,
            );
            assert.doesNotMatch(run.out, /^\s*\d+ failing/m);
            assert.match(run.out, /== go vet \.\/\.\.\. && go test -race \.\/\.\.\. \(services\/greeter\/\)/);
            assert.doesNotMatch(run.out, new RegExp(`\\(${sample}/\\)`), "the fork still tests the deleted sample");
            console.log(`      the fork's suite: ${passing.join(" + ")} passing`);
        } finally {
            fs.rmSync(copy, { recursive: true, force: true });
        }
    });
});
