// A copy of the repository as a team's clone has it: the tracked (and new,
// unignored) files, with this checkout's node_modules linked in. Tests that
// change files change them there, never in the checkout that other specs,
// running beside them, read and build.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { repoRoot } from "../scripts/lib/docker";

/** The copy's folder; `skip` leaves out the files it matches (a folder a team replaces). */
export function copyRepository(skip: (file: string) => boolean = () => false): string {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "repo-copy-"));
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
        cwd: repoRoot,
        encoding: "utf8",
    }).split("\0");
    const linked = (f: string) => f === "node_modules" || f.startsWith("node_modules/");
    for (const file of files.filter(
        (f) => f && !linked(f) && !skip(f) && fs.statSync(path.join(repoRoot, f), { throwIfNoEntry: false })?.isFile(),
    )) {
        fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
        fs.copyFileSync(path.join(repoRoot, file), path.join(copy, file));
    }
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(copy, "node_modules"));
    return copy;
}
