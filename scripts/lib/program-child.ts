// Runs the program once under fake AWS mocks, in a process of its own (as the
// CLI does), and writes what it recorded as JSON to the file named in argv.
//   node -r scripts/lib/transpile-cache.cjs scripts/lib/program-child.ts SPEC.json RESULT.json
import * as fs from "fs";

import { FakeAwsOptions, fakeAws } from "./fake-aws";
import { PriorState, runProgram } from "./mock-program";

export interface ChildSpec {
    stack: string;
    config: Record<string, string>;
    fake?: FakeAwsOptions;
    preview?: boolean;
    secretKeys?: string[];
    /** The project folder whose program to run (a checkout elsewhere); this repository by default. */
    projectDir?: string;
    /** The deployed stack's state the run updates. */
    prior?: PriorState;
}

const [specFile, resultFile] = process.argv.slice(2);
const spec = JSON.parse(fs.readFileSync(specFile, "utf8")) as ChildSpec;

const mocks = fakeAws({ ...spec.fake, preview: spec.preview });
runProgram({
    stack: spec.stack,
    config: spec.config,
    secretKeys: spec.secretKeys,
    mocks,
    preview: spec.preview,
    projectDir: spec.projectDir,
    prior: spec.prior,
}).then(
    (run) => {
        fs.writeFileSync(resultFile, JSON.stringify({ ok: true, run: { ...run, registryTags: mocks.registryTags() } }));
        process.exit(0);
    },
    (err: Error) => {
        fs.writeFileSync(resultFile, JSON.stringify({ ok: false, error: err.message, name: err.name }));
        process.exit(2); // non-zero: the program failed (and Pulumi's leak report stays quiet)
    },
);
