// README.md's configuration table must say what Pulumi.yaml declares.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

import { repoRoot } from "../scripts/lib/docker";
import { readProject } from "../scripts/lib/stack-config";
import { configTable } from "./readme-table";

describe("README.md", function () {
    it("documents every config key of Pulumi.yaml, with its type and default, and no other", function () {
        const rows = configTable(fs.readFileSync(path.join(repoRoot, "README.md"), "utf8"));
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
            .readFileSync(path.join(repoRoot, "README.md"), "utf8")
            .replace(/(\|\s*`cpu`\s*\|\s*integer\s*\|\s*)`256`/, "$1`512`");
        const row = configTable(readme).find((r) => r.key === "cpu");
        assert.equal(row?.default, "512");
        assert.notEqual(row?.default, readProject().config.cpu.default);
    });
});
