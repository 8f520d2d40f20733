// IAM's decision on one request against identity policies, as the IAM User
// Guide's "Policy evaluation logic" and "Condition operators" pages give it,
// for what the deploy roles' policies use: Action and NotAction with
// wildcards, Resource patterns, and the string, ARN, Null and Bool operators
// with IfExists and the ForAllValues / ForAnyValue set operators, and policy
// variables (`${aws:PrincipalTag/stack}`) in condition values. An explicit
// Deny wins; then any Allow; else the request is implicitly denied. A call
// that acts on several resources (CreateSecurityGroup: the new group and its
// VPC) is authorized against each, and needs every one allowed.
import type { PolicyDocument, Statement } from "../infra/ci-identities/policy";

export interface Request {
    action: string;
    resource: string;
    /** Request context keys; a multivalued key (aws:TagKeys, record names) as an array. Absent keys are missing. */
    context?: Record<string, string | string[]>;
}

export type Decision = "allow" | "explicit deny" | "implicit deny";

/** IAM's wildcard match: `*` any run of characters, `?` one. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
    const escaped = pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${escaped}$`, ignoreCase ? "is" : "s").test(value);
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * A condition value with its policy variables replaced from the request context (IAM User Guide, "Policy
 * variables": string and ARN operators take them); undefined when a variable's key is not in the context,
 * which then matches nothing.
 */
function substituted(value: string, context: Record<string, string | string[]>): string | undefined {
    let missing = false;
    const out = value.replace(/\$\{([^}]+)\}/g, (_, key: string) => {
        const v = context[key];
        if (typeof v !== "string") missing = true;
        return typeof v === "string" ? v : "";
    });
    return missing ? undefined : out;
}

/** One operator on one key: whether the request's values meet the policy's. */
function meets(operator: string, key: string, policyValues: string[], context: Record<string, string | string[]>): boolean {
    const resolved = policyValues.map((w) => substituted(w, context));
    const wanted = resolved.filter((w): w is string => w !== undefined);
    // A negated operator whose value cannot be resolved cannot be shown to hold.
    if (resolved.length > wanted.length && /Not/.test(operator)) return false;
    const set = /^(ForAllValues|ForAnyValue):/.exec(operator)?.[1];
    let op = operator.replace(/^(ForAllValues|ForAnyValue):/, "");
    const ifExists = op.endsWith("IfExists");
    if (ifExists) op = op.slice(0, -"IfExists".length);
    const present = key in context;
    if (op === "Null") return wanted.some((w) => (w === "true") === !present);
    if (!present) {
        if (set === "ForAllValues") return true; // an empty set: every member (none) meets it
        if (set === "ForAnyValue") return false;
        // A negated operator holds when the key is missing, IfExists or not.
        return ifExists || op.startsWith("StringNot") || op.startsWith("ArnNot");
    }
    const one = (value: string): boolean => {
        switch (op) {
            case "StringEquals":
                return wanted.includes(value);
            case "StringNotEquals":
                return !wanted.includes(value);
            case "StringLike":
            case "ArnLike":
            case "ArnEquals":
                return wanted.some((w) => globMatch(w, value));
            case "StringNotLike":
            case "ArnNotLike":
                return !wanted.some((w) => globMatch(w, value));
            case "Bool":
                return wanted.includes(value);
            default:
                throw new Error(`iam-evaluate: operator ${operator} is not modelled`);
        }
    };
    const values = list(context[key]);
    if (set === "ForAllValues") return values.every(one);
    if (set === "ForAnyValue") return values.some(one);
    if (values.length !== 1) throw new Error(`${key} is multivalued: use ForAllValues or ForAnyValue with it`);
    return one(values[0]);
}

function applies(s: Statement, r: Request): boolean {
    const action = s.Action
        ? list(s.Action).some((a) => globMatch(a, r.action, true))
        : !list(s.NotAction).some((a) => globMatch(a, r.action, true));
    if (!action) return false;
    if (!list(s.Resource).some((p) => globMatch(p, r.resource))) return false;
    const context = r.context ?? {};
    return Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
        Object.entries(keys).every(([key, wanted]) => meets(operator, key, list(wanted), context)),
    );
}

export function decide(policies: PolicyDocument[], r: Request): Decision {
    const statements = policies.flatMap((p) => p.Statement);
    if (statements.some((s) => s.Effect === "Deny" && applies(s, r))) return "explicit deny";
    return statements.some((s) => s.Effect === "Allow" && applies(s, r)) ? "allow" : "implicit deny";
}

/**
 * One call that IAM authorizes against several resources, each with the context its resource type
 * sees: allowed only when each is (an explicit deny of any wins).
 */
export function decideEach(policies: PolicyDocument[], requests: Request[]): Decision {
    const decisions = requests.map((r) => decide(policies, r));
    if (decisions.includes("explicit deny")) return "explicit deny";
    return decisions.length > 0 && decisions.every((d) => d === "allow") ? "allow" : "implicit deny";
}
