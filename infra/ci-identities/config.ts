// The CI identities stack's configuration, read once and checked: every bad
// key is reported in one error that names it. Its settings and defaults are
// this folder's Pulumi.yaml.
import * as path from "path";

import { ConfigError, ConfigSource, dnsName, hostedZoneIdPattern, undeclaredKeys } from "../config";
import { readProject } from "../project";

export interface CiConfig {
    /** owner/name */
    githubRepository: string;
    /** The GitHub environment whose jobs assume the main role: its secrets are the main stack's. */
    mainEnvironment: string;
    /** The GitHub environment whose jobs assume the pull-request role: its secrets are the pr-* stacks'. */
    pullRequestEnvironment: string;
    mainStack: string;
    /** The account's GitHub OIDC provider, when it has one already. */
    oidcProviderArn?: string;
    regions: string[];
    domainName?: string;
    hostedZoneId?: string;
    stateBucket?: string;
    /** The KMS key of the main stack's awskms:// secrets. */
    stateKmsKeyArn?: string;
    /** The KMS key of the pr-* stacks' awskms:// secrets: never the main stack's. */
    pullRequestStateKmsKeyArn?: string;
}

/** Settings of earlier versions, and what took their place. */
const retired: Record<string, string> = {
    mainBranch:
        'is retired: the main role trusts the jobs of the GitHub environment mainEnvironment (default dev), and that environment\'s deployment branches say which branch deploys (README.md, "CI identities"); remove it: pulumi -C infra/ci-identities config rm mainBranch',
};

/** This program's project file. */
export const ciProject = readProject(path.join(__dirname));

/** GitHub's rules: an owner of letters, digits and single hyphens; a repository of letters, digits, ".", "_", "-". */
const repository = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/[A-Za-z0-9._-]{1,100}$/;
/** The stack names the pull-request workflow makes, which the pull-request role deploys. */
export const pullRequestStacks = "pr-*";

/**
 * The stack's config, checked. `stackRegion` is its aws:region, the default of `regions`.
 */
export function loadCiConfig(source: ConfigSource, project: string, stackRegion?: string): CiConfig {
    const current: ConfigSource = { get: (k) => source.get(k), keys: () => source.keys().filter((k) => !(k in retired)) };
    const problems = undeclaredKeys(current, project, Object.keys(ciProject.config));
    for (const [k, why] of Object.entries(retired)) if (source.get(k) !== undefined) problems.push(`${project}:${k} ${why}`);
    const key = (k: string) => `${project}:${k}`;
    const str = (k: string) => (source.get(k) ?? ciProject.config[k].default).trim();

    const githubRepository = str("githubRepository");
    if (githubRepository === "") {
        problems.push(
            `${key("githubRepository")} is not set; set it to the repository whose workflows deploy: pulumi config set githubRepository OWNER/NAME`,
        );
    } else if (/[*?]/.test(githubRepository)) {
        problems.push(
            `${key("githubRepository")} is ${JSON.stringify(githubRepository)}; a wildcard would let the workflows of other repositories assume the deploy roles: name one repository, OWNER/NAME`,
        );
    } else if (!repository.test(githubRepository)) {
        problems.push(`${key("githubRepository")} is ${JSON.stringify(githubRepository)}; it accepts a GitHub repository, OWNER/NAME`);
    }

    // GitHub's environment names: up to 255 characters, none of ' " ` , ; / \\ and no control characters.
    const environments = ["mainEnvironment", "pullRequestEnvironment"].map((k) => {
        const v = str(k);
        if (v === "" || v.length > 255 || /['"`,;/\\*?]/.test(v) || [...v].some((ch) => ch < " ")) {
            problems.push(
                `${key(k)} is ${JSON.stringify(v)}; it accepts the name of a GitHub environment of the repository, such as ${JSON.stringify(ciProject.config[k].default)} (no wildcards)`,
            );
        }
        return v;
    });
    const [mainEnvironment, pullRequestEnvironment] = environments;
    if (mainEnvironment !== "" && mainEnvironment.toLowerCase() === pullRequestEnvironment.toLowerCase()) {
        problems.push(
            `${key("pullRequestEnvironment")} is ${JSON.stringify(pullRequestEnvironment)}, the same as ${key("mainEnvironment")} (GitHub's environment names are case-insensitive): a pull request's jobs would get the main stack's secrets and role`,
        );
    }

    const mainStack = str("mainStack");
    if (!/^[A-Za-z0-9_.-]+$/.test(mainStack)) {
        problems.push(`${key("mainStack")} is ${JSON.stringify(mainStack)}; it accepts a stack name such as dev`);
    } else if (mainStack.startsWith("pr-")) {
        problems.push(
            `${key("mainStack")} is ${JSON.stringify(mainStack)}; stacks named pr-* are the pull requests', which the pull-request role deploys`,
        );
    }

    const oidcProviderArn = str("oidcProviderArn");
    if (
        oidcProviderArn !== "" &&
        !/^arn:aws(-[a-z]+)*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/.test(oidcProviderArn)
    ) {
        problems.push(
            `${key("oidcProviderArn")} is ${JSON.stringify(oidcProviderArn)}; it accepts the ARN of the account's GitHub OIDC provider (arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com), or "" to make one`,
        );
    }

    const regionList = str("regions")
        .split(",")
        .map((r) => r.trim())
        .filter((r) => r !== "");
    const regions = regionList.length > 0 ? regionList : stackRegion ? [stackRegion] : [];
    const badRegions = regions.filter((r) => !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(r));
    if (badRegions.length > 0) {
        problems.push(`${key("regions")} names ${badRegions.join(", ")}; it accepts AWS regions such as us-east-1, comma-separated`);
    } else if (regions.length === 0) {
        problems.push(`${key("regions")} is empty and the stack sets no aws:region; set one of them`);
    }

    const domainName = str("domainName").toLowerCase().replace(/\.$/, "");
    if (domainName !== "" && !dnsName.test(domainName)) {
        problems.push(
            `${key("domainName")} is ${JSON.stringify(domainName)}; it accepts the service stacks' DNS name, such as calc.example.com`,
        );
    }
    const hostedZoneId = str("hostedZoneId");
    if (hostedZoneId !== "" && !hostedZoneIdPattern.test(hostedZoneId)) {
        problems.push(
            `${key("hostedZoneId")} is ${JSON.stringify(hostedZoneId)}; it accepts a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ`,
        );
    } else if (hostedZoneId !== "" && domainName === "") {
        problems.push(`${key("hostedZoneId")} is set without ${key("domainName")}; it is the zone that holds domainName`);
    }

    const stateBucket = str("stateBucket");
    if (stateBucket.startsWith("s3://")) {
        problems.push(`${key("stateBucket")} is ${JSON.stringify(stateBucket)}; give the bucket's name alone, without s3://`);
    } else if (stateBucket !== "" && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(stateBucket)) {
        problems.push(`${key("stateBucket")} is ${JSON.stringify(stateBucket)}; it accepts an S3 bucket name`);
    }
    const kmsKey = (k: string) => {
        const v = str(k);
        if (v !== "" && !/^arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(v)) {
            problems.push(
                `${key(k)} is ${JSON.stringify(v)}; it accepts a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID, not an alias), or ""`,
            );
        }
        return v;
    };
    const stateKmsKeyArn = kmsKey("stateKmsKeyArn");
    const pullRequestStateKmsKeyArn = kmsKey("pullRequestStateKmsKeyArn");
    if (stateKmsKeyArn !== "" && stateKmsKeyArn === pullRequestStateKmsKeyArn) {
        problems.push(
            `${key("pullRequestStateKmsKeyArn")} is the main stack's key (${key("stateKmsKeyArn")}): a pull request's jobs could decrypt the main stack's secrets; give the pr-* stacks a key of their own`,
        );
    }

    if (problems.length > 0) throw new ConfigError(problems);
    const unset = (v: string) => (v === "" ? undefined : v);
    return {
        githubRepository,
        mainEnvironment,
        pullRequestEnvironment,
        mainStack,
        oidcProviderArn: unset(oidcProviderArn),
        regions,
        domainName: unset(domainName),
        hostedZoneId: unset(hostedZoneId),
        stateBucket: unset(stateBucket),
        stateKmsKeyArn: unset(stateKmsKeyArn),
        pullRequestStateKmsKeyArn: unset(pullRequestStateKmsKeyArn),
    };
}
