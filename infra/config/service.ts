// A service's own settings: its task's size and architecture, its counts, its
// port, its environment and secrets, its alarms' thresholds and ECS Exec.
// Each is read where the stack sets it for the service (services.NAME.key) or,
// for a size, count or alarm, where it sets it for every service (key).
import { CpuArchitecture, environmentName, setByEcs } from "../service";
import { Reader } from "./reader";

/** Where a secret setting's value is: an SSM parameter or Secrets Manager secret (its ARN), or the value itself, which the stack holds encrypted. */
export type SecretSetting = { arn: string } | { value: string };

export interface ServiceSettings {
    cpu: number;
    memory: number;
    cpuArchitecture: CpuArchitecture;
    /** The image platform that matches cpuArchitecture. */
    platform: "linux/amd64" | "linux/arm64";
    /** The port over the service's declared one; undefined: the declaration's. */
    containerPort?: number;
    /** Tasks a new service starts with; after that autoscaling owns the count. */
    desiredCount: number;
    minCount: number;
    maxCount: number;
    spot: boolean;
    /** Plain settings for the container, by name. */
    environment: Record<string, string>;
    /** The container's secret settings, by name: an ARN the team keeps, or a value the stack stores. */
    secrets: Record<string, SecretSetting>;
    /** ECS Exec into the service's tasks. */
    executeCommand: boolean;
    /** Alarms on the service and their thresholds (percent, milliseconds). */
    alarms: boolean;
    alarmLoadBalancer5xxPercent: number;
    alarmTarget5xxPercent: number;
    alarmLatencyP99Ms: number;
    alarmCpuPercent: number;
    alarmMemoryPercent: number;
}

/** The keys a service may set for itself (services.NAME.key). */
export const serviceKeys = [
    "cpu",
    "memory",
    "cpuArchitecture",
    "containerPort",
    "desiredCount",
    "minCount",
    "maxCount",
    "spot",
    "environment",
    "secrets",
    "executeCommand",
    "alarms",
    "alarmLoadBalancer5xxPercent",
    "alarmTarget5xxPercent",
    "alarmLatencyP99Ms",
    "alarmCpuPercent",
    "alarmMemoryPercent",
] as const;

/** The keys only a service's own settings may give once a stack has several: what one service needs is not every service's. */
export const ownKeys = ["containerPort", "environment", "secrets"] as const;

/** Fargate's valid task sizes: cpu units -> memory MiB allowed with it. */
export const fargateMemoryByCpu: Record<number, number[]> = {
    256: [512, 1024, 2048],
    512: range(1024, 4096, 1024),
    1024: range(2048, 8192, 1024),
    2048: range(4096, 16384, 1024),
    4096: range(8192, 30720, 1024),
    8192: range(16384, 61440, 4096),
    16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
    const out: number[] = [];
    for (let v = from; v <= to; v += step) out.push(v);
    return out;
}

/**
 * An SSM parameter ARN, of any region (ECS: "If the parameter exists in a different Region, then the full
 * ARN must be specified", API reference, Secret).
 */
const ssmParameterArn = /^arn:aws(-[a-z]+)*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9_.\-/]+$/;
/**
 * A Secrets Manager secret's full ARN, whose name Secrets Manager ends with "-" and 6 characters of its own
 * (optionally with :json-key:version-stage:version-id). The execution role is granted exactly that ARN,
 * and an IAM resource without the 6 characters never matches the secret.
 */
const secretsManagerArn =
    /^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}(:[^:]*:[^:]*:[^:]*)?$/;
const partialSecretsManagerArn = /^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+(:[^:]*:[^:]*:[^:]*)?$/;

export interface ServiceReadOptions {
    /** Names the service's contract sets itself (PORT, …): `environment` and `secrets` must not. */
    reservedNames: readonly string[];
    /** Whether the key that holds the secrets is a secret of the stack (`pulumi config set --secret`). */
    secretsAreSecret: boolean;
}

/** One service's settings, read through `r` (whose values are the service's own over every service's). */
export function readServiceSettings(r: Reader, options: ServiceReadOptions): ServiceSettings {
    const problems = r.problems;
    const cpus = Object.keys(fargateMemoryByCpu).map(Number);
    const cpu = r.int("cpu", (n) => cpus.includes(n), `one of ${cpus.join(", ")} (Fargate CPU units)`);
    const memory = r.int("memory", (n) => n > 0, "a positive number of MiB valid for the cpu (see Fargate task sizes)");
    if (fargateMemoryByCpu[cpu] && Number.isFinite(memory) && !fargateMemoryByCpu[cpu].includes(memory)) {
        const allowed = fargateMemoryByCpu[cpu];
        const list =
            allowed.length > 4
                ? `${allowed[0]} to ${allowed[allowed.length - 1]} in steps of ${allowed[1] - allowed[0]}`
                : allowed.join(", ");
        problems.push(`${r.at("memory")} is ${memory}, which Fargate does not allow with cpu ${cpu}; it accepts ${list}`);
    }
    const cpuArchitecture = r.oneOf<CpuArchitecture>("cpuArchitecture", ["X86_64", "ARM64"]);
    const containerPort = r.int(
        "containerPort",
        (n) => n === 0 || (n >= 1024 && n <= 65535),
        // ECS runs containers without the sysctl that lets a non-root user bind a privileged port.
        "a TCP port from 1024 to 65535 (the service runs as a non-root user, which cannot bind a lower one), or 0 for the port the service declares",
    );
    const desiredCount = r.int("desiredCount", (n) => n >= 1 && n <= 1000, "an integer from 1 to 1000");
    // Target tracking scales on the running tasks' metrics; with none running there are none.
    const minCount = r.int(
        "minCount",
        (n) => n >= 1 && n <= 1000,
        "an integer from 1 to 1000 (autoscaling cannot scale out from zero tasks: with none running, there are no metrics to track)",
    );
    const maxCount = r.int("maxCount", (n) => n >= 1 && n <= 1000, "an integer from 1 to 1000");
    if (minCount > maxCount) {
        problems.push(`${r.at("minCount")} (${minCount}) is above ${r.at("maxCount")} (${maxCount}); it accepts at most maxCount`);
    } else if (Number.isFinite(desiredCount) && (desiredCount < minCount || desiredCount > maxCount)) {
        problems.push(`${r.at("desiredCount")} is ${desiredCount}; it accepts minCount to maxCount (${minCount} to ${maxCount})`);
    }
    // Fargate Spot runs X86_64 tasks on platform 1.3.0 and later and ARM64 ones on 1.4.0 and later
    // (ECS API reference, CapacityProviderStrategyItem); the service runs on LATEST.
    const spot = r.bool("spot");
    const executeCommand = r.bool("executeCommand");

    const reserved = new Set(options.reservedNames);
    const checkName = (key: string, name: string): boolean => {
        const at = `${r.at(key)}.${name}`;
        if (!environmentName.test(name)) {
            problems.push(
                `${at}: ${JSON.stringify(name)} is not an environment variable name; it accepts letters, digits and _, not starting with a digit`,
            );
        } else if (reserved.has(name)) {
            problems.push(
                `${at}: ${name} is set by the service itself (its contract sets ${[...reserved].join(", ")}); choose another name`,
            );
        } else if (setByEcs.test(name)) {
            problems.push(`${at}: ${name} is set by ECS in every task; choose another name`);
        } else {
            return true;
        }
        return false;
    };
    const environment: Record<string, string> = {};
    for (const [name, value] of Object.entries(r.map("environment"))) {
        if (!checkName("environment", name)) continue;
        if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
            problems.push(`${r.at("environment")}.${name} is not a text value; it accepts text, a number or true/false`);
            continue;
        }
        environment[name] = String(value);
    }
    const secrets: Record<string, SecretSetting> = {};
    const secretsAreSecret = options.secretsAreSecret;
    for (const [name, value] of Object.entries(r.map("secrets"))) {
        if (!checkName("secrets", name)) continue;
        const at = `${r.at("secrets")}.${name}`;
        const pathOf = at.replace(/^[^:]*:/, "");
        if (name in environment) {
            problems.push(`${at} and ${r.at("environment")}.${name} both set ${name}; keep one`);
            continue;
        }
        if (typeof value !== "string" || value === "") {
            problems.push(`${at} is empty or not text; it accepts an SSM parameter or Secrets Manager ARN, or a value set with --secret`);
        } else if (ssmParameterArn.test(value) || secretsManagerArn.test(value)) {
            secrets[name] = { arn: value };
        } else if (partialSecretsManagerArn.test(value)) {
            const secret = value.split(":")[6];
            problems.push(
                `${at} is ${secretsAreSecret ? "a Secrets Manager ARN" : JSON.stringify(value)} without the 6 characters Secrets Manager ends its name with (secret:${secret}-AbCdEf): the execution role is granted the ARN named, which then matches no secret; give the full ARN (aws secretsmanager describe-secret --secret-id ${secret} --query ARN)`,
            );
        } else if (/^arn:/.test(value)) {
            problems.push(
                `${at} is ${secretsAreSecret ? "an ARN" : JSON.stringify(value)}, which is not an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) or Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) ARN`,
            );
        } else if (!secretsAreSecret) {
            // Never echoed: it may be the secret, set without --secret.
            problems.push(
                `${at} is plain text and not an ARN; a value must be encrypted in the stack: pulumi config set --secret --path '${pathOf}' VALUE`,
            );
        } else {
            secrets[name] = { value };
        }
    }

    const alarms = r.bool("alarms");
    const percent = (key: string) => r.int(key, (n) => n >= 1 && n <= 100, "a whole percent from 1 to 100");
    return {
        cpu,
        memory,
        cpuArchitecture,
        platform: cpuArchitecture === "ARM64" ? "linux/arm64" : "linux/amd64",
        containerPort: containerPort === 0 ? undefined : containerPort,
        desiredCount,
        minCount,
        maxCount,
        spot,
        environment,
        secrets,
        executeCommand,
        alarms,
        alarmLoadBalancer5xxPercent: percent("alarmLoadBalancer5xxPercent"),
        alarmTarget5xxPercent: percent("alarmTarget5xxPercent"),
        alarmLatencyP99Ms: r.int("alarmLatencyP99Ms", (n) => n >= 1 && n <= 60_000, "milliseconds from 1 to 60000"),
        alarmCpuPercent: percent("alarmCpuPercent"),
        alarmMemoryPercent: percent("alarmMemoryPercent"),
    };
}
