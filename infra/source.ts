// What version of app/ is being built: taken from git history, never from the
// clock, so an unchanged app/ gives unchanged image inputs (and previews),
// and a change elsewhere in the repository does not rebuild the image.
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface SourceVersion {
    /** Short commit of the last change to app/, "-dirty-<hash>" when app/ has uncommitted changes. */
    version: string;
    /** Full commit of the last change to app/, or "unknown" outside a git checkout. */
    commit: string;
    /** That commit's time in seconds since the epoch: SOURCE_DATE_EPOCH for the build. */
    sourceDateEpoch: string;
}

function git(cwd: string, args: string[]): string | undefined {
    try {
        return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return undefined;
    }
}

/** sha256 over app/'s files (paths and contents, in sorted order): the same tree gives the same hash. */
export function contentHash(dir: string): string {
    const hash = createHash("sha256");
    const walk = (rel: string) => {
        const entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
        for (const e of entries) {
            const p = path.posix.join(rel, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.isFile())
                hash.update(`${p}\0`)
                    .update(fs.readFileSync(path.join(dir, p)))
                    .update("\0");
        }
    };
    walk("");
    return hash.digest("hex");
}

export function sourceVersion(appDir: string): SourceVersion {
    const log = git(appDir, ["log", "-1", "--format=%H %ct", "--", "."]);
    if (!log) {
        return { version: `src-${contentHash(appDir).slice(0, 12)}`, commit: "unknown", sourceDateEpoch: "0" };
    }
    const [commit, epoch] = log.split(" ");
    const dirty = git(appDir, ["status", "--porcelain", "--untracked-files=all", "--", "."]);
    const short = commit.slice(0, 12);
    return {
        version: dirty ? `${short}-dirty-${contentHash(appDir).slice(0, 8)}` : short,
        commit,
        sourceDateEpoch: epoch,
    };
}
