// Writes a pull request's stack config from the main stack's file, without
// anything that decrypts it: the main stack's plain settings, none of its
// secret values (they are ciphertext for the main stack's secrets provider,
// which a pull request's job does not hold), and for each secret the
// container takes, the value the pull request's own secrets give it.
//
//   PULL_REQUEST_SECRETS='{"DB_PASSWORD":"..."}' scripts/ci/pull-request-config.ts dev pr-7
//
// It reads Pulumi.<main>.yaml as a file (no CLI, no passphrase), keeps the
// top-level keys `pulumi stack init` wrote to Pulumi.<pr>.yaml (its own
// encryption salt or key), and sets each secret with `pulumi config set
// --secret --path secrets.NAME`, the value on stdin, never on a command line.
// It fails, changing nothing, when the main stack takes a secret that
// PULL_REQUEST_SECRETS has no value for.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";

import { readProject } from "../../infra/project";

/** The GitHub secret (of the pull-requests environment) that holds the pull requests' secret values. */
export const secretsVariable = "PULL_REQUEST_SECRETS";

export interface StackFile {
    config?: Record<string, unknown>;
    [key: string]: unknown;
}

export interface PullRequestConfig {
    /** The pull request's stack file, to write. */
    file: StackFile;
    /** The secrets to set on it, name -> value. */
    secrets: Record<string, string>;
    /** The main stack's secret settings left out (other than the container's secrets), by key. */
    leftOut: string[];
}

/** Whether a config value is, or holds, a `secure:` value. */
function holdsSecure(v: unknown): boolean {
    if (v === null || typeof v !== "object") return false;
    if (!Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) return true;
    return Object.values(v).some(holdsSecure);
}

/** The pull requests' secret values, as the environment holds them: a JSON object of strings. */
export function parseSecrets(raw: string | undefined): Record<string, string> {
    if (raw === undefined || raw.trim() === "") return {};
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch {
        throw new Error(`${secretsVariable} is not JSON; it holds a JSON object, secret name -> value, such as {"DB_PASSWORD":"..."}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new Error(`${secretsVariable} is not a JSON object; it holds secret name -> value, such as {"DB_PASSWORD":"..."}`);
    }
    const notText = Object.entries(parsed).filter(([, v]) => typeof v !== "string" || v === "");
    if (notText.length > 0) {
        throw new Error(
            `${secretsVariable} gives ${notText.map(([k]) => k).join(", ")} no text; each value is the secret itself, a string`,
        );
    }
    return parsed as Record<string, string>;
}

/**
 * The pull request's stack file: `own` (what `pulumi stack init` wrote) with the main stack's
 * config, less every secret value; and the secrets to set, which must cover the main stack's.
 */
export function pullRequestConfig(main: StackFile, own: StackFile, project: string, prSecrets: Record<string, string>): PullRequestConfig {
    const secretsKey = `${project}:secrets`;
    const config: Record<string, unknown> = {};
    const leftOut: string[] = [];
    for (const [key, value] of Object.entries(main.config ?? {})) {
        if (key === secretsKey) continue;
        if (holdsSecure(value)) leftOut.push(key);
        else config[key] = value;
    }
    const mainSecrets = main.config?.[secretsKey];
    const needed = mainSecrets !== null && typeof mainSecrets === "object" ? Object.keys(mainSecrets) : [];
    const missing = needed.filter((name) => !(name in prSecrets));
    if (missing.length > 0) {
        throw new Error(
            `the main stack's container takes the secrets ${needed.join(", ")}; ${secretsVariable} (a secret of the pull-requests environment, a JSON object name -> value) has no value for ${missing.join(", ")}: a pull request's stack never reads the main stack's secrets, so give it values of its own`,
        );
    }
    const header = Object.fromEntries(Object.entries(own).filter(([k]) => k !== "config"));
    return { file: { ...header, config }, secrets: prSecrets, leftOut };
}

function main(): void {
    const [from, to] = process.argv.slice(2);
    if (!from || !to) throw new Error("usage: pull-request-config.ts MAIN_STACK PULL_REQUEST_STACK");
    const read = (stack: string): StackFile => {
        const file = `Pulumi.${stack}.yaml`;
        return fs.existsSync(file) ? ((yaml.load(fs.readFileSync(file, "utf8")) as StackFile | undefined) ?? {}) : {};
    };
    const project = readProject(process.cwd()).name;
    const out = pullRequestConfig(read(from), read(to), project, parseSecrets(process.env[secretsVariable]));
    fs.writeFileSync(
        `Pulumi.${to}.yaml`,
        `# Written by scripts/ci/pull-request-config.ts: ${from}'s plain settings; its secrets from ${secretsVariable}.\n` +
            yaml.dump(out.file, { lineWidth: -1 }),
    );
    for (const key of out.leftOut) console.log(`::notice::${from}'s secret setting ${key} is not copied to ${to}`);
    for (const [name, value] of Object.entries(out.secrets)) {
        const res = spawnSync("pulumi", ["config", "set", "--secret", "--path", `secrets.${name}`, "--stack", to], {
            input: value,
            stdio: ["pipe", "inherit", "inherit"],
        });
        if (res.status !== 0) throw new Error(`pulumi config set --secret --path secrets.${name} --stack ${to} failed`);
    }
    console.log(`${to}: ${from}'s settings, and ${Object.keys(out.secrets).length} secrets of its own`);
}

if (require.main === module) {
    try {
        main();
    } catch (err) {
        console.error(`::error::${(err as Error).message}`);
        process.exit(1);
    }
}
