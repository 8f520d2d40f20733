// The stack's configuration, read once into a typed object and validated.
// The settings, their types and defaults are Pulumi.yaml's `config:` section
// (the CLI applies the defaults; the list of keys is read from there); this
// module only reads and checks. Every bad key is reported in one error.
import * as pulumi from "@pulumi/pulumi";

import { readProject } from "./project";
import { environmentName, setByEcs } from "./service";

export type CpuArchitecture = "X86_64" | "ARM64";
export type VpcMode = "default" | "new" | "existing";

export interface StackConfig {
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
    vpc: VpcMode;
    /** With vpc "existing": the VPC, the load balancer's subnets, and the tasks' (none: the public ones). */
    vpcId?: string;
    publicSubnetIds: string[];
    privateSubnetIds: string[];
    /** With vpc "new": tasks in private subnets behind a NAT gateway. */
    natGateway: boolean;
    /** The service's own name, served over HTTPS; undefined serves plain HTTP on the load balancer's name. */
    domainName?: string;
    /** The Route 53 zone that holds domainName; undefined looks it up by the domain's parent name. */
    hostedZoneId?: string;
    /** An ACM certificate for domainName; undefined requests one, validated by DNS in the zone. */
    certificateArn?: string;
    /** Load balancer access logs to an S3 bucket the stack owns. */
    accessLogs: boolean;
    logRetentionDays: number;
    imagesToKeep: number;
    containerInsights: boolean;
    compareSingleStage: boolean;
    /** Plain settings for the container, by name. */
    environment: Record<string, string>;
    /** The container's secret settings, by name: an ARN the team keeps, or a value the stack stores. */
    secrets: Record<string, SecretSetting>;
    /** The customer-managed KMS key the secrets are encrypted with, if one. */
    secretsKmsKeyArn?: string;
    /** The permissions boundary of the roles the stack makes (they then live under /<project>/); undefined: none. */
    rolePermissionsBoundary?: string;
    /** Alarms on the service, their thresholds (percent, milliseconds) and where they notify. */
    alarms: boolean;
    alarmLoadBalancer5xxPercent: number;
    alarmTarget5xxPercent: number;
    alarmLatencyP99Ms: number;
    alarmCpuPercent: number;
    alarmMemoryPercent: number;
    alarmEmail?: string;
    alarmTopicArn?: string;
}

/** Where a secret setting's value is: an SSM parameter or Secrets Manager secret (its ARN), or the value itself, which the stack holds encrypted. */
export type SecretSetting = { arn: string } | { value: string };

/** What loading the config needs to know besides the values. */
export interface LoadOptions {
    /** Names the service's contract sets itself (PORT, …): `environment` and `secrets` must not. */
    reservedNames?: readonly string[];
    /** Keys ("<project>:<key>") the stack holds as secrets (`pulumi config set --secret`). */
    secretKeys?: readonly string[];
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

/** A DNS name as the domain settings take it: lowercase, no trailing dot. */
export const dnsName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** A Route 53 hosted zone ID. */
export const hostedZoneIdPattern = /^Z[A-Z0-9]{1,31}$/;

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

/** The retention periods CloudWatch Logs accepts, in days. */
export const logRetentionValues = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function range(from: number, to: number, step: number): number[] {
    const out: number[] = [];
    for (let v = from; v <= to; v += step) out.push(v);
    return out;
}

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

/** Edit distance, ignoring case: how far a typo is from a key. */
function distance(a: string, b: string): number {
    const [x, y] = [a.toLowerCase(), b.toLowerCase()];
    let row = Array.from({ length: y.length + 1 }, (_, j) => j);
    for (let i = 1; i <= x.length; i++) {
        const next = [i];
        for (let j = 1; j <= y.length; j++) {
            next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
        }
        row = next;
    }
    return row[y.length];
}

/** The declared key nearest to a key the project does not have. */
export function closestKey(key: string, declared: readonly string[] = configKeys): ConfigKey {
    return declared.reduce((best, k) => (distance(key, k) < distance(key, best) ? k : best));
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

    const str = (key: ConfigKey): string | undefined => {
        const v = source.get(key);
        if (v === undefined) {
            problems.push(
                `${project}:${key} is not set (Pulumi.yaml declares its default; run with the Pulumi CLI or set it in the stack)`,
            );
        }
        return v;
    };
    const int = (key: ConfigKey, ok: (n: number) => boolean, accepts: string): number => {
        const raw = str(key);
        if (raw === undefined) return NaN;
        const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
        if (!Number.isSafeInteger(n) || !ok(n)) {
            problems.push(`${project}:${key} is ${JSON.stringify(raw)}; it accepts ${accepts}`);
            return NaN;
        }
        return n;
    };
    const bool = (key: ConfigKey): boolean => {
        const raw = str(key);
        if (raw === undefined) return false;
        if (raw !== "true" && raw !== "false") {
            problems.push(`${project}:${key} is ${JSON.stringify(raw)}; it accepts true or false`);
            return false;
        }
        return raw === "true";
    };
    const oneOf = <T extends string>(key: ConfigKey, allowed: readonly T[]): T => {
        const raw = str(key);
        if (raw === undefined) return allowed[0];
        if (!(allowed as readonly string[]).includes(raw)) {
            problems.push(`${project}:${key} is ${JSON.stringify(raw)}; it accepts ${allowed.join(" or ")}`);
            return allowed[0];
        }
        return raw as T;
    };

    const cpus = Object.keys(fargateMemoryByCpu).map(Number);
    const cpu = int("cpu", (n) => cpus.includes(n), `one of ${cpus.join(", ")} (Fargate CPU units)`);
    const memory = int("memory", (n) => n > 0, "a positive number of MiB valid for the cpu (see Fargate task sizes)");
    if (fargateMemoryByCpu[cpu] && Number.isFinite(memory) && !fargateMemoryByCpu[cpu].includes(memory)) {
        const allowed = fargateMemoryByCpu[cpu];
        const list =
            allowed.length > 4
                ? `${allowed[0]} to ${allowed[allowed.length - 1]} in steps of ${allowed[1] - allowed[0]}`
                : allowed.join(", ");
        problems.push(`${project}:memory is ${memory}, which Fargate does not allow with cpu ${cpu}; it accepts ${list}`);
    }
    const cpuArchitecture = oneOf<CpuArchitecture>("cpuArchitecture", ["X86_64", "ARM64"]);
    const containerPort = int(
        "containerPort",
        (n) => n === 0 || (n >= 1024 && n <= 65535),
        // ECS runs containers without the sysctl that lets a non-root user bind a privileged port.
        "a TCP port from 1024 to 65535 (the service runs as a non-root user, which cannot bind a lower one), or 0 for the port the service declares",
    );
    const desiredCount = int("desiredCount", (n) => n >= 1 && n <= 1000, "an integer from 1 to 1000");
    // Target tracking scales on the running tasks' metrics; with none running there are none.
    const minCount = int(
        "minCount",
        (n) => n >= 1 && n <= 1000,
        "an integer from 1 to 1000 (autoscaling cannot scale out from zero tasks: with none running, there are no metrics to track)",
    );
    const maxCount = int("maxCount", (n) => n >= 1 && n <= 1000, "an integer from 1 to 1000");
    if (minCount > maxCount) {
        problems.push(`${project}:minCount (${minCount}) is above ${project}:maxCount (${maxCount}); it accepts at most maxCount`);
    } else if (Number.isFinite(desiredCount) && (desiredCount < minCount || desiredCount > maxCount)) {
        problems.push(`${project}:desiredCount is ${desiredCount}; it accepts minCount to maxCount (${minCount} to ${maxCount})`);
    }
    // Fargate Spot runs X86_64 tasks on platform 1.3.0 and later and ARM64 ones on 1.4.0 and later
    // (ECS API reference, CapacityProviderStrategyItem); the service runs on LATEST.
    const spot = bool("spot");
    const vpc = oneOf<VpcMode>("vpc", ["default", "new", "existing"]);
    const vpcId = str("vpcId") ?? "";
    const idList = (key: ConfigKey, prefix: string): string[] => {
        const raw = str(key) ?? "";
        const ids = raw
            .split(",")
            .map((id) => id.trim())
            .filter((id) => id !== "");
        const form = new RegExp(`^${prefix}-[0-9a-f]{8}([0-9a-f]{9})?$`);
        const bad = ids.filter((id) => !form.test(id));
        if (bad.length > 0 || (raw.trim() !== "" && ids.length === 0)) {
            problems.push(
                `${project}:${key} is ${JSON.stringify(raw)}; it accepts ${prefix} IDs separated by commas, e.g. ${prefix}-0a1b2c3d,${prefix}-4e5f6a7b`,
            );
        } else if (new Set(ids).size !== ids.length) {
            problems.push(`${project}:${key} is ${JSON.stringify(raw)}; it names a subnet twice`);
        }
        return ids;
    };
    const publicSubnetIds = idList("publicSubnetIds", "subnet");
    const privateSubnetIds = idList("privateSubnetIds", "subnet");
    const natGateway = bool("natGateway");
    if (vpc === "existing") {
        if (!/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/.test(vpcId)) {
            problems.push(
                `${project}:vpcId is ${JSON.stringify(vpcId)}; with vpc "existing" it accepts a VPC ID such as vpc-0a1b2c3d4e5f60718`,
            );
        }
        if (publicSubnetIds.length < 2) {
            problems.push(
                `${project}:publicSubnetIds names ${publicSubnetIds.length} subnet(s); with vpc "existing" the load balancer needs public subnets in at least two availability zones`,
            );
        }
        const both = privateSubnetIds.filter((id) => publicSubnetIds.includes(id));
        if (both.length > 0) problems.push(`${project}:privateSubnetIds and publicSubnetIds both name ${both.join(", ")}`);
    } else {
        for (const key of ["vpcId", "publicSubnetIds", "privateSubnetIds"] as const) {
            if ((source.get(key) ?? "").trim() !== "") {
                problems.push(`${project}:${key} is set, but ${project}:vpc is "${vpc}"; set vpc to "existing" to use your own network`);
            }
        }
    }
    if (natGateway && vpc !== "new") {
        problems.push(
            `${project}:natGateway is true, but ${project}:vpc is "${vpc}"; a NAT gateway comes with vpc "new" (with vpc "existing", name privateSubnetIds that already have a way out)`,
        );
    }

    const domainName = (str("domainName") ?? "").trim().toLowerCase().replace(/\.$/, "");
    if (domainName !== "" && !dnsName.test(domainName)) {
        problems.push(`${project}:domainName is ${JSON.stringify(domainName)}; it accepts a DNS name such as calc.example.com`);
    }
    const hostedZoneId = (str("hostedZoneId") ?? "").trim();
    if (hostedZoneId !== "" && !hostedZoneIdPattern.test(hostedZoneId)) {
        problems.push(
            `${project}:hostedZoneId is ${JSON.stringify(hostedZoneId)}; it accepts a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ`,
        );
    }
    if (hostedZoneId !== "" && domainName === "") {
        problems.push(`${project}:hostedZoneId is set without ${project}:domainName; it is the zone that holds domainName`);
    }
    const certRaw = str("certificateArn") ?? "";
    if (certRaw !== "" && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(certRaw)) {
        problems.push(
            `${project}:certificateArn is ${JSON.stringify(certRaw)}; it accepts an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID) or "" to have one made for domainName`,
        );
    } else if (certRaw !== "" && domainName === "") {
        problems.push(
            `${project}:certificateArn is set without ${project}:domainName; no certificate can cover the load balancer's own name (*.elb.amazonaws.com), so HTTPS needs your domain: set domainName`,
        );
    }
    const accessLogs = bool("accessLogs");
    const logRetentionDays = int("logRetentionDays", (n) => logRetentionValues.includes(n), `one of ${logRetentionValues.join(", ")}`);
    const imagesToKeep = int("imagesToKeep", (n) => n >= 1 && n <= 1000, "an integer from 1 to 1000");
    const containerInsights = bool("containerInsights");
    const compareSingleStage = bool("compareSingleStage");
    if (compareSingleStage && cpuArchitecture === "ARM64") {
        problems.push(
            `${project}:compareSingleStage is true with ${project}:cpuArchitecture ARM64, but the single-stage Dockerfile compiles inside the target platform's Go image, which needs an ARM64 builder or an emulator (an x86 CI runner has neither); set compareSingleStage to false, or compare on an X86_64 stack`,
        );
    }

    // A map, as `pulumi config set --path '<key>.NAME' value` writes it; the CLI passes it as JSON.
    const map = (key: ConfigKey): Record<string, unknown> => {
        const raw = str(key);
        if (raw === undefined || raw.trim() === "") return {};
        let v: unknown;
        try {
            v = JSON.parse(raw);
        } catch {
            v = undefined;
        }
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
            problems.push(`${project}:${key} is not a map of names to values; set each with pulumi config set --path '${key}.NAME' VALUE`);
            return {};
        }
        return v as Record<string, unknown>;
    };
    const reserved = new Set(options.reservedNames ?? []);
    const checkName = (key: ConfigKey, name: string): boolean => {
        const at = `${project}:${key}.${name}`;
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
    for (const [name, value] of Object.entries(map("environment"))) {
        if (!checkName("environment", name)) continue;
        if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
            problems.push(`${project}:environment.${name} is not a text value; it accepts text, a number or true/false`);
            continue;
        }
        environment[name] = String(value);
    }
    const secretsKey = `${project}:secrets`;
    const secretsAreSecret = (options.secretKeys ?? []).includes(secretsKey);
    const secrets: Record<string, SecretSetting> = {};
    for (const [name, value] of Object.entries(map("secrets"))) {
        if (!checkName("secrets", name)) continue;
        const at = `${secretsKey}.${name}`;
        if (name in environment) {
            problems.push(`${at} and ${project}:environment.${name} both set ${name}; keep one`);
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
                `${at} is plain text and not an ARN; a value must be encrypted in the stack: pulumi config set --secret --path 'secrets.${name}' VALUE`,
            );
        } else {
            secrets[name] = { value };
        }
    }
    const kmsRaw = (str("secretsKmsKeyArn") ?? "").trim();
    if (kmsRaw !== "" && !/^arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(kmsRaw)) {
        problems.push(
            `${project}:secretsKmsKeyArn is ${JSON.stringify(kmsRaw)}; it accepts a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; an alias cannot be granted decrypt) or "" when the secrets use AWS-managed keys`,
        );
    }
    if (kmsRaw !== "" && Object.keys(secrets).length === 0) {
        problems.push(
            `${project}:secretsKmsKeyArn is set, but ${project}:secrets names none; it is the key the secrets are encrypted with`,
        );
    }

    const boundaryRaw = (str("rolePermissionsBoundary") ?? "").trim();
    if (boundaryRaw !== "" && !/^arn:aws(-[a-z]+)*:iam::\d{12}:policy\/[\w+=,.@/-]+$/.test(boundaryRaw)) {
        problems.push(
            `${project}:rolePermissionsBoundary is ${JSON.stringify(boundaryRaw)}; it accepts an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME, the CI identities stack's output roleBoundaryArn) or ""`,
        );
    }

    const alarmsOn = bool("alarms");
    const percent = (key: ConfigKey) => int(key, (n) => n >= 1 && n <= 100, "a whole percent from 1 to 100");
    const thresholds = {
        alarmLoadBalancer5xxPercent: percent("alarmLoadBalancer5xxPercent"),
        alarmTarget5xxPercent: percent("alarmTarget5xxPercent"),
        alarmLatencyP99Ms: int("alarmLatencyP99Ms", (n) => n >= 1 && n <= 60_000, "milliseconds from 1 to 60000"),
        alarmCpuPercent: percent("alarmCpuPercent"),
        alarmMemoryPercent: percent("alarmMemoryPercent"),
    };
    const alarmEmail = (str("alarmEmail") ?? "").trim();
    if (alarmEmail !== "" && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
        problems.push(`${project}:alarmEmail is ${JSON.stringify(alarmEmail)}; it accepts an email address, or "" for no notifications`);
    }
    const alarmTopicArn = (str("alarmTopicArn") ?? "").trim();
    if (alarmTopicArn !== "" && !/^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(alarmTopicArn)) {
        problems.push(
            `${project}:alarmTopicArn is ${JSON.stringify(alarmTopicArn)}; it accepts an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), or ""`,
        );
    }
    if (alarmEmail !== "" && alarmTopicArn !== "") {
        problems.push(
            `${project}:alarmEmail and ${project}:alarmTopicArn are both set; set one (subscribe the address to your topic yourself)`,
        );
    }
    if (!alarmsOn && (alarmEmail !== "" || alarmTopicArn !== "")) {
        problems.push(
            `${project}:alarms is false, but ${project}:${alarmEmail !== "" ? "alarmEmail" : "alarmTopicArn"} is set: with no alarms there is nothing to send`,
        );
    }

    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
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
        vpc,
        vpcId: vpc === "existing" ? vpcId : undefined,
        publicSubnetIds,
        privateSubnetIds,
        natGateway,
        domainName: domainName === "" ? undefined : domainName,
        hostedZoneId: hostedZoneId === "" ? undefined : hostedZoneId,
        certificateArn: certRaw === "" ? undefined : certRaw,
        accessLogs,
        logRetentionDays,
        imagesToKeep,
        containerInsights,
        compareSingleStage,
        environment,
        secrets,
        secretsKmsKeyArn: kmsRaw === "" ? undefined : kmsRaw,
        rolePermissionsBoundary: boundaryRaw === "" ? undefined : boundaryRaw,
        alarms: alarmsOn,
        ...thresholds,
        alarmEmail: alarmEmail === "" ? undefined : alarmEmail,
        alarmTopicArn: alarmTopicArn === "" ? undefined : alarmTopicArn,
    };
}
