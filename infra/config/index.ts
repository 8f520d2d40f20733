// The stack's configuration, read once into a typed object and validated.
// The settings, their types and defaults are Pulumi.yaml's `config:` section
// (the CLI applies the defaults; the list of keys is read from there); this
// module only reads and checks, by concern: the network (./network), the
// domain (./domain), each service's own settings (./service), and what the
// stack shares. Every bad key is reported in one error, naming the key.
import * as pulumi from "@pulumi/pulumi";

import { readProject } from "../project";
import { readDomainSettings, DomainSettings } from "./domain";
import { NetworkSettings, readNetworkSettings } from "./network";
import { Reader, Values, asText, closest } from "./reader";
import { ServiceSettings, ownKeys, readServiceSettings, serviceKeys } from "./service";

export { dnsName, hostedZoneIdPattern } from "./domain";
export { fargateMemoryByCpu, serviceKeys } from "./service";
export type { SecretSetting, ServiceSettings } from "./service";
export type { CpuArchitecture } from "../service";
export type { VpcMode } from "../network";

/**
 * The stack's settings. The sizes, counts, architecture, spot, port, environment, secrets and alarm
 * thresholds at the top are every service's (the stack's own keys); `services` holds each declared
 * service's, its own keys (services.NAME.key) over those.
 */
export interface StackConfig extends ServiceSettings, NetworkSettings, DomainSettings {
    /** Load balancer access logs to an S3 bucket the stack owns. */
    accessLogs: boolean;
    logRetentionDays: number;
    imagesToKeep: number;
    containerInsights: boolean;
    compareSingleStage: boolean;
    /** The customer-managed KMS key the secrets are encrypted with, if one. */
    secretsKmsKeyArn?: string;
    /** The permissions boundary of the roles the stack makes (they then live under /<project>/); undefined: none. */
    rolePermissionsBoundary?: string;
    /** Where the alarms notify. */
    alarmEmail?: string;
    alarmTopicArn?: string;
    /** Each declared service's settings, by name. */
    services: Record<string, ServiceSettings>;
}

/** What loading the config needs to know besides the values. */
export interface LoadOptions {
    /** Names the service's contract sets itself (PORT, …): `environment` and `secrets` must not. With `services`, each service's own. */
    reservedNames?: readonly string[];
    /** Keys ("<project>:<key>") the stack holds as secrets (`pulumi config set --secret`). */
    secretKeys?: readonly string[];
    /** The services the stack declares, each with the names its contract sets; none: the stack's own keys alone are read. */
    services?: readonly { name: string; reservedNames: readonly string[] }[];
}

/** The retention periods CloudWatch Logs accepts, in days. */
export const logRetentionValues = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/**
 * Thrown with every problem found, one line each, each naming its key. A
 * RunError, so the CLI prints the message alone, without a stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: string[]) {
        super(
            `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}`,
        );
        this.name = "ConfigError";
    }
}

/** The project's settings: every key Pulumi.yaml declares, and no other. */
export const configKeys: readonly string[] = Object.keys(readProject().config);
type ConfigKey = string;

/** The stack's raw values: `pulumi.Config` in a program, a map in tests. */
export interface ConfigSource {
    /** A project key's value as the CLI passes it (a string), or undefined. */
    get(key: ConfigKey): string | undefined;
    /** Every key the stack sets in the project's namespace, without the "<project>:" prefix. */
    keys(): string[];
}

export function pulumiConfigSource(project = pulumi.getProject()): ConfigSource {
    return mapConfigSource(pulumi.runtime.allConfig(), project);
}

/** The same over a map of "<project>:<key>" values, as the CLI passes them to a program. */
export function mapConfigSource(values: Record<string, string>, project: string): ConfigSource {
    const prefix = `${project}:`;
    return {
        get: (key) => values[prefix + key],
        keys: () =>
            Object.keys(values)
                .filter((k) => k.startsWith(prefix))
                .map((k) => k.slice(prefix.length)),
    };
}

/** The declared key nearest to a key the project does not have. */
export function closestKey(key: string, declared: readonly string[] = configKeys): ConfigKey {
    return closest(key, declared);
}

/** A problem for each key the stack sets that the project does not declare: the CLI passes such keys on without a word. */
export function undeclaredKeys(source: ConfigSource, project: string, declared: readonly string[]): string[] {
    return source
        .keys()
        .filter((key) => !declared.includes(key))
        .map(
            (key) =>
                `${project}:${key} is not a setting of this project; did you mean ${project}:${closestKey(key, declared)}? (Pulumi.yaml declares ${declared.join(", ")})`,
        );
}

export function loadConfig(
    source: ConfigSource = pulumiConfigSource(),
    project = pulumi.getProject(),
    options: LoadOptions = {},
): StackConfig {
    const problems: string[] = [];

    // The CLI passes on keys a project does not declare without a word: a typo
    // would deploy the default silently.
    problems.push(...undeclaredKeys(source, project, configKeys));

    const stackValues: Values = { get: (key) => source.get(key), at: (key) => `${project}:${key}` };
    const r = new Reader(stackValues, problems);
    const secretKeys = options.secretKeys ?? [];
    const defaults = readServiceSettings(r, {
        reservedNames: options.reservedNames ?? [],
        secretsAreSecret: secretKeys.includes(`${project}:secrets`),
    });
    const network = readNetworkSettings(r);
    const domain = readDomainSettings(r);
    const accessLogs = r.bool("accessLogs");
    const logRetentionDays = r.int("logRetentionDays", (n) => logRetentionValues.includes(n), `one of ${logRetentionValues.join(", ")}`);
    const imagesToKeep = r.int("imagesToKeep", (n) => n >= 1 && n <= 1000, "an integer from 1 to 1000");
    const containerInsights = r.bool("containerInsights");
    const compareSingleStage = r.bool("compareSingleStage");

    // Each service's settings: its own (services.NAME.key) over the stack's.
    const declared = options.services;
    const own = r.map("services");
    const services: Record<string, ServiceSettings> = {};
    if (declared) {
        const names = declared.map((d) => d.name);
        for (const [name, v] of Object.entries(own)) {
            if (!names.includes(name)) {
                problems.push(
                    `${project}:services.${name}: no service of this stack is named ${name}; did you mean ${closest(name, names)}? (infra/services.ts declares ${names.join(", ")})`,
                );
            } else if (typeof v !== "object" || v === null || Array.isArray(v)) {
                problems.push(
                    `${project}:services.${name} is not a map of settings; set each with pulumi config set --path 'services.${name}.KEY' VALUE`,
                );
            } else {
                for (const key of Object.keys(v).filter((k) => !(serviceKeys as readonly string[]).includes(k))) {
                    problems.push(
                        `${project}:services.${name}.${key} is not a service's setting; did you mean services.${name}.${closest(key, serviceKeys)}? (a service sets ${serviceKeys.join(", ")})`,
                    );
                }
            }
        }
        // A port, an environment and secrets are one service's: with several, a stack's own would reach them all.
        if (declared.length > 1) {
            for (const key of ownKeys) {
                const raw = (source.get(key) ?? "").trim();
                if (raw !== "" && raw !== "0" && raw !== "{}") {
                    problems.push(
                        `${project}:${key} is set, but the stack has ${declared.length} services (${names.join(", ")}); set it for the service it is for: pulumi config set --path 'services.NAME.${key}' ...`,
                    );
                }
            }
        }
        // Where a stack of several services leaves a service's own key unset: none of it.
        const unset: Record<string, string> = { containerPort: "0", environment: "{}", secrets: "{}" };
        for (const d of declared) {
            const mine = own[d.name];
            const settings = typeof mine === "object" && mine !== null && !Array.isArray(mine) ? (mine as Record<string, unknown>) : {};
            const values: Values = {
                get: (key) =>
                    key in settings ? asText(settings[key]) : declared.length > 1 && key in unset ? unset[key] : source.get(key),
                at: (key) => (key in settings ? `${project}:services.${d.name}.${key}` : `${project}:${key}`),
            };
            const found: string[] = [];
            services[d.name] = readServiceSettings(new Reader(values, found), {
                reservedNames: d.reservedNames,
                secretsAreSecret:
                    "secrets" in settings ? secretKeys.includes(`${project}:services`) : secretKeys.includes(`${project}:secrets`),
            });
            // The stack's own values were checked once already: a service adds only what is its own.
            for (const p of found) if (!problems.includes(p)) problems.push(p);
        }
    }
    if (compareSingleStage && [defaults, ...Object.values(services)].some((s) => s.cpuArchitecture === "ARM64")) {
        problems.push(
            `${project}:compareSingleStage is true with ${project}:cpuArchitecture ARM64, but the single-stage Dockerfile compiles inside the target platform's Go image, which needs an ARM64 builder or an emulator (an x86 CI runner has neither); set compareSingleStage to false, or compare on an X86_64 stack`,
        );
    }

    const kmsRaw = (r.str("secretsKmsKeyArn") ?? "").trim();
    if (kmsRaw !== "" && !/^arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(kmsRaw)) {
        r.problems.push(
            `${r.at("secretsKmsKeyArn")} is ${JSON.stringify(kmsRaw)}; it accepts a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; an alias cannot be granted decrypt) or "" when the secrets use AWS-managed keys`,
        );
    }
    if (
        kmsRaw !== "" &&
        Object.values(services).every((s) => Object.keys(s.secrets).length === 0) &&
        Object.keys(defaults.secrets).length === 0
    ) {
        r.problems.push(
            `${r.at("secretsKmsKeyArn")} is set, but ${r.at("secrets")} names none; it is the key the secrets are encrypted with`,
        );
    }

    const boundaryRaw = (r.str("rolePermissionsBoundary") ?? "").trim();
    if (boundaryRaw !== "" && !/^arn:aws(-[a-z]+)*:iam::\d{12}:policy\/[\w+=,.@/-]+$/.test(boundaryRaw)) {
        r.problems.push(
            `${r.at("rolePermissionsBoundary")} is ${JSON.stringify(boundaryRaw)}; it accepts an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME, the CI identities stack's output roleBoundaryArn) or ""`,
        );
    }

    const alarmEmail = (r.str("alarmEmail") ?? "").trim();
    if (alarmEmail !== "" && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
        r.problems.push(`${r.at("alarmEmail")} is ${JSON.stringify(alarmEmail)}; it accepts an email address, or "" for no notifications`);
    }
    const alarmTopicArn = (r.str("alarmTopicArn") ?? "").trim();
    if (alarmTopicArn !== "" && !/^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(alarmTopicArn)) {
        r.problems.push(
            `${r.at("alarmTopicArn")} is ${JSON.stringify(alarmTopicArn)}; it accepts an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), or ""`,
        );
    }
    if (alarmEmail !== "" && alarmTopicArn !== "") {
        r.problems.push(
            `${r.at("alarmEmail")} and ${r.at("alarmTopicArn")} are both set; set one (subscribe the address to your topic yourself)`,
        );
    }
    if (!defaults.alarms && Object.values(services).every((s) => !s.alarms) && (alarmEmail !== "" || alarmTopicArn !== "")) {
        r.problems.push(
            `${r.at("alarms")} is false, but ${project}:${alarmEmail !== "" ? "alarmEmail" : "alarmTopicArn"} is set: with no alarms there is nothing to send`,
        );
    }

    if (problems.length > 0) {
        throw new ConfigError([...new Set(problems)]);
    }
    return {
        ...defaults,
        ...network,
        ...domain,
        accessLogs,
        logRetentionDays,
        imagesToKeep,
        containerInsights,
        compareSingleStage,
        secretsKmsKeyArn: kmsRaw === "" ? undefined : kmsRaw,
        rolePermissionsBoundary: boundaryRaw === "" ? undefined : boundaryRaw,
        alarmEmail: alarmEmail === "" ? undefined : alarmEmail,
        alarmTopicArn: alarmTopicArn === "" ? undefined : alarmTopicArn,
        services,
    };
}
