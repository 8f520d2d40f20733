// The workflows: which job holds which credential (read from the workflow
// files), and their shell steps, run for real: each step's script from the
// workflow file, in a fresh checkout (as a runner has it), with a stand-in
// `pulumi` on PATH that answers as the CLI does (the stack exists, does not
// exist, or the backend fails) and keeps a record of what it was asked.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";

import { ciProject } from "../infra/ci-identities/config";
import { projectRoot, readProject } from "../infra/project";
import { repoRoot } from "../scripts/lib/docker";

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, string>;
    env?: Record<string, string>;
}
interface Job {
    if?: string;
    environment?: string;
    permissions?: Record<string, string>;
    env?: Record<string, string>;
    concurrency?: { group: string; "cancel-in-progress"?: boolean };
    steps: Step[];
}
interface Workflow {
    on: Record<string, { types?: string[]; branches?: string[] }>;
    permissions?: Record<string, string>;
    env?: Record<string, string>;
    jobs: Record<string, Job>;
}
const workflowFiles = fs.readdirSync(path.join(repoRoot, ".github", "workflows")).filter((f) => f.endsWith(".yml"));
const pullRequestWorkflows = workflowFiles.filter((f) => "pull_request" in workflow(f).on);

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
# The stack file's secrets provider: the one it names, else (a new runner's checkout has no file)
# the state's with PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true, else a new one
# (pkg/cmd/pulumi/stack/secrets.go, GetSecretsManager).
provider() {
	local file="Pulumi.$1.yaml"
	grep -q '^encryptionsalt' "$file" 2>/dev/null && return
	local salt="v1:new-$RANDOM"
	[[ "${"${PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER:-}"}" == true ]] && salt="$(cat "$backend/stacks/$1")"
	{ echo "encryptionsalt: $salt"; cat "$file" 2>/dev/null; } >"$file.new" && mv "$file.new" "$file"
}
case "$1 $2" in
"stack select")
	[[ -e "$backend/stacks/$3" ]] && exit 0
	echo "error: no stack named '$3' found" >&2
	exit 255 ;;
"stack init")
	mkdir -p "$backend/stacks" && echo "v1:stand-in" >"$backend/stacks/$3"
	echo "encryptionsalt: v1:stand-in" >"Pulumi.$3.yaml" ;;
"stack rm")
	rm -f "$backend/stacks/$4" ;;
"config set")
	# The value on stdin, as the CLI reads it when stdin is not a terminal (pkg/cmd/pulumi/config/config.go).
	stack="$(flag stack "$@")" key="$(flag path "$@")"
	[[ -e "$backend/stacks/$stack" ]] || { echo "error: no stack named '$stack' found" >&2; exit 255; }
	[[ "$*" == *--secret* ]] || { echo "stand-in pulumi: a plain config set of $key" >&2; exit 2; }
	provider "$stack"
	printf '%s %s=%s\n' "$stack" "$key" "$(cat)" >>"$backend/secrets-set" ;;
"up --yes")
	stack="$(flag stack "$@")"
	provider "$stack"
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
    /** What `pulumi config set --secret` was given, one "STACK KEY=VALUE" a line. */
    secretsSet: string[];
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
        for (const file of [
            "Pulumi.yaml",
            "tsconfig.json",
            "infra/project.ts",
            ...fs.readdirSync(path.join(repoRoot, "scripts", "ci")).map((f) => `scripts/ci/${f}`),
        ]) {
            fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
            fs.copyFileSync(path.join(repoRoot, file), path.join(dir, file));
            fs.chmodSync(path.join(dir, file), fs.statSync(path.join(repoRoot, file)).mode);
        }
        // The suite's own main stack file, not the team's Pulumi.dev.yaml; and `npm ci`'s packages.
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), devStackFile);
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"));
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
            secretsSet: read("secrets-set").trim().split("\n").filter(Boolean),
        };
    }

    remove(): void {
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}

const unreachable = "failed to get stack: 401 Unauthorized: token expired";
const project = readProject(projectRoot).name;
/** The suite's main stack file: plain settings, a map, a secret setting, and secrets by value and by ARN. */
const devStackFile = `encryptionsalt: v1:dev-salt
config:
  aws:region: us-east-1
  ${project}:cpu: "512"
  ${project}:maxCount: "3"
  ${project}:vpc: default
  ${project}:environment:
    GREETING: hello from dev
  ${project}:alarmEmail:
    secure: v1:dev-alarm-email
  ${project}:secrets:
    DB_PASSWORD:
      secure: v1:dev-db-password
    SHARED_URL: arn:aws:ssm:us-east-1:123456789012:parameter/dev/shared-url
`;

const assumesRole = (s: { uses?: string }) => s.uses?.startsWith("aws-actions/configure-aws-credentials") ?? false;

/** Every `secrets.NAME` an expression of `value` names. */
function secretsNamed(value: unknown): string[] {
    return [...JSON.stringify(value ?? {}).matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
}

/** The stacks a job's Pulumi steps act on: pulumi/actions' stack-name, and --stack/-s of a CLI call. */
function stacksOf(job: Job): string[] {
    return job.steps.flatMap((s) => [
        ...(s.uses?.startsWith("pulumi/actions") && s.with?.["stack-name"] ? [s.with["stack-name"]] : []),
        ...[...(s.run ?? "").matchAll(/\bpulumi\b[^\n]*?(?:--stack|-s)[ =]("?)([^"\s]+)\1/g)].map((m) => m[2]),
    ]);
}

const devDeployEnvironment = ciProject.config.mainEnvironment.default;
const pullRequestEnvironment = ciProject.config.pullRequestEnvironment.default;
/** GitHub runs a fork's, and Dependabot's, pull_request workflows with a read-only token, no secrets and no OIDC token. */
const ownPullRequests = "github.event.pull_request.head.repo.full_name == github.repository && github.actor != 'dependabot[bot]'";

describe("workflows: the AWS role each assumes", function () {
    // The deploy roles of infra/ci-identities trust the jobs of one GitHub environment each: a job of another is refused.
    const expected: [string, string, string, string][] = [
        ["pull-request.yml", "pull_request", "vars.AWS_PULL_REQUEST_ROLE_ARN", pullRequestEnvironment],
        ["pull-request-closed.yml", "pull_request", "vars.AWS_PULL_REQUEST_ROLE_ARN", pullRequestEnvironment],
        ["main.yml", "push", "vars.AWS_MAIN_ROLE_ARN", devDeployEnvironment],
    ];
    it("covers every workflow", function () {
        assert.deepEqual(expected.map(([f]) => f).sort(), [...workflowFiles].sort());
    });
    for (const [file, event, variable, environment] of expected) {
        it(`${file}: runs on ${event} only, and assumes ${variable.replace("vars.", "")} only in jobs of the ${environment} environment, which alone ask for an OIDC token${event === "pull_request" ? " (skipped for a fork's pull request and Dependabot's)" : ""}`, function () {
            const w = workflow(file);
            assert.deepEqual(Object.keys(w.on), [event]);
            if (event === "push") assert.deepEqual(w.on.push.branches, ["main"]);
            assert.equal(w.permissions?.["id-token"], undefined, `${file}: no OIDC token for every job`);
            const aws = Object.entries(w.jobs).filter(([, j]) => j.steps.some(assumesRole));
            assert.ok(aws.length > 0, `${file} assumes no role`);
            for (const [name, job] of aws) {
                assert.deepEqual(
                    job.steps.filter(assumesRole).map((s) => s.with?.["role-to-assume"]),
                    [`\${{ ${variable} }}`],
                    `${file}: job ${name}`,
                );
                assert.equal(job.environment, environment, `${file}: job ${name} runs in the environment its role trusts`);
                assert.equal(job.permissions?.["id-token"], "write", `${file}: job ${name}`);
                if (event === "pull_request") assert.equal(job.if, ownPullRequests, `${file}: job ${name}`);
            }
            for (const [name, job] of Object.entries(w.jobs).filter(([, j]) => !j.steps.some(assumesRole)))
                assert.equal(job.permissions?.["id-token"], undefined, `${file}: job ${name} assumes no role and gets no OIDC token`);
        });
    }
});

describe("workflows: what each job holds", function () {
    it("no secret is in a workflow's env, which every job, the branch's tests included, would hold", function () {
        for (const file of workflowFiles) assert.deepEqual(secretsNamed(workflow(file).env), [], file);
    });
    it("a job outside an environment holds no secret but the run's own GitHub token (the tests, govulncheck)", function () {
        for (const file of workflowFiles)
            for (const [name, job] of Object.entries(workflow(file).jobs).filter(([, j]) => j.environment === undefined))
                assert.deepEqual(
                    secretsNamed(job).filter((n) => n !== "GITHUB_TOKEN"),
                    [],
                    `${file}: job ${name}`,
                );
    });
    it("a pull request's jobs run in the pull requests' environment, never dev's, and act on their own stack, never dev", function () {
        assert.ok(pullRequestWorkflows.length > 0);
        for (const file of pullRequestWorkflows)
            for (const [name, job] of Object.entries(workflow(file).jobs)) {
                assert.ok([undefined, pullRequestEnvironment].includes(job.environment), `${file}: job ${name}: ${job.environment}`);
                assert.deepEqual(
                    stacksOf(job).filter((st) => st !== "$PR_STACK"),
                    [],
                    `${file}: job ${name} acts on another stack than its own`,
                );
            }
    });
    it("a pull request's jobs on a new runner take the secrets provider from the stack's state, not a new one", function () {
        // A runner's checkout has no Pulumi.pr-<N>.yaml; without this the CLI makes a new passphrase manager
        // (pkg/cmd/pulumi/stack/secrets.go, GetSecretsManager), and a KMS-backed stack asks for a passphrase.
        for (const file of pullRequestWorkflows)
            for (const [name, job] of Object.entries(workflow(file).jobs).filter(([, j]) => j.environment === pullRequestEnvironment))
                assert.equal(job.env?.PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER, "true", `${file}: job ${name}`);
    });
    it("the environments are those the CI identities' roles trust by default (README: rename them in both)", function () {
        const named = new Set(workflowFiles.flatMap((f) => Object.values(workflow(f).jobs).map((j) => j.environment)).filter(Boolean));
        assert.deepEqual([...named].sort(), [devDeployEnvironment, pullRequestEnvironment].sort());
    });
    it("only main's deploy acts on dev, in the one group that queues dev's updates and never cancels one halfway", function () {
        const onDev = workflowFiles.flatMap((f) =>
            Object.entries(workflow(f).jobs)
                .filter(([, j]) => stacksOf(j).includes("dev"))
                .map(([name, j]) => ({ where: `${f}: ${name}`, concurrency: j.concurrency })),
        );
        assert.deepEqual(onDev, [{ where: "main.yml: deploy", concurrency: { group: "pulumi-dev", "cancel-in-progress": false } }]);
        const prGroups = pullRequestWorkflows.flatMap((f) =>
            Object.values(workflow(f).jobs)
                .filter((j) => j.steps.some((st) => st.uses?.startsWith("pulumi/actions")))
                .map((j) => j.concurrency),
        );
        for (const c of prGroups)
            assert.deepEqual(c, { group: "pulumi-pr-${{ github.event.pull_request.number }}", "cancel-in-progress": false });
    });
});

describe("workflows: the Pulumi CLI they install", function () {
    const range = readProject(projectRoot).requiredPulumiVersion;
    it("pin one release in every job, at least Pulumi.yaml's requiredPulumiVersion", function () {
        assert.ok(range, "Pulumi.yaml sets requiredPulumiVersion");
        const least = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(range);
        assert.ok(least, `requiredPulumiVersion ${range} is a ">=X.Y.Z" range this test reads`);
        const pins = workflowFiles.flatMap((f) =>
            Object.values(workflow(f).jobs).flatMap((j) =>
                j.steps
                    .filter((st) => st.uses?.startsWith("pulumi/actions"))
                    .map((st) => ({ file: f, version: st.with?.["pulumi-version"] })),
            ),
        );
        assert.ok(pins.length >= 3, "the deploy and destroy jobs install the CLI");
        for (const pin of pins) assert.match(String(pin.version), /^\d+\.\d+\.\d+$/, `${pin.file}: pulumi-version is one release`);
        assert.equal(new Set(pins.map((p) => p.version)).size, 1, "one release everywhere");
        const [major, minor, patch] = String(pins[0].version).split(".").map(Number);
        const [lm, ln, lp] = least.slice(1).map(Number);
        assert.ok(major > lm || (major === lm && (minor > ln || (minor === ln && patch >= lp))), `${pins[0].version} satisfies ${range}`);
    });
});

describe("workflows: the shell steps, with a stand-in Pulumi CLI", function () {
    let runner: Runner;
    beforeEach(() => (runner = new Runner()));
    afterEach(() => runner.remove());

    describe("pull-request.yml deploy", function () {
        const select = step(
            "pull-request.yml",
            "deploy",
            "Create or select the pull request's stack, with dev's settings and its own secrets",
        );
        const up = step("pull-request.yml", "deploy", "pulumi up");
        // The job's own settings (its secrets and variables are the environment's, absent here).
        const jobEnv = Object.fromEntries(
            Object.entries(workflow("pull-request.yml").jobs.deploy.env ?? {}).filter(([, v]) => !v.includes("${{")),
        );
        const prSecrets = {
            ...jobEnv,
            PULL_REQUEST_SECRETS: JSON.stringify({ DB_PASSWORD: "pr-only-password", SHARED_URL: "https://pr.example.com" }),
        };
        const plain = devStackFile.split("\n").filter((l) => /^ {2}\S+: \S/.test(l));

        it("deploys dev's plain settings on the first push and on every later one, each on a new runner, and none of dev's secret values", function () {
            for (const push of [1, 2, 3]) {
                const checkout = runner.checkout();
                const result = runner.run(select, checkout, prSecrets);
                assert.equal(result.status, 0, `push ${push}: ${result.output}`);
                assert.equal(runner.run(up, checkout).status, 0);
            }
            const after = runner.run("true", runner.checkout());
            const runs = after.deployed.split("== up pr-7\n").filter(Boolean);
            assert.equal(runs.length, 3);
            assert.ok(plain.length >= 3, "the fixture has plain settings");
            for (const [i, config] of runs.entries()) {
                const file = yaml.load(config) as { encryptionsalt?: string; config: Record<string, unknown> };
                assert.equal(
                    file.encryptionsalt,
                    "v1:stand-in",
                    `push ${i + 1}: the secrets provider stack init made, from the state on a new runner`,
                );
                for (const line of plain) {
                    const [key, value] = line.trim().split(/: (.*)/);
                    assert.equal(String(file.config[key]), value.replace(/^"|"$/g, ""), `push ${i + 1}: ${key}`);
                }
                assert.deepEqual(file.config[`${project}:environment`], { GREETING: "hello from dev" });
                assert.doesNotMatch(config, /v1:dev-|secure/, `push ${i + 1} holds none of dev's ciphertext:\n${config}`);
                assert.equal(file.config[`${project}:secrets`], undefined, "dev's secrets map, ARNs included, is left out");
            }
            // Each of dev's secrets (and any the pull request adds) gets the pull request's value, on stdin.
            assert.deepEqual(after.secretsSet.slice(0, 2).sort(), [
                "pr-7 secrets.DB_PASSWORD=pr-only-password",
                "pr-7 secrets.SHARED_URL=https://pr.example.com",
            ]);
            assert.equal(after.secretsSet.length, 6, "set again on every runner");
            assert.ok(!after.calls.some((c) => c.includes("pr-only-password")), "no value on a command line");
            assert.equal(after.calls.filter((c) => c.startsWith("stack init")).length, 1, "the stack is made once");
            assert.ok(
                !after.calls.some((c) => /--stack dev|-s dev|config cp/.test(c)),
                `nothing asks for dev's stack: ${after.calls.join("; ")}`,
            );
        });

        it("fails, naming the secret, and writes nothing, when PULL_REQUEST_SECRETS has no value for one of dev's", function () {
            const checkout = runner.checkout();
            const result = runner.run(select, checkout, { PULL_REQUEST_SECRETS: JSON.stringify({ DB_PASSWORD: "x" }) });
            assert.equal(result.status, 1, result.output);
            assert.match(
                result.output,
                /::error::.*PULL_REQUEST_SECRETS .* has no value for SHARED_URL: a pull request's stack never reads the main stack's secrets/,
            );
            assert.deepEqual(result.secretsSet, []);
            assert.equal(fs.readFileSync(path.join(checkout, "Pulumi.pr-7.yaml"), "utf8"), "encryptionsalt: v1:stand-in\n");
        });

        for (const [raw, message] of [
            ["not json", /PULL_REQUEST_SECRETS is not JSON/],
            ['["DB_PASSWORD"]', /PULL_REQUEST_SECRETS is not a JSON object/],
            ['{"DB_PASSWORD":1,"SHARED_URL":"x"}', /PULL_REQUEST_SECRETS gives DB_PASSWORD no text/],
        ] as [string, RegExp][]) {
            it(`refuses PULL_REQUEST_SECRETS=${raw}, never printing a value`, function () {
                const result = runner.run(select, runner.checkout(), { PULL_REQUEST_SECRETS: raw });
                assert.equal(result.status, 1);
                assert.match(result.output, message);
                assert.deepEqual(result.secretsSet, []);
            });
        }

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
