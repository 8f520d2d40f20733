// The load balancer as `npm start` plays it for a stack of several services:
// one local port, and the listener's rules as the program made them (their
// priorities, path and host conditions, and the default action), each sending
// a request to the local container of the target group's service.
import * as http from "http";

import { routeMatches } from "../../infra/routing";
import type { ProgramRun } from "./mock-program";

/** Where a request goes: a service's local port, or the listener's own answer. */
export type Target = { service: string; port: number } | { fixed: { statusCode: string; contentType?: string; messageBody?: string } };

export interface Rule {
    priority: number;
    hosts: string[];
    paths: string[];
    target: Target;
}

export interface RouteTable {
    rules: Rule[];
    default: Target;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a listener action as the program gave it
function targetOf(action: any, byTargetGroup: Map<string, { service: string; port: number }>): Target {
    if (action?.type === "forward") {
        const t = byTargetGroup.get(String(action.targetGroupArn));
        if (!t) throw new Error(`the listener forwards to ${String(action.targetGroupArn)}, which no service's target group is`);
        return t;
    }
    if (action?.type === "fixed-response") return { fixed: action.fixedResponse };
    throw new Error(`npm start does not play the listener action ${JSON.stringify(action?.type)}`);
}

/**
 * The forwarding listener's rules from the program's run: the HTTPS one where there is one (HTTP
 * then only redirects to it), else HTTP. `ports` gives each service's local port by its target group ARN.
 */
export function routeTable(run: ProgramRun, byTargetGroup: Map<string, { service: string; port: number }>): RouteTable {
    const listeners = run.resources.filter((r) => r.type === "aws:lb/listener:Listener");
    const listener = listeners.find((l) => l.inputs.protocol === "HTTPS") ?? listeners.find((l) => l.inputs.protocol === "HTTP");
    if (!listener) throw new Error("the program made no listener");
    const arn = listener.state?.arn;
    const rules = run.resources
        .filter((r) => r.type === "aws:lb/listenerRule:ListenerRule" && r.inputs.listenerArn === arn)
        .map((r) => {
            // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rule inputs as the program gave them
            const conditions = (r.inputs.conditions ?? []) as any[];
            return {
                priority: Number(r.inputs.priority),
                hosts: conditions.flatMap((c) => c.hostHeader?.values ?? []) as string[],
                paths: conditions.flatMap((c) => c.pathPattern?.values ?? []) as string[],
                // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rule actions as the program gave them
                target: targetOf((r.inputs.actions as any[])[0], byTargetGroup),
            };
        })
        .sort((a, b) => a.priority - b.priority);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- listener actions as the program gave them
    return { rules, default: targetOf((listener.inputs.defaultActions as any[])[0], byTargetGroup) };
}

/** The target of a request: the first rule by priority whose conditions all match, else the default. */
export function routeRequest(table: RouteTable, host: string, path: string): Target {
    const rule = table.rules.find((r) => routeMatches(r, host, path));
    return rule ? rule.target : table.default;
}

/** Serves the table on 127.0.0.1:port, proxying to the services' containers; a container that does not answer is a 502, as on AWS. */
export function startRouter(table: RouteTable, port: number): Promise<http.Server> {
    const agent = new http.Agent({ keepAlive: true });
    const server = http.createServer((req, res) => {
        const target = routeRequest(table, req.headers.host ?? "", (req.url ?? "/").split("?")[0]);
        if ("fixed" in target) {
            res.writeHead(Number(target.fixed.statusCode), { "Content-Type": target.fixed.contentType ?? "text/plain" });
            res.end(target.fixed.messageBody ?? "");
            return;
        }
        const upstream = http.request(
            { host: "127.0.0.1", port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
            (answer) => {
                res.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(res);
            },
        );
        upstream.on("error", () => {
            if (!res.headersSent) res.writeHead(502, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ error: `${target.service} did not answer (502 Bad Gateway, as the load balancer answers)` }));
        });
        req.pipe(upstream);
    });
    // The load balancer's idle timeout is longer than a client's; here the services' own keep-alive decides.
    server.keepAliveTimeout = 60_000;
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve(server));
    });
}
