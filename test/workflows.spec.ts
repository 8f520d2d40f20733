// The workflows' shell steps, run for real: each step's script from the
// workflow file, in a fresh checkout (as a runner has it), with a stand-in
// `pulumi` on PATH that answers as the CLI does (the stack exists, does not
// exist, or the backend fails) and keeps a record of what it was asked.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";

import { repoRoot } from "../scripts/lib/docker";

interface Workflow {
    on: Record<string, { types?: string[]; branches?: string[] }>;
    permissions?: Record<string, string>;
    jobs: Record<string, { if?: string; steps: { name?: string; uses?: string; run?: string; with?: Record<string, string> }[] }>;
}

function workflow(file: string): Workflow {
    return yaml.load(fs.readFileSync(path.join(repoRoot, ".github", "workflows", file), "utf8")) as Workflow;
}

function step(file: string, job: string, name: string): string {
    const found = workflow(file).jobs[job].steps.find((s) => s.name === name);
    assert.ok(found?.run, `${file}: job ${job} has no step "${name}" with a script`);
    return found.run;
}

/**
 * The Pulumi CLI as these steps meet it. Stacks live in the backend (a folder); the stack's
 * config file lives in the checkout, as Pulumi.<stack>.yaml does. FAKE_PULUMI_FAIL makes every
 * command fail as an unreachable or unauthorised backend does; FAKE_DESTROY_FAILURES makes that
 * many destroys fail first.
 */
const standIn = String.raw`#!/usr/bin/env bash
set -u
backend="$FAKE_PULUMI_BACKEND"
echo "$*" >>"$backend/calls"
if [[ -n "${"${FAKE_PULUMI_FAIL:-}"}" ]]; then
	echo "error: $FAKE_PULUMI_FAIL" >&2
	exit 255
fi
flag() { # the value after --NAME in the arguments
	local name="$1"
	shift
	while (($#)); do
		[[ "$1" == "--$name" ]] && { echo "$2"; return; }
		shift
	done
}
case "$1 $2" in
"stack select")
	[[ -e "$backend/stacks/$3" ]] && exit 0
	echo "error: no stack named '$3' found" >&2
	exit 255 ;;
"stack init")
	mkdir -p "$backend/stacks" && : >"$backend/stacks/$3"
	echo "encryptionsalt: v1:stand-in" >"Pulumi.$3.yaml" ;;
"stack rm")
	rm -f "$backend/stacks/$4" ;;
"config cp")
	src="$(flag stack "$@")" dest="$(flag dest "$@")"
	[[ -e "$backend/stacks/$dest" ]] || { echo "error: no stack named '$dest' found" >&2; exit 255; }
	grep -v '^encryptionsalt' "Pulumi.$src.yaml" >>"Pulumi.$dest.yaml" ;;
"up --yes")
	stack="$(flag stack "$@")"
	{ echo "== up $stack"; cat "Pulumi.$stack.yaml" 2>/dev/null || echo "(no Pulumi.$stack.yaml)"; } >>"$backend/deployed" ;;
"destroy --yes")
	n="$(cat "$backend/destroy-failures" 2>/dev/null || echo "${"${FAKE_DESTROY_FAILURES:-0}"}")"
	if ((n > 0)); then
		echo $((n - 1)) >"$backend/destroy-failures"
		echo "error: update failed" >&2
		exit 255
	fi ;;
*)
	echo "stand-in pulumi: no answer for: $*" >&2
	exit 2 ;;
esac
`;

interface Outcome {
    status: number;
    output: string;
    calls: string[];
    stacks: string[];
    deployed: string;
}

/** A runner: a fresh checkout (the project files the steps read) and a backend shared between runs. */
class Runner {
    readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "workflow-"));
    readonly backend = path.join(this.root, "backend");
    private readonly bin = path.join(this.root, "bin");
    private checkouts = 0;

    constructor() {
        fs.mkdirSync(path.join(this.backend, "stacks"), { recursive: true });
        fs.mkdirSync(this.bin);
        fs.writeFileSync(path.join(this.bin, "pulumi"), standIn, { mode: 0o755 });
    }

    stackExists(name: string): this {
        fs.writeFileSync(path.join(this.backend, "stacks", name), "");
        return this;
    }

    /** A new checkout, as each workflow run starts with: tracked files only, no Pulumi.<pr>.yaml. */
    checkout(): string {
        const dir = path.join(this.root, `checkout-${++this.checkouts}`);
        for (const file of ["Pulumi.yaml", "Pulumi.dev.yaml", "scripts/ci/stack-exists.sh"]) {
            fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
            fs.copyFileSync(path.join(repoRoot, file), path.join(dir, file));
            fs.chmodSync(path.join(dir, file), fs.statSync(path.join(repoRoot, file)).mode);
        }
        return dir;
    }

    /** Runs a step's script as GitHub's runner does when no shell is named: bash -e. */
    run(script: string, cwd: string, env: Record<string, string> = {}): Outcome {
        const res = spawnSync("bash", ["-e", "-c", script], {
            cwd,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...process.env, PATH: `${this.bin}:${process.env.PATH}`, PR_STACK: "pr-7", FAKE_PULUMI_BACKEND: this.backend, ...env },
        });
        const read = (f: string) => (fs.existsSync(path.join(this.backend, f)) ? fs.readFileSync(path.join(this.backend, f), "utf8") : "");
        return {
            status: res.status ?? -1,
            output: res.stdout + res.stderr,
            calls: read("calls").trim().split("\n").filter(Boolean),
            stacks: fs.readdirSync(path.join(this.backend, "stacks")).sort(),
            deployed: read("deployed"),
        };
    }

    remove(): void {
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}

const unreachable = "failed to get stack: 401 Unauthorized: token expired";

const assumesRole = (s: { uses?: string }) => s.uses?.startsWith("aws-actions/configure-aws-credentials") ?? false;

describe("workflows: the AWS role each assumes", function () {
    // The deploy roles of infra/ci-identities trust one GitHub event each: a workflow on another would be refused.
    const expected: [string, string, string][] = [
        ["pull-request.yml", "pull_request", "vars.AWS_PULL_REQUEST_ROLE_ARN"],
        ["pull-request-closed.yml", "pull_request", "vars.AWS_PULL_REQUEST_ROLE_ARN"],
        ["main.yml", "push", "vars.AWS_MAIN_ROLE_ARN"],
    ];
    for (const [file, event, variable] of expected) {
        it(`${file}: runs on ${event} only, asks for an OIDC token, and assumes ${variable.replace("vars.", "")} in every job that uses AWS${event === "pull_request" ? " (skipped for a fork's pull request)" : ""}`, function () {
            const w = workflow(file);
            assert.deepEqual(Object.keys(w.on), [event]);
            if (event === "push") assert.deepEqual(w.on.push.branches, ["main"], "the main role trusts refs/heads/main alone");
            assert.equal(w.permissions?.["id-token"], "write");
            const assumed = Object.values(w.jobs).flatMap((j) => j.steps.filter(assumesRole).map((s) => s.with?.["role-to-assume"]));
            assert.ok(assumed.length > 0, `${file} assumes no role`);
            assert.deepEqual([...new Set(assumed)], [`\${{ ${variable} }}`]);
            if (event === "pull_request") {
                // GitHub gives a fork's pull_request run no OIDC token: its AWS jobs are skipped, not failed.
                for (const [name, job] of Object.entries(w.jobs).filter(([, j]) => j.steps.some(assumesRole)))
                    assert.equal(job.if, "github.event.pull_request.head.repo.full_name == github.repository", `${file}: job ${name}`);
            }
        });
    }
});

describe("workflows: the shell steps, with a stand-in Pulumi CLI", function () {
    let runner: Runner;
    beforeEach(() => (runner = new Runner()));
    afterEach(() => runner.remove());

    describe("pull-request.yml deploy", function () {
        const select = step("pull-request.yml", "deploy", "Create or select the pull request's stack, with dev's config");
        const up = step("pull-request.yml", "deploy", "pulumi up");
        const dev = fs.readFileSync(path.join(repoRoot, "Pulumi.dev.yaml"), "utf8");
        const devKeys = dev.split("\n").filter((l) => /^\s+\S+:/.test(l));

        it("deploys dev's configuration on the first push and on every later one, each on a new runner", function () {
            for (const push of [1, 2, 3]) {
                const checkout = runner.checkout();
                assert.equal(runner.run(select, checkout).status, 0, `push ${push}`);
                const result = runner.run(up, checkout);
                assert.equal(result.status, 0, result.output);
            }
            const runs = runner.run("true", runner.checkout()).deployed.split("== up pr-7\n").filter(Boolean);
            assert.equal(runs.length, 3);
            for (const [i, config] of runs.entries()) {
                for (const line of devKeys)
                    assert.ok(config.includes(line.trim()), `push ${i + 1} deployed without ${line.trim()}:\n${config}`);
            }
            const calls = runner.run("true", runner.checkout()).calls;
            assert.equal(calls.filter((c) => c.startsWith("stack init")).length, 1, "the stack is made once");
            assert.equal(calls.filter((c) => c === "config cp --stack dev --dest pr-7").length, 3);
        });

        it("fails, and creates nothing, when the backend cannot say whether the stack exists", function () {
            const result = runner.run(select, runner.checkout(), { FAKE_PULUMI_FAIL: unreachable });
            assert.notEqual(result.status, 0);
            assert.match(result.output, /401 Unauthorized/);
            assert.match(result.output, /could not tell whether stack pr-7 exists/);
            assert.deepEqual(result.calls, ["stack select pr-7"]);
        });
    });

    describe("pull-request-closed.yml destroy", function () {
        const destroy = step("pull-request-closed.yml", "destroy", "Destroy the stack");

        it("destroys the pull request's stack and removes it", function () {
            const result = runner.stackExists("pr-7").stackExists("dev").run(destroy, runner.checkout());
            assert.equal(result.status, 0, result.output);
            assert.deepEqual(result.calls, ["stack select pr-7", "destroy --yes --stack pr-7", "stack rm --yes pr-7"]);
            assert.deepEqual(result.stacks, ["dev"]);
        });

        it("with no such stack (the pull request never deployed), succeeds and destroys nothing", function () {
            const result = runner.run(destroy, runner.checkout());
            assert.equal(result.status, 0, result.output);
            assert.match(result.output, /no stack pr-7: nothing to destroy/);
            assert.deepEqual(result.calls, ["stack select pr-7"]);
        });

        it("fails loudly when the backend cannot be asked (an expired token, a wrong URL), instead of leaving the stack running", function () {
            const result = runner.stackExists("pr-7").run(destroy, runner.checkout(), { FAKE_PULUMI_FAIL: unreachable });
            assert.notEqual(result.status, 0);
            assert.match(result.output, /401 Unauthorized/);
            assert.deepEqual(result.calls, ["stack select pr-7"]);
            assert.deepEqual(result.stacks, ["pr-7"]);
        });

        it("retries a failed destroy once with --refresh; if that fails too, fails and keeps the stack", function () {
            const once = runner.stackExists("pr-7").run(destroy, runner.checkout(), { FAKE_DESTROY_FAILURES: "1" });
            assert.equal(once.status, 0, once.output);
            assert.deepEqual(once.calls.slice(1), [
                "destroy --yes --stack pr-7",
                "destroy --yes --refresh --stack pr-7",
                "stack rm --yes pr-7",
            ]);
            runner.remove();
            runner = new Runner();
            const twice = runner.stackExists("pr-7").run(destroy, runner.checkout(), { FAKE_DESTROY_FAILURES: "2" });
            assert.equal(twice.status, 1);
            assert.match(twice.output, /could not destroy pr-7: its AWS resources are still running/);
            assert.deepEqual(twice.stacks, ["pr-7"], "a stack that still has resources must not be removed");
        });

        it("checks out the base branch: the destroy needs none of the pull request's code", function () {
            const checkout = workflow("pull-request-closed.yml").jobs.destroy.steps.find((s) => s.uses?.startsWith("actions/checkout"));
            assert.equal(checkout?.with?.ref, "${{ github.event.pull_request.base.ref }}");
        });
    });
});
