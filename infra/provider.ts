// The stack's AWS provider. An explicit provider reads none of the stack's
// `aws:` settings (only the default provider does), so this one is given
// every one of them: profile, allowedAccountIds, assumeRoles, endpoints… take
// effect as they would without it, plus the project's default tags.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { ConfigError } from "./config";

/** The provider's settings that are numbers; the others are text, or JSON (lists, objects, booleans). */
const numericSettings = new Set(["maxRetries", "tokenBucketRateLimiterCapacity"]);

/**
 * The provider's arguments from the stack's config map ("aws:<key>" -> value as the CLI passes it:
 * text, or JSON for structured values and booleans, as `pulumi config set --path` writes them).
 * The stack's `aws:defaultTags` are kept; `tags` are added to them.
 */
export function stackProviderArgs(
    config: Record<string, string>,
    tags: Record<string, string>,
    secretKeys: string[] = [],
): aws.ProviderArgs {
    // Keys are the provider's own argument names (aws:assumeRoles -> assumeRoles); the provider checks them.
    const args: Record<string, unknown> = {};
    for (const [fullKey, raw] of Object.entries(config)) {
        if (!fullKey.startsWith("aws:")) continue;
        const key = fullKey.slice("aws:".length);
        const value = settingValue(fullKey, key, raw);
        // A setting the stack keeps secret stays secret in the provider's inputs, which the state records.
        args[key] = secretKeys.includes(fullKey) && key !== "defaultTags" ? pulumi.secret(value) : value;
    }
    const stackTags = (args.defaultTags as { tags?: Record<string, string> } | undefined)?.tags ?? {};
    args.defaultTags = { ...(args.defaultTags as object | undefined), tags: { ...stackTags, ...tags } };
    return args;
}

/** The config keys the stack holds as secrets, as the CLI tells the program (the SDK reads the same variable). */
export function secretConfigKeys(): string[] {
    try {
        return JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]") as string[];
    } catch {
        return [];
    }
}

function settingValue(fullKey: string, key: string, raw: string): unknown {
    const text = raw.trim();
    if (numericSettings.has(key)) {
        if (!/^\d+$/.test(text)) throw new ConfigError([`${fullKey} is ${JSON.stringify(raw)}; it accepts a whole number`]);
        return Number(text);
    }
    if (text === "true" || text === "false") return text === "true";
    if (text.startsWith("[") || text.startsWith("{")) {
        try {
            return JSON.parse(text);
        } catch {
            throw new ConfigError([`${fullKey} is ${JSON.stringify(raw)}, which is not valid JSON (set it with pulumi config set --path)`]);
        }
    }
    return raw;
}
