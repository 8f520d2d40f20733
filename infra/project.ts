// The project file, Pulumi.yaml: its name, where its program is, and the
// settings it declares (each once: type, default, description). The program
// takes its list of settings from here, and so do `npm start`, the tests and
// the README's table.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

/** A declared setting. "object" is a map set with `pulumi config set --path` (Pulumi.yaml gives it no type). */
export interface DeclaredKey {
    type: "string" | "integer" | "boolean" | "object";
    /** As the CLI passes it to the program: text, or JSON for an object. */
    default: string;
    description: string;
}

export interface Project {
    name: string;
    /** The folder the program runs in (the CLI's working directory for it and its providers). */
    programDir: string;
    config: Record<string, DeclaredKey>;
    /** The CLI releases the program runs on (a semver range, as the CLI reads it). */
    requiredPulumiVersion?: string;
}

/** This repository: the folder that holds Pulumi.yaml. */
export const projectRoot = path.join(__dirname, "..");

export function readProject(root = projectRoot): Project {
    const file = path.join(root, "Pulumi.yaml");
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as {
        name: string;
        main?: string;
        requiredPulumiVersion?: string;
        config?: Record<string, { type?: DeclaredKey["type"]; default?: unknown; description?: string }>;
    };
    const config: Record<string, DeclaredKey> = {};
    for (const [key, decl] of Object.entries(doc.config ?? {})) {
        const type = decl.type ?? (typeof decl.default === "object" && decl.default !== null ? "object" : undefined);
        if (type === undefined) throw new Error(`${file}: config.${key} has no type`);
        config[key] = { type, default: cliValue(decl.default), description: decl.description ?? "" };
    }
    return { name: doc.name, programDir: path.resolve(root, doc.main ?? "."), config, requiredPulumiVersion: doc.requiredPulumiVersion };
}

/** A config value as the CLI passes it: scalars as text, structures as JSON. */
export function cliValue(v: unknown): string {
    if (v === undefined || v === null) return "";
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return String(v);
    return JSON.stringify(v);
}
