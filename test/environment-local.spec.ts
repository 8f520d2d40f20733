// engine spec: `npm start` runs a stack of several services on the real engine: the
// stack's own, and the three examples (public on a path, internal, worker) added to a
// copy of the repository. Every container runs; the router follows the listener's
// rules; the internal service is found by its name; --service runs one alone.
import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { docker, freePort, httpRequest } from "../scripts/lib/docker";
import { engine } from "../scripts/lib/engine";
import { poll } from "../scripts/lib/poll";
import { addExamples, ledger, ports, web, worker } from "./examples";
import { copyRepository } from "./repo-copy";
import { suiteConfigFile } from "./suite-stack";
import { projectName, service as first } from "./service-under-test";

function startIn(copy: string, args: string[]): { p: ChildProcess; out: () => string; err: () => string } {
    const p = spawn(
        process.execPath,
        [
            "-r",
            path.join(copy, "scripts", "lib", "transpile-cache.cjs"),
            path.join(copy, "scripts", "local-stack.ts"),
            "--config-file",
            suiteConfigFile(),
            ...args,
        ],
        { cwd: copy, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    return { p, out: () => stdout, err: () => stderr };
}

const exited = (p: ChildProcess) => new Promise<number>((resolve) => p.on("close", (code) => resolve(code ?? 1)));

describe("npm start with several services (real engine)", function () {
    this.timeout(600_000);
    let copy: string;
    before(function () {
        copy = copyRepository();
        addExamples(copy);
    });
    after(() => fs.rmSync(copy, { recursive: true, force: true }));

    it("runs every service, routes by the listener's rules, lets the caller find the internal service by name, and removes them all on SIGTERM", async function () {
        const port = await freePort();
        const run = startIn(copy, ["--stack", "envtest", "--port", String(port)]);
        try {
            await poll(() => (/serving at http:\/\/127\.0\.0\.1:\d+/.test(run.err()) ? true : undefined), {
                timeoutMs: 540_000,
                intervalMs: 500,
                timedOut: () => new Error(`npm start never served:\n${run.err()}`),
            });
            const err = run.err();
            for (const s of [first.name, web, ledger, worker]) assert.match(err, new RegExp(`healthy: ${s}: `), s);
            assert.match(err, new RegExp(`healthy: ${worker}: its own health check \\(CMD /app healthcheck\\) passes`));
            assert.match(err, /: path \/web\/\* -> example-web/);
            // Through the router: /web/... reaches the web service (its own 404 names the path it got); the rest, the default.
            const routed = await httpRequest(`http://127.0.0.1:${port}/web/anything`);
            assert.equal(routed.status, 404);
            assert.deepEqual(JSON.parse(routed.body), { error: "no such path: /web/anything" });
            if (!first.route) {
                const health = await httpRequest(`http://127.0.0.1:${port}${first.container.healthCheckPath}`);
                assert.equal(health.status, 200, health.body);
            }
            // The internal service answers on its port, and its caller's container resolves its name to it.
            assert.equal((await httpRequest(`http://127.0.0.1:${ports.ledger}/healthz`)).status, 200);
            const hosts = await engine("GET", `/containers/${projectName}-envtest-${web}/json`);
            assert.deepEqual(hosts.HostConfig.ExtraHosts, [`${ledger}:127.0.0.1`]);
            const env = (hosts.Config.Env as string[]).find((e) => e.startsWith("EXAMPLE_LEDGER_URL="));
            assert.equal(env, `EXAMPLE_LEDGER_URL=http://${ledger}:${ports.ledger}`);
        } finally {
            run.p.kill("SIGTERM");
            assert.equal(await exited(run.p), 0, run.err());
        }
        assert.match(run.err(), /nothing is left running/);
        const left = await docker(["ps", "--all", "--quiet", "--filter", "label=com.pulumi.stack=envtest"]);
        assert.equal(left.trim(), "");
    });

    it("--check with --json: every service healthy, the outputs at the router's URL, nothing left running", async function () {
        const port = await freePort();
        const run = startIn(copy, ["--stack", "envcheck", "--port", String(port), "--check", "--json"]);
        assert.equal(await exited(run.p), 0, run.err());
        const outputs = JSON.parse(run.out());
        const services = outputs.services as Record<string, Record<string, unknown>>;
        assert.deepEqual(Object.keys(services).sort(), [first.name, web, ledger, worker].sort());
        assert.equal(services[web].url, `http://127.0.0.1:${port}/web/`);
        assert.equal(services[ledger].internalUrl, `http://${ledger}:${ports.ledger}`);
        assert.equal(services[worker].url, undefined);
        assert.equal(outputs.url, `http://127.0.0.1:${port}`);
    });

    it("--service NAME runs that one alone, on its own port; a name the stack has not is refused naming the services", async function () {
        const run = startIn(copy, ["--stack", "envone", "--service", worker, "--check", "--json"]);
        assert.equal(await exited(run.p), 0, run.err());
        assert.match(run.err(), new RegExp(`healthy: ${worker}'s own health check`));
        assert.equal(JSON.parse(run.out()).kind, "worker");
        const bad = startIn(copy, ["--service", "nope"]);
        assert.equal(await exited(bad.p), 1);
        assert.match(
            bad.err(),
            new RegExp(
                `--service nope: no service of this stack is named so \\(infra/services.ts lists ${first.name}, ${ledger}, ${web}, ${worker}\\)`,
            ),
        );
    });
});
