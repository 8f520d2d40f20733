// The documentation: docs/configuration.md's table says what Pulumi.yaml declares, and every
// relative link of README.md and the pages it links reaches a file (and a heading there).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { repoRoot } from "../scripts/lib/docker";
import { readProject } from "../scripts/lib/stack-config";
import { configTable } from "./readme-table";

describe("docs/configuration.md", function () {
    it("documents every config key of Pulumi.yaml, with its type and default, and no other", function () {
        const rows = configTable(fs.readFileSync(path.join(repoRoot, "docs", "configuration.md"), "utf8"));
        const project = readProject();
        assert.deepEqual(rows.map((r) => r.key).sort(), Object.keys(project.config).sort(), "keys differ");
        for (const row of rows) {
            const decl = project.config[row.key];
            assert.equal(row.type, decl.type, `${row.key}: README says ${row.type}, Pulumi.yaml ${decl.type}`);
            assert.equal(row.default, decl.default, `${row.key}: README's default ${row.default}, Pulumi.yaml's ${decl.default}`);
        }
    });

    it("the drift check notices a wrong default", function () {
        const readme = fs
            .readFileSync(path.join(repoRoot, "docs", "configuration.md"), "utf8")
            .replace(/(\|\s*`cpu`\s*\|\s*integer\s*\|\s*)`256`/, "$1`512`");
        const row = configTable(readme).find((r) => r.key === "cpu");
        assert.equal(row?.default, "512");
        assert.notEqual(row?.default, readProject().config.cpu.default);
    });
});

/** GitHub's anchor of a heading: lowercase, punctuation but "-" and "_" dropped, spaces made "-". */
function anchorOf(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-");
}

/** The Markdown files the README leads to: itself, and every .md it links, and theirs. */
function linkedPages(): string[] {
    const seen = new Set<string>();
    const visit = (file: string) => {
        if (seen.has(file) || !fs.existsSync(file)) return;
        seen.add(file);
        for (const link of links(file)) if (link.file.endsWith(".md")) visit(link.file);
    };
    visit(path.join(repoRoot, "README.md"));
    return [...seen];
}

function links(file: string): { text: string; file: string; anchor?: string }[] {
    const body = fs.readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
    return [...body.matchAll(/\[([^\]]+)\]\(([^)\s]+)\)/g)]
        .filter((m) => !/^[a-z]+:/.test(m[2]))
        .map((m) => {
            const [target, anchor] = m[2].split("#");
            return { text: m[1], file: target ? path.resolve(path.dirname(file), target) : file, anchor };
        });
}

describe("the documentation's links", function () {
    it("README.md links the reference pages under docs/, and each relative link reaches a file and, with an anchor, a heading of it", function () {
        const pages = linkedPages().map((f) => path.relative(repoRoot, f));
        for (const page of ["docs/configuration.md", "docs/architecture.md", "docs/ci-roles.md"])
            assert.ok(pages.includes(page), `README.md does not lead to ${page}`);
        let checked = 0;
        for (const page of pages) {
            for (const link of links(path.join(repoRoot, page))) {
                checked++;
                assert.ok(
                    fs.existsSync(link.file),
                    `${page}: [${link.text}] names ${path.relative(repoRoot, link.file)}, which is not there`,
                );
                if (link.anchor && link.file.endsWith(".md")) {
                    const headings = fs
                        .readFileSync(link.file, "utf8")
                        .replace(/```[\s\S]*?```/g, "")
                        .split("\n")
                        .filter((l) => /^#+ /.test(l))
                        .map((l) => anchorOf(l.replace(/^#+ /, "")));
                    assert.ok(
                        headings.includes(link.anchor),
                        `${page}: [${link.text}] names #${link.anchor}, no heading of ${path.relative(repoRoot, link.file)}`,
                    );
                }
            }
        }
        assert.ok(checked >= 5, `only ${checked} links checked`);
    });

    it("the check notices a link to a page that is not there, and an anchor no heading has", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "links-"));
        try {
            fs.writeFileSync(path.join(dir, "a.md"), "# A page\n\n[gone](b.md) [here](a.md#a-page) [nowhere](a.md#no-such)\n");
            const found = links(path.join(dir, "a.md"));
            assert.deepEqual(
                found.map((l) => [fs.existsSync(l.file), l.anchor]),
                [
                    [false, undefined],
                    [true, "a-page"],
                    [true, "no-such"],
                ],
            );
            assert.equal(anchorOf("Your own service"), "your-own-service");
            assert.equal(anchorOf("What `npm start` runs, for real"), "what-npm-start-runs-for-real");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
