// The service folders the program declares (infra/services.ts), for the shell scripts and
// workflows that lint, test, scan and build each one rather than a fixed app/:
//
//   node -r ./scripts/lib/transpile-cache.cjs scripts/services.ts dirs     a folder per line, relative
//   node -r ./scripts/lib/transpile-cache.cjs scripts/services.ts images   name, folder, stage, binary (tab-separated)
//   node -r ./scripts/lib/transpile-cache.cjs scripts/services.ts check    each declaration's problems; exit 1 if any
import * as path from "path";

import { DeclarationError, ServiceDeclaration, binaryPath, declarationProblems, environmentProblems } from "../infra/declaration";
import { services } from "../infra/services";

export { services };

const root = path.join(__dirname, "..");

const relative = (d: ServiceDeclaration) => path.relative(root, d.dir) || ".";

function main(command: string | undefined): number {
    switch (command) {
        case "dirs":
            for (const d of services) process.stdout.write(`${relative(d)}\n`);
            return 0;
        case "images":
            for (const d of services) process.stdout.write(`${[d.name, relative(d), d.target ?? "", binaryPath(d)].join("\t")}\n`);
            return 0;
        case "check": {
            const refused = services.map((d) => [d, declarationProblems(d)] as const).filter(([, p]) => p.length > 0);
            for (const [d, problems] of refused) process.stderr.write(`${new DeclarationError(d, problems).message}\n`);
            const together = environmentProblems(services);
            for (const p of together) process.stderr.write(`infra/services.ts: ${p}\n`);
            return refused.length || together.length ? 1 : 0;
        }
        default:
            process.stderr.write("usage: scripts/services.ts dirs | images | check\n");
            return 2;
    }
}

if (require.main === module) process.exitCode = main(process.argv[2]);
