// The least Pulumi CLI the program runs on, asked of the engine itself. A
// CLI from 3.219.0 refuses an older release before the program starts
// (Pulumi.yaml's requiredPulumiVersion); this check covers the CLIs before
// that, which ignore the key. Under `npm start` and the tests there is no
// engine to ask, and nothing to check.
import * as pulumi from "@pulumi/pulumi";

/** Why the least release is what it is, for the message. */
const why =
    "3.226.0 records replacementTrigger without previewing a false replacement of the load balancer on every preview (pulumi/pulumi#22119), and a CLI before 3.208.0 has no pulumi:index:Stash";

/** The release a range's lower bound names (">=3.226.0" -> "3.226.0"). */
export function leastRelease(range: string): string {
    const least = /^>=\s*(\d+\.\d+\.\d+)$/.exec(range.trim());
    if (!least) throw new Error(`requiredPulumiVersion ${JSON.stringify(range)} is not a ">=X.Y.Z" range`);
    return least[1];
}

/**
 * Resolves when the engine's CLI satisfies `range`; else rejects with what to install. `ask` is the
 * SDK's RequirePulumiVersion call (settings.ts), which rejects when the CLI is older than the range, or
 * older than the call itself (before 3.217.0).
 */
export async function requireCli(
    range: string,
    ask: (range: string) => Promise<void> = (r) => pulumi.runtime.requirePulumiVersion(r),
): Promise<void> {
    const least = leastRelease(range);
    try {
        await ask(range);
    } catch (err) {
        throw new pulumi.RunError(
            `this program needs the Pulumi CLI ${least} or later (${why}); the engine says: ${(err as Error).message}. ` +
                `Install it: curl -fsSL https://get.pulumi.com | sh -s -- --version ${least} (or brew upgrade pulumi)`,
        );
    }
}
