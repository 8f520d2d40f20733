// The version the program stamps on the service's image (the calculator's /version
// answers it): "src-" and 12 hex digits of a digest of the service folder's build
// context. It names the source, not a commit; this finds the one from the other.
//
//   npm run -s source-version                      this working tree
//   npm run -s source-version -- REV...            those commits (git revisions)
//   npm run -s source-version -- --find VERSION    the commits whose service folder gives VERSION
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";

import { imageSource } from "../infra/source";
import { services } from "../infra/services";

/** The service whose version the command line asks for: the first declared one. */
const [service] = services;
import { repoRoot } from "./lib/docker";

/** The service's folder, relative to the repository (infra/services.ts). */
const folder = path.relative(repoRoot, service.dir);

const usage = "usage: npm run -s source-version [-- REV... | -- --find VERSION]";

function git(args: string[], cwd = repoRoot): string {
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 << 20 }).trim();
}

function versionOfDir(app: string): string {
    return imageSource(app, path.join(app, "Dockerfile")).version;
}

/** The version of the service folder as a commit holds it, read from git (no checkout needed). */
export function versionAt(rev: string, root = repoRoot, dirName = folder): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "source-version-"));
    try {
        const archive = path.join(dir, "service.tar");
        execFileSync("git", ["archive", "--output", archive, rev, dirName], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
        execFileSync("tar", ["-xf", archive, "-C", dir]);
        if (!fs.existsSync(path.join(dir, dirName, "Dockerfile")))
            throw new Error(`${rev} has no ${dirName}/Dockerfile: no image is built from it`);
        return versionOfDir(path.join(dir, dirName));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Commits that changed the service folder and leave it at `version`, newest first, as "hash date subject". */
export function findVersion(version: string, root = repoRoot, dirName = folder): string[] {
    const byTree = new Map<string, string>(); // folder's tree -> version: one archive per distinct tree
    const found: string[] = [];
    for (const line of git(["log", "--format=%H %cs %s", "--", dirName], root).split("\n").filter(Boolean)) {
        const commit = line.slice(0, line.indexOf(" "));
        let tree: string;
        try {
            git(["cat-file", "-e", `${commit}:${dirName}/Dockerfile`], root);
            tree = git(["rev-parse", `${commit}:${dirName}`], root);
        } catch {
            continue; // the folder or its Dockerfile is missing there: no image was built from it
        }
        if (!byTree.has(tree)) byTree.set(tree, versionAt(commit, root, dirName));
        if (byTree.get(tree) === version) found.push(line);
    }
    return found;
}

function main(argv: string[]): number {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            options: { find: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
            allowPositionals: true,
        });
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n${usage}\n`);
        return 2;
    }
    const { values, positionals } = parsed;
    if (values.help) {
        process.stdout.write(`${usage}\n`);
        return 0;
    }
    if (values.find !== undefined) {
        const version = values.find;
        if (positionals.length > 0 || !/^src-[0-9a-f]{12}$/.test(version)) {
            process.stderr.write(`--find takes one version such as src-0123456789ab\n${usage}\n`);
            return 2;
        }
        const found = findVersion(version);
        const shallow = git(["rev-parse", "--is-shallow-repository"]) === "true";
        for (const line of found) process.stdout.write(`${line}\n`);
        if (found.length === 0) {
            process.stderr.write(
                `no commit here leaves ${folder}/ at ${version}${shallow ? " (this clone is shallow: `git fetch --unshallow` for all of history)" : ""}\n`,
            );
            return 1;
        }
        return 0;
    }
    if (positionals.length === 0) {
        process.stdout.write(`${versionOfDir(service.dir)}\n`);
        return 0;
    }
    for (const rev of positionals) process.stdout.write(`${versionAt(rev)} ${rev}\n`);
    return 0;
}

if (require.main === module) {
    try {
        process.exit(main(process.argv.slice(2)));
    } catch (err) {
        process.stderr.write(`source-version: ${(err as Error).message}\n`);
        process.exit(1);
    }
}
