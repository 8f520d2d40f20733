// `npm run new-service`: its arguments refused with the argument named, and the folder it
// writes a declaration the platform accepts (test/fork.spec.ts builds, tests and runs one).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { ServiceDeclaration, declarationProblems } from "../infra/declaration";
import { contextFiles } from "../infra/source";
import { parseNewService, writeNewService } from "../scripts/new-service";

describe("npm run new-service", function () {
    for (const [args, message] of [
        [[], /name the service/],
        [["Orders"], /name "Orders": lowercase letters, digits and "-"/],
        [["orders", "--port", "80"], /--port 80: a TCP port from 1024 to 65535/],
        [["orders", "--port", "9090x"], /--port 9090x: a TCP port/],
        [["orders", "--health-path", "/"], /--health-path "\/": a path of its own/],
        [["orders", "--health-path", "health"], /--health-path "health": a path of its own/],
        [["orders", "--dir", "infra"], /--dir infra: already there/],
        [["orders", "--colour", "red"], /Unknown option '--colour'/],
    ] as [string[], RegExp][]) {
        it(`refuses ${JSON.stringify(args)}, naming the argument, with the usage`, function () {
            assert.throws(
                () => parseNewService(args),
                (err: Error) => message.test(err.message) && /usage: npm run new-service -- NAME/.test(err.message),
            );
        });
    }

    it("writes a folder whose declaration the platform accepts, and names it in infra/services.ts", function () {
        const repo = fs.mkdtempSync(path.join(os.tmpdir(), "new-service-"));
        try {
            fs.mkdirSync(path.join(repo, "infra"));
            const s = parseNewService(["orders-api", "--port", "9191", "--health-path", "/ping"]);
            assert.deepEqual(s, {
                name: "orders-api",
                port: 9191,
                healthPath: "/ping",
                dir: path.join("services", "orders-api"),
                kind: "public",
                path: undefined,
                calls: [],
            });
            const written = writeNewService(s, repo);
            assert.deepEqual(
                written.sort(),
                [
                    "infra/services.ts",
                    ...["Dockerfile", ".dockerignore", "go.mod", "main.go", "main_test.go", "service.ts"].map(
                        (f) => `services/orders-api/${f}`,
                    ),
                ].sort(),
            );
            const services = fs.readFileSync(path.join(repo, "infra", "services.ts"), "utf8");
            assert.match(services, /import \{ ordersApi \} from "\.\.\/services\/orders-api\/service";/);
            assert.match(services, /export const services: ServiceDeclaration\[\] = \[ordersApi\];/);
            const declaration = fs.readFileSync(path.join(repo, "services", "orders-api", "service.ts"), "utf8");
            assert.match(declaration, /from "\.\.\/\.\.\/infra\/declaration"/);
            assert.match(declaration, /port: 9191,/);
            assert.match(declaration, /healthCheckPath: "\/ping"/);
            assert.match(fs.readFileSync(path.join(repo, "services", "orders-api", "main.go"), "utf8"), /const healthPath = "\/ping"/);
            // The declaration as the program reads it: the file written, its import pointed at this checkout's infra/.
            const dir = path.join(repo, "services", "orders-api");
            const loadable = path.join(dir, "service-under-test.ts");
            fs.writeFileSync(loadable, declaration.replace("../../infra/declaration", path.join(__dirname, "..", "infra", "declaration")));
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the written file, loaded as the program loads it
            const loaded = (require(loadable) as { ordersApi: ServiceDeclaration }).ordersApi;
            assert.equal(loaded.dir, dir);
            assert.equal(loaded.container.port, 9191);
            assert.deepEqual(declarationProblems(loaded), []);
            // A Go package in a subfolder reaches the build's context, as go build on the host sees it.
            fs.mkdirSync(path.join(dir, "internal", "greet"), { recursive: true });
            fs.writeFileSync(path.join(dir, "internal", "greet", "greet.go"), "package greet\n");
            fs.writeFileSync(path.join(dir, "NOTES.md"), "not for the image\n");
            const context = contextFiles(dir);
            assert.ok(context.includes("internal/greet/greet.go"), context.join("\n"));
            assert.ok(context.includes("main.go") && context.includes("go.mod"));
            assert.ok(!context.includes("NOTES.md"));
        } finally {
            fs.rmSync(repo, { recursive: true, force: true });
        }
    });

    it("adds a service beside those listed whose folders are there, and drops a deleted sample's", function () {
        const repo = fs.mkdtempSync(path.join(os.tmpdir(), "new-service-"));
        try {
            fs.mkdirSync(path.join(repo, "infra"));
            fs.mkdirSync(path.join(repo, "app"));
            fs.writeFileSync(path.join(repo, "app", "service.ts"), "");
            fs.writeFileSync(
                path.join(repo, "infra", "services.ts"),
                'import { calculator } from "../app/service";\nimport { gone } from "../gone/service";\nimport { ServiceDeclaration } from "./declaration";\n\nexport const services: ServiceDeclaration[] = [calculator, gone];\n',
            );
            writeNewService(parseNewService(["ledger", "--port", "9090", "--kind", "internal", "--dir", "ledger"]), repo);
            writeNewService(parseNewService(["web", "--path", "/web/*", "--calls", "ledger", "--dir", "web"]), repo);
            const services = fs.readFileSync(path.join(repo, "infra", "services.ts"), "utf8");
            assert.match(services, /export const services: ServiceDeclaration\[\] = \[calculator, ledger, web\];/);
            assert.ok(!services.includes("gone"), services);
            assert.match(fs.readFileSync(path.join(repo, "ledger", "service.ts"), "utf8"), /^ {4}kind: "internal",$/m);
            const web = fs.readFileSync(path.join(repo, "web", "service.ts"), "utf8");
            assert.match(web, /^ {4}route: \{ paths: \["\/web\/\*"\] \},$/m);
            assert.match(web, /^ {4}calls: \["ledger"\],$/m);
            assert.throws(() => parseNewService(["x", "--kind", "worker"]), /--kind worker: public .* or internal/);
            assert.throws(
                () => parseNewService(["x", "--kind", "internal", "--path", "/x/*"]),
                /--path \/x\/\*: a path pattern .* for a public service/,
            );
        } finally {
            fs.rmSync(repo, { recursive: true, force: true });
        }
    });
});
