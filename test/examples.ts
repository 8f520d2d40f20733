// The three example services a team would add beside its own: a public one on a path, an
// internal one it calls, a worker; scaffolded into a copy of the repository.
import * as fs from "fs";
import * as path from "path";

import { parseNewService, writeNewService } from "../scripts/new-service";

export const web = "example-web";
export const ledger = "example-ledger";
export const worker = "example-worker";
export const added = [web, ledger, worker];
/** Their ports: none the stack's own service takes, since under npm start they share 127.0.0.1. */
export const ports = { web: 18181, ledger: 19090, worker: 18282 };

/** Adds the three example services to a copy of the repository: a worker is the scaffold's service without its port. */
export function addExamples(copy: string): void {
    writeNewService(parseNewService([ledger, "--port", String(ports.ledger), "--kind", "internal", "--dir", "examples/ledger"]), copy);
    writeNewService(
        parseNewService([web, "--port", String(ports.web), "--path", "/web/*", "--calls", ledger, "--dir", "examples/web"]),
        copy,
    );
    writeNewService(parseNewService([worker, "--port", String(ports.worker), "--dir", "examples/worker"]), copy);
    const declaration = path.join(copy, "examples", "worker", "service.ts");
    fs.writeFileSync(
        declaration,
        fs
            .readFileSync(declaration, "utf8")
            .replace('    target: "runtime",', '    kind: "worker",\n    target: "runtime",')
            .replace(/^ {8}port: \d+,\n {8}healthCheckPath: "[^"]+",\n/m, ""),
    );
}
