// What an image is built from, named by its content alone. The version stamped
// into the image (and its tag) is a digest of the Dockerfile and of the files
// the build context holds after .dockerignore, so it is the same in a full
// clone, a shallow CI clone and a copy at another path, and a commit that does
// not touch those files changes nothing. No git history, clock or absolute
// path goes into the image's inputs.
import dockerignore, { Ignore } from "@balena/dockerignore";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface ImageSource {
    /** Build context, relative to the program's working directory (where the provider resolves it too). */
    context: string;
    /** Dockerfile, relative to the same directory. */
    dockerfile: string;
    /** "src-" and the first 12 hex digits of the source digest: the image's VERSION and tag. */
    version: string;
}

/**
 * The repository URL package.json names (`repository`, a string or `{ url }`), as a browsable
 * https URL: the image's source label. Undefined when package.json names none. Content of the
 * checkout, so every clone gives the same.
 */
export function repositoryUrl(projectDir: string): string | undefined {
    const pkg = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as {
        repository?: string | { url?: string };
    };
    const raw = typeof pkg.repository === "string" ? pkg.repository : pkg.repository?.url;
    if (!raw) return undefined;
    const url = raw
        .trim()
        .replace(/^git\+/, "")
        .replace(/^git@([^:]+):/, "https://$1/")
        .replace(
            /^(github|gitlab|bitbucket):([^/]+\/.+)$/,
            (_, host: string, repo: string) => `https://${host}.${host === "bitbucket" ? "org" : "com"}/${repo}`,
        )
        .replace(/^([\w.-]+\/[\w.-]+)$/, "https://github.com/$1")
        .replace(/\.git$/, "");
    return url;
}

/**
 * What contextDir/.dockerignore leaves out of the build context, read as the engine reads it:
 * @balena/dockerignore ports moby's rules (`*` and `?` stop at `/`, `**` spans folders, the last
 * matching line decides, a line matching a parent folder counts), case-sensitive as on Linux.
 */
function dockerignoreOf(contextDir: string): Ignore {
    const file = path.join(contextDir, ".dockerignore");
    // The engine drops a UTF-8 byte-order mark before reading the lines.
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "") : "";
    return dockerignore({ ignorecase: false }).add(text);
}

/** The files (and symbolic links) the build context holds, relative and sorted. */
export function contextFiles(contextDir: string): string[] {
    const rules = dockerignoreOf(contextDir);
    const files: string[] = [];
    const walk = (rel: string) => {
        for (const entry of fs.readdirSync(path.join(contextDir, rel), { withFileTypes: true })) {
            const p = rel === "" ? entry.name : `${rel}/${entry.name}`;
            if (entry.isDirectory()) walk(p);
            else if ((entry.isFile() || entry.isSymbolicLink()) && !rules.ignores(p)) files.push(p);
        }
    };
    walk("");
    return files.sort();
}

/**
 * sha256 over the Dockerfile and every file of the context: path, whether it
 * is executable (or a link), content. Not over times, owners or other mode
 * bits, which differ between checkouts of the same commit.
 */
export function sourceDigest(contextDir: string, dockerfile: string): string {
    const hash = createHash("sha256");
    const add = (name: string, kind: string, content: Buffer) => hash.update(`${name}\0${kind}\0${content.length}\0`).update(content);
    add("Dockerfile", "-", fs.readFileSync(dockerfile));
    for (const file of contextFiles(contextDir)) {
        const full = path.join(contextDir, file);
        const stat = fs.lstatSync(full);
        if (stat.isSymbolicLink()) add(file, "l", Buffer.from(fs.readlinkSync(full)));
        else add(file, stat.mode & 0o111 ? "x" : "-", fs.readFileSync(full));
    }
    return hash.digest("hex");
}

/** The version a source digest gives: "src-" and its first 12 hex digits. */
export function versionOf(digest: string): string {
    return `src-${digest.slice(0, 12)}`;
}

/**
 * The image's build inputs. Paths are relative to cwd, the program's working
 * directory: the Pulumi CLI starts the program and the Docker provider in the
 * same directory, so the provider finds them, and they read the same in every
 * checkout.
 */
export function imageSource(contextDir: string, dockerfile: string, cwd = process.cwd()): ImageSource {
    const rel = (p: string) => path.relative(cwd, p).split(path.sep).join("/") || ".";
    return { context: rel(contextDir), dockerfile: rel(dockerfile), version: versionOf(sourceDigest(contextDir, dockerfile)) };
}
