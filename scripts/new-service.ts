// `npm run new-service -- NAME [--port N] [--health-path /P] [--dir DIR]`: a service folder
// on the platform's contract, with its declaration, and infra/services.ts naming it.
//
// The folder (services/NAME unless --dir) holds a Go module of the standard library
// (main.go, main_test.go, go.mod with the toolchain line), a Dockerfile with the stages the
// platform builds (GO_IMAGE for offline builders, a test stage, a scratch runtime as a
// non-root user), a .dockerignore, and service.ts, the declaration the program reads. The
// stack runs every service infra/services.ts lists: this one is added to the list, beside those
// whose folders are still there (a sample deleted first leaves the list with it).
import * as fs from "fs";
import * as path from "path";
import { parseArgs as parseArgv } from "util";

import { serviceNameProblems } from "../infra/naming";

const root = path.join(__dirname, "..");
const templates = path.join(__dirname, "new-service");
const usage =
    "usage: npm run new-service -- NAME [--port N] [--health-path /PATH] [--dir DIR] [--kind public|internal] [--path /PATTERN/*] [--calls NAME,...]";

export interface NewService {
    name: string;
    port: number;
    healthPath: string;
    /** Relative to the repository. */
    dir: string;
    kind: "public" | "internal";
    /** A public service's route on the shared load balancer; none: every request no other service's route takes. */
    path?: string;
    /** The internal services it calls. */
    calls: string[];
}

/** The scaffold's arguments, or what is wrong with them (each naming the argument). */
export function parseNewService(argv: string[]): NewService {
    let parsed;
    try {
        parsed = parseArgv({
            args: argv,
            allowPositionals: true,
            options: {
                port: { type: "string" },
                "health-path": { type: "string" },
                dir: { type: "string" },
                kind: { type: "string" },
                path: { type: "string" },
                calls: { type: "string" },
            },
        });
    } catch (err) {
        throw new Error(`${(err as Error).message}\n${usage}`);
    }
    const [name, ...extra] = parsed.positionals;
    const problems: string[] = [];
    if (!name) throw new Error(`name the service\n${usage}`);
    if (extra.length) problems.push(`one NAME, not ${parsed.positionals.length}`);
    problems.push(...serviceNameProblems(name));
    const portText = parsed.values.port ?? "8080";
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1024 || port > 65535) {
        problems.push(`--port ${portText}: a TCP port from 1024 to 65535 (the service runs as a non-root user)`);
    }
    const healthPath = parsed.values["health-path"] ?? "/healthz";
    if (!/^\/[A-Za-z0-9._~/-]*$/.test(healthPath) || healthPath === "/") {
        problems.push(`--health-path ${JSON.stringify(healthPath)}: a path of its own, such as /healthz (/ is the service's)`);
    }
    const dir = parsed.values.dir ?? path.join("services", name);
    if (fs.existsSync(path.join(root, dir))) problems.push(`--dir ${dir}: already there; choose another folder or remove it`);
    const kind = parsed.values.kind ?? "public";
    if (kind !== "public" && kind !== "internal") {
        problems.push(`--kind ${kind}: public (on the load balancer) or internal (called by the stack's other services)`);
    }
    const route = parsed.values.path;
    if (route !== undefined && (kind !== "public" || !route.startsWith("/"))) {
        problems.push(`--path ${route}: a path pattern such as /${name}/*, for a public service`);
    }
    const calls = (parsed.values.calls ?? "")
        .split(",")
        .map((c) => c.trim())
        .filter(Boolean);
    for (const c of calls) if (serviceNameProblems(c).length > 0) problems.push(`--calls ${c}: not a service's name`);
    if (problems.length) throw new Error(`${problems.join("\n")}\n${usage}`);
    return { name, port, healthPath, dir, kind: kind as NewService["kind"], path: route, calls };
}

/** The declaration's kind, route and calls, as lines of it (none for a public service routed at every path). */
function kindLines(s: NewService): string {
    return [
        ...(s.kind === "internal" ? ['    kind: "internal",'] : []),
        ...(s.path ? [`    route: { paths: [${JSON.stringify(s.path)}] },`] : []),
        ...(s.calls.length ? [`    calls: [${s.calls.map((c) => JSON.stringify(c)).join(", ")}],`] : []),
    ]
        .map((l) => `${l}\n`)
        .join("");
}

/** Go's identifier for the declaration's export: greeter-api -> greeterApi. */
function identifier(name: string): string {
    return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Writes the folder and names it in infra/services.ts; returns the files written, relative to the repository. */
export function writeNewService(s: NewService, repo = root): string[] {
    const dir = path.join(repo, s.dir);
    const goMod = fs.readFileSync(path.join(templates, "go.mod.tmpl"), "utf8");
    const goVersion = /^toolchain go(\S+)$/m.exec(goMod)![1];
    const declarationModule = path
        .relative(dir, path.join(repo, "infra", "declaration"))
        .split(path.sep)
        .join("/");
    const fill = (text: string) =>
        text
            .replaceAll("__KIND__", kindLines(s))
            .replaceAll("__NAME__", s.name)
            .replaceAll("__IDENT__", identifier(s.name))
            .replaceAll("__PORT__", String(s.port))
            .replaceAll("__HEALTH__", s.healthPath)
            .replaceAll("__GO_VERSION__", goVersion)
            .replaceAll("__DECLARATION__", declarationModule.startsWith(".") ? declarationModule : `./${declarationModule}`);
    const files: [string, string][] = [
        ["main.go.tmpl", "main.go"],
        ["main_test.go.tmpl", "main_test.go"],
        ["go.mod.tmpl", "go.mod"],
        ["Dockerfile.tmpl", "Dockerfile"],
        ["dockerignore.tmpl", ".dockerignore"],
        ["service.ts.tmpl", "service.ts"],
    ];
    fs.mkdirSync(dir, { recursive: true });
    for (const [template, file] of files)
        fs.writeFileSync(path.join(dir, file), fill(fs.readFileSync(path.join(templates, template), "utf8")));
    const servicesModule = path.relative(path.join(repo, "infra"), path.join(dir, "service")).split(path.sep).join("/");
    // The declarations listed before whose folders are still there, then this one.
    const servicesFile = path.join(repo, "infra", "services.ts");
    const before = fs.existsSync(servicesFile) ? fs.readFileSync(servicesFile, "utf8") : "";
    const listed = [...before.matchAll(/^import \{ (\w+) \} from "(\.[^"]+)";$/gm)]
        .filter(([, , module]) => module !== "./declaration" && fs.existsSync(path.join(repo, "infra", `${module}.ts`)))
        .map(([, ident, module]) => ({ ident, module }));
    const all = [...listed, { ident: identifier(s.name), module: servicesModule.startsWith(".") ? servicesModule : `./${servicesModule}` }];
    fs.writeFileSync(
        servicesFile,
        `// The services this stack runs, by their declarations, each in its own folder (written by
// npm run new-service; list another declaration here to run it too). They share the stack's
// network, cluster and load balancer (infra/environment.ts).
${all.map((d) => `import { ${d.ident} } from "${d.module}";`).join("\n")}
import { ServiceDeclaration } from "./declaration";

export const services: ServiceDeclaration[] = [${all.map((d) => d.ident).join(", ")}];
`,
    );
    return [...files.map(([, f]) => path.join(s.dir, f)), path.join("infra", "services.ts")];
}

function main(): number {
    let s: NewService;
    try {
        s = parseNewService(process.argv.slice(2));
    } catch (err) {
        process.stderr.write(`new-service: ${(err as Error).message}\n`);
        return 2;
    }
    const written = writeNewService(s);
    const listed = /services: ServiceDeclaration\[\] = \[([^\]]*)\]/.exec(
        fs.readFileSync(path.join(root, "infra", "services.ts"), "utf8"),
    )?.[1];
    process.stderr.write(
        [
            `new-service: ${s.name} in ${s.dir}/ (port ${s.port}, health ${s.healthPath}):`,
            ...written.map((f) => `  ${f}`),
            `infra/services.ts now lists ${listed}: the stack runs each, on one load balancer and cluster.`,
            "Next: git rm -r the sample's folder (app/) if it goes; npm start (runs it here); npm test (the platform's tests, on it). README: Your own service.",
            "",
        ].join("\n"),
    );
    return 0;
}

if (require.main === module) process.exitCode = main();
