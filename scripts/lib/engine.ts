// A few Docker Engine API calls, for what the docker CLI cannot express: a
// container created with an exec-form health check, exactly as an ECS task
// definition states it (`docker run --health-cmd` only takes a shell form,
// and the runtime image has no shell).
import * as http from "http";

import { dockerEnv } from "./docker";

const apiVersion = "v1.41"; // Docker Engine 20.10

export class EngineError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Engine API's JSON is large and loosely typed
export function engine(method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<any> {
    const host = dockerEnv().dockerHost;
    if (!host.startsWith("unix://")) {
        throw new Error(`DOCKER_HOST=${host}: only a local unix socket is supported`);
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
        const req = http.request(
            {
                socketPath: host.slice("unix://".length),
                path: `/${apiVersion}${path}`,
                method,
                headers: payload ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } : {},
            },
            (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (d: string) => (text += d));
                res.on("end", () => {
                    const status = res.statusCode ?? 0;
                    if (status >= 400) {
                        let message = text;
                        try {
                            message = JSON.parse(text).message ?? text;
                        } catch {
                            // not JSON: keep the text
                        }
                        reject(new EngineError(status, `${method} ${path}: ${status} ${message.trim()}`));
                        return;
                    }
                    try {
                        resolve(text ? JSON.parse(text) : undefined);
                    } catch {
                        resolve(text);
                    }
                });
            },
        );
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer from the engine within ${timeoutMs} ms`)));
        req.on("error", reject);
        req.end(payload);
    });
}
