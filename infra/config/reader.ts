// Reading a stack's values: each reader takes a key, reports a bad value as a
// problem naming where it is set (a top-level key, or a service's), and gives
// back a usable stand-in, so that every problem is found in one run.

/** The keys' values as text, as the CLI passes them, and where each is set, for messages. */
export interface Values {
    get(key: string): string | undefined;
    /** "<project>:<key>", or "<project>:services.<name>.<key>" where a service sets it. */
    at(key: string): string;
}

export class Reader {
    constructor(
        readonly values: Values,
        readonly problems: string[],
    ) {}

    at(key: string): string {
        return this.values.at(key);
    }

    str(key: string): string | undefined {
        const v = this.values.get(key);
        if (v === undefined) {
            this.problems.push(
                `${this.at(key)} is not set (Pulumi.yaml declares its default; run with the Pulumi CLI or set it in the stack)`,
            );
        }
        return v;
    }

    /** A trimmed text value; "" when unset. */
    text(key: string): string {
        return (this.str(key) ?? "").trim();
    }

    int(key: string, ok: (n: number) => boolean, accepts: string): number {
        const raw = this.str(key);
        if (raw === undefined) return NaN;
        const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
        if (!Number.isSafeInteger(n) || !ok(n)) {
            this.problems.push(`${this.at(key)} is ${JSON.stringify(raw)}; it accepts ${accepts}`);
            return NaN;
        }
        return n;
    }

    bool(key: string): boolean {
        const raw = this.str(key);
        if (raw === undefined) return false;
        if (raw !== "true" && raw !== "false") {
            this.problems.push(`${this.at(key)} is ${JSON.stringify(raw)}; it accepts true or false`);
            return false;
        }
        return raw === "true";
    }

    oneOf<T extends string>(key: string, allowed: readonly T[]): T {
        const raw = this.str(key);
        if (raw === undefined) return allowed[0];
        if (!(allowed as readonly string[]).includes(raw)) {
            this.problems.push(`${this.at(key)} is ${JSON.stringify(raw)}; it accepts ${allowed.join(" or ")}`);
            return allowed[0];
        }
        return raw as T;
    }

    /** A map, as `pulumi config set --path '<key>.NAME' value` writes it; the CLI passes it as JSON. */
    map(key: string): Record<string, unknown> {
        const raw = this.str(key);
        if (raw === undefined || raw.trim() === "") return {};
        const v = parseJson(raw);
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
            const path = this.at(key).replace(/^[^:]*:/, "");
            this.problems.push(
                `${this.at(key)} is not a map of names to values; set each with pulumi config set --path '${path}.NAME' VALUE`,
            );
            return {};
        }
        return v as Record<string, unknown>;
    }
}

export function parseJson(raw: string): unknown {
    try {
        return JSON.parse(raw);
    } catch {
        return undefined;
    }
}

/** A value of a map as the CLI would pass a key of its own: text, numbers and booleans as text, maps as JSON. */
export function asText(v: unknown): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return JSON.stringify(v);
}

/** Edit distance, ignoring case: how far a typo is from a key. */
function distance(a: string, b: string): number {
    const [x, y] = [a.toLowerCase(), b.toLowerCase()];
    let row = Array.from({ length: y.length + 1 }, (_, j) => j);
    for (let i = 1; i <= x.length; i++) {
        const next = [i];
        for (let j = 1; j <= y.length; j++) {
            next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
        }
        row = next;
    }
    return row[y.length];
}

/** The key of a list nearest to one it does not have. */
export function closest(key: string, declared: readonly string[]): string {
    return declared.reduce((best, k) => (distance(key, k) < distance(key, best) ? k : best));
}
