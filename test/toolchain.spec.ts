// One Go everywhere: app/go.mod's toolchain line is the pin, and every place
// that builds, tests or scans Go names that one. A bump of Go is then one
// edit of go.mod (plus the Dockerfiles' defaults, which this test and the
// build itself hold to it), and it changes the image's version.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

import { repoRoot } from "../scripts/lib/docker";

const read = (file: string) => fs.readFileSync(path.join(repoRoot, file), "utf8");
const toolchain = execFileSync(path.join(repoRoot, "scripts", "go-toolchain.sh"), { encoding: "utf8" }).trim();

interface Step {
    id?: string;
    uses?: string;
    run?: string;
    with?: Record<string, string>;
}

describe("Go toolchain: one pin, app/go.mod's", function () {
    it("go.mod pins an exact release with its toolchain line", function () {
        assert.match(read("app/go.mod"), new RegExp(`^toolchain ${toolchain}$`, "m"));
        assert.match(toolchain, /^go\d+\.\d+\.\d+$/, "a toolchain line names one patch release");
    });

    it("the Dockerfiles' default builder image holds that Go", function () {
        for (const file of ["app/Dockerfile", "app/Dockerfile.single"]) {
            assert.equal(/^ARG GO_IMAGE=(.*)$/m.exec(read(file))?.[1], `golang:${toolchain.slice(2)}-bookworm`, file);
        }
    });

    it("every workflow job that sets up Go takes the version from go.mod's toolchain line", function () {
        const dir = path.join(repoRoot, ".github", "workflows");
        let setups = 0;
        for (const file of fs.readdirSync(dir)) {
            const wf = yaml.load(fs.readFileSync(path.join(dir, file), "utf8")) as { jobs: Record<string, { steps: Step[] }> };
            for (const [name, job] of Object.entries(wf.jobs)) {
                const steps = job.steps;
                for (const [i, s] of steps.entries()) {
                    if (!s.uses?.startsWith("actions/setup-go")) continue;
                    setups++;
                    assert.equal(s.with?.["go-version"], "${{ steps.go.outputs.version }}", `${file} ${name}`);
                    const source = steps.slice(0, i).find((p) => p.id === "go");
                    assert.match(String(source?.run), /scripts\/go-toolchain\.sh/, `${file} ${name}: the go step does not read go.mod`);
                }
                // The vulnerability gate scans the binary the image ships, not the sources with another Go.
                if (name === "govulncheck") {
                    const runs = steps.map((s) => s.run ?? "").join("\n");
                    assert.match(runs, /docker build --target binary --output type=local,dest=bin app/, `${file}`);
                    assert.match(runs, /govulncheck" -mode=binary bin\/app/, `${file}`);
                }
            }
        }
        assert.ok(setups >= 4, `only ${setups} setup-go steps`);
    });

    it("every script that runs Go exports that toolchain first (a machine's own Go may be another)", function () {
        const scripts = ["scripts/test.sh", "scripts/lint.sh", "scripts/mutate.sh"];
        for (const file of scripts) {
            const text = read(file);
            const exported = text.indexOf('GOTOOLCHAIN="$(scripts/go-toolchain.sh)"');
            assert.ok(exported >= 0, `${file} does not export the toolchain`);
            const firstGo = text.search(/^[^#\n]*\bgo (vet|test|install|env)\b/m);
            assert.ok(firstGo < 0 || exported < firstGo, `${file} runs go before it exports the toolchain`);
        }
        const npmScripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
        for (const [name, command] of Object.entries(npmScripts)) {
            if (/\bgo (test|fmt|vet|build)\b/.test(command)) {
                assert.match(command, /GOTOOLCHAIN="\$\(scripts\/go-toolchain\.sh\)"/, `npm run ${name}`);
            }
        }
        assert.match(
            read("scripts/docker-env.sh"),
            /GOTOOLCHAIN="\$want" go env GOROOT/,
            "the local builder image is made from another Go",
        );
    });
});
