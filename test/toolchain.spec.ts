// One Go everywhere: the services' go.mod toolchain line is the pin, and every place
// that builds, tests or scans Go names that one. A bump of Go is then one
// edit of go.mod (plus the Dockerfiles' defaults, which this test and the
// build itself hold to it), and it changes the image's version.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";

import { repoRoot } from "../scripts/lib/docker";
import { services } from "../scripts/services";

const read = (file: string) => fs.readFileSync(path.join(repoRoot, file), "utf8");
const toolchain = execFileSync(path.join(repoRoot, "scripts", "go-toolchain.sh"), { encoding: "utf8" }).trim();

interface Step {
    id?: string;
    uses?: string;
    run?: string;
    with?: Record<string, string>;
}

const serviceFiles = (name: string) => services.map((s) => path.relative(repoRoot, path.join(s.dir, name)));

describe("Go toolchain: one pin, the services' go.mod", function () {
    it("each service's go.mod pins the same exact release with its toolchain line", function () {
        for (const file of serviceFiles("go.mod")) assert.match(read(file), new RegExp(`^toolchain ${toolchain}$`, "m"), file);
        assert.match(toolchain, /^go\d+\.\d+\.\d+$/, "a toolchain line names one patch release");
    });

    it("the Dockerfiles' default builder image holds that Go, and so do the scaffold's", function () {
        const dockerfiles = services.flatMap((s) =>
            ["Dockerfile", s.singleStageDockerfile]
                .filter((f): f is string => !!f)
                .map((f) => path.relative(repoRoot, path.join(s.dir, f))),
        );
        for (const file of dockerfiles) {
            assert.equal(/^ARG GO_IMAGE=(.*)$/m.exec(read(file))?.[1], `golang:${toolchain.slice(2)}-bookworm`, file);
        }
        assert.match(
            read("scripts/new-service/go.mod.tmpl"),
            new RegExp(`^toolchain ${toolchain}$`, "m"),
            "npm run new-service pins another Go",
        );
    });

    it("refuses two services that pin different Go releases, naming both", function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "toolchains-"));
        try {
            fs.mkdirSync(path.join(dir, "scripts"));
            for (const f of ["go-toolchain.sh"]) fs.copyFileSync(path.join(repoRoot, "scripts", f), path.join(dir, "scripts", f));
            fs.writeFileSync(path.join(dir, "scripts", "service-dirs.sh"), "#!/bin/sh\nprintf 'a\\nb\\n'\n", { mode: 0o755 });
            for (const [svc, go] of [
                ["a", "go1.27.3"],
                ["b", "go1.27.4"],
            ]) {
                fs.mkdirSync(path.join(dir, svc));
                fs.writeFileSync(path.join(dir, svc, "go.mod"), `module ${svc}\n\ngo 1.26\n\ntoolchain ${go}\n`);
            }
            assert.throws(
                () => execFileSync(path.join(dir, "scripts", "go-toolchain.sh"), { encoding: "utf8", stdio: "pipe" }),
                (err: { stderr: string }) =>
                    /b\/go\.mod pins go1\.27\.4, a\/go\.mod go1\.27\.3: the services build with one Go/.test(err.stderr),
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
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
                // The vulnerability gate scans the binary each declared service's image ships, not the sources with another Go.
                if (name === "govulncheck") {
                    const runs = steps.map((s) => s.run ?? "").join("\n");
                    assert.match(runs, /scripts\/service-dirs\.sh images \| while IFS=\$'\\t' read -r name dir target binary/, file);
                    assert.match(
                        runs,
                        /docker build \$\{target:\+--target "\$target"\} --output "type=local,dest=bin\/\$\{name\}" "\$dir"/,
                        file,
                    );
                    assert.match(runs, /govulncheck" -mode=binary "bin\/\$\{name\}\$\{binary\}"/, file);
                    const install = steps.findIndex((s) => s.run === "npm ci");
                    assert.ok(
                        install >= 0 && install < steps.findIndex((s) => s.id === "go"),
                        `${file} ${name}: npm ci must come before the services are listed`,
                    );
                }
            }
        }
        assert.ok(setups >= 4, `only ${setups} setup-go steps`);
    });

    it("every script that runs Go exports that toolchain first (a machine's own Go may be another)", function () {
        const scripts = ["scripts/test.sh", "scripts/lint.sh", "scripts/mutate.sh", "scripts/fuzz.sh"];
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
