// The documentation's tables of settings, read back: key, type and default of each row.
import { strict as assert } from "assert";

interface Row {
    key: string;
    type: string;
    default: string;
}

/** The rows between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
export function configTable(readme: string, name = "config-table"): Row[] {
    const m = new RegExp(`<!-- ${name}:start -->([\\s\\S]*?)<!-- ${name}:end -->`).exec(readme);
    assert.ok(m, `the page has no ${name} markers`);
    return m[1]
        .trim()
        .split("\n")
        .slice(2) // header and separator
        .map((line) => line.split("|").map((c) => c.trim()))
        .map((cells) => ({
            key: cells[1].replace(/`/g, ""),
            type: cells[2],
            default: cells[3].replace(/^`(.*)`$/, "$1").replace(/^""$/, ""),
        }));
}
