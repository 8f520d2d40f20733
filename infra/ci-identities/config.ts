// The CI identities stack's configuration, read once and checked: every bad
// key is reported in one error that names it. Its settings and defaults are
// this folder's Pulumi.yaml.
import * as path from "path";

import { ConfigError, ConfigSource, dnsName, hostedZoneIdPattern, undeclaredKeys } from "../config";
import { readProject } from "../project";

export interface CiConfig {
    /** owner/name */
    githubRepository: string;
    mainBranch: string;
    mainStack: string;
    /** The account's GitHub OIDC provider, when it has one already. */
    oidcProviderArn?: string;
    regions: string[];
    domainName?: string;
    hostedZoneId?: string;
    stateBucket?: string;
    stateKmsKeyArn?: string;
}

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
    const problems = undeclaredKeys(source, project, Object.keys(ciProject.config));
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

    const mainBranch = str("mainBranch");
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(mainBranch) || mainBranch.startsWith("refs/") || mainBranch.includes("..")) {
        problems.push(
            `${key("mainBranch")} is ${JSON.stringify(mainBranch)}; it accepts a branch name such as main (no wildcards, no refs/heads/)`,
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
    const stateKmsKeyArn = str("stateKmsKeyArn");
    if (stateKmsKeyArn !== "" && !/^arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(stateKmsKeyArn)) {
        problems.push(
            `${key("stateKmsKeyArn")} is ${JSON.stringify(stateKmsKeyArn)}; it accepts a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID, not an alias), or ""`,
        );
    }

    if (problems.length > 0) throw new ConfigError(problems);
    const unset = (v: string) => (v === "" ? undefined : v);
    return {
        githubRepository,
        mainBranch,
        mainStack,
        oidcProviderArn: unset(oidcProviderArn),
        regions,
        domainName: unset(domainName),
        hostedZoneId: unset(hostedZoneId),
        stateBucket: unset(stateBucket),
        stateKmsKeyArn: unset(stateKmsKeyArn),
    };
}
