// Image sizes as people read them.

/** Bytes in decimal units, as the ECR console shows them: 2_412_345 -> "2.4 MB". */
export function humanBytes(bytes: number): string {
    if (!Number.isFinite(bytes) || bytes < 0) {
        throw new Error(`not a size in bytes: ${bytes}`);
    }
    const units = ["B", "kB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
        value /= 1000;
        unit++;
    }
    return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** How many times smaller the multi-stage image is: (800e6, 3e6) -> "267x smaller". */
export function sizeReduction(singleStageBytes: number, multiStageBytes: number): string {
    if (!(multiStageBytes > 0)) {
        throw new Error(`multi-stage image size must be positive, got ${multiStageBytes}`);
    }
    return `${Math.round(singleStageBytes / multiStageBytes)}x smaller`;
}
