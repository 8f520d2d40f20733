// Waiting for something to happen, one way: ask, wait a little, ask again,
// and give up at a deadline with a message that says what was last seen.

/**
 * Calls `attempt` until it gives a value other than undefined, and resolves to it. Between
 * attempts it waits `intervalMs`, never past the deadline; at the deadline it rejects with the
 * error `timedOut` makes. An attempt that throws fails the wait at once.
 */
export async function poll<T>(
    attempt: () => T | undefined | Promise<T | undefined>,
    o: { timeoutMs: number; intervalMs: number; timedOut: () => Error | Promise<Error> },
): Promise<T> {
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
        const value = await attempt();
        if (value !== undefined) return value;
        const left = deadline - Date.now();
        if (left <= 0) throw await o.timedOut();
        await new Promise((resolve) => setTimeout(resolve, Math.min(o.intervalMs, left)));
    }
}
