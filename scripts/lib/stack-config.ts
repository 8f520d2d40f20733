// Stack configuration as the Pulumi CLI hands it to a program: Pulumi.yaml's
// `config:` defaults, overlaid with Pulumi.<stack>.yaml, every value a string
// and every project key namespaced ("<project>:<key>").
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

import { cliValue as scalar, readProject } from "../../infra/project";
import { repoRoot } from "./docker";

export { readProject };

/** The stack file's `config:` map, values as strings (the CLI stores them so). */
export function readStackFile(stack: string, root = repoRoot): Record<string, string> {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        throw new Error(
            `no stack configuration ${path.relative(process.cwd(), file) || file}; stacks here: ${listStacks(root).join(", ") || "none"}`,
        );
    }
    return readConfigFile(file);
}

/** A stack file's `config:` map from its path, as the CLI's --config-file reads it. */
export function readConfigFile(file: string): Record<string, string> {
    if (!fs.existsSync(file)) throw new Error(`no stack configuration file ${file}`);
    const doc = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(doc.config ?? {})) {
        out[k] = scalar(v);
    }
    return out;
}

export function listStacks(root = repoRoot): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/**
 * The config map a program sees: project defaults, then the stack's values
 * (namespaced keys win; un-namespaced keys in `overrides` are the project's).
 */
export function effectiveConfig(
    stackValues: Record<string, string>,
    overrides: Record<string, string> = {},
    root = repoRoot,
): Record<string, string> {
    const project = readProject(root);
    const out: Record<string, string> = {};
    for (const [key, decl] of Object.entries(project.config)) {
        out[`${project.name}:${key}`] = decl.default;
    }
    const namespaced = (k: string) => (k.includes(":") ? k : `${project.name}:${k}`);
    for (const [k, v] of Object.entries(stackValues)) out[namespaced(k)] = v;
    for (const [k, v] of Object.entries(overrides)) out[namespaced(k)] = v;
    return out;
}
