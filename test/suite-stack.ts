// The test suite's own stack configuration. The specs run on this, never on a
// team's Pulumi.dev.yaml: a dev stack with secrets, settings of its own or
// another port changes nothing the suite checks. Written as a stack file (the
// CLI's --config-file) under the project's name as Pulumi.yaml gives it, so a
// renamed project needs no change here.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { readProject } from "../infra/project";

export const suiteRegion = "us-east-1";

/** The suite's settings: a small stack in the account's default VPC. */
export const suiteSettings: Record<string, string> = {
    cpu: "256",
    memory: "512",
    cpuArchitecture: "X86_64",
    desiredCount: "1",
    minCount: "1",
    maxCount: "2",
    spot: "false",
    vpc: "default",
    logRetentionDays: "7",
};

let written: string | undefined;

/** The suite's stack file, written once per process into a folder of its own. */
export function suiteConfigFile(): string {
    if (written) return written;
    const project = readProject().name;
    const lines = [
        "config:",
        `  aws:region: ${suiteRegion}`,
        ...Object.entries(suiteSettings).map(([k, v]) => `  ${project}:${k}: ${JSON.stringify(v)}`),
    ];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "suite-stack-"));
    written = path.join(dir, "Pulumi.suite.yaml");
    fs.writeFileSync(written, `${lines.join("\n")}\n`);
    return written;
}
