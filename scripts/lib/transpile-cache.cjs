// `node -r` hook for the program runs the tests start by the hundred: it loads
// this project's TypeScript as ts-node's transpile-only mode does, but keeps
// each file's JavaScript in .cache/ts (keyed by path and content), so a run
// loads neither the TypeScript compiler nor source maps once the cache is
// warm: about half of each run's start-up. Types are checked by `tsc --noEmit`
// in `npm test`, as they are under transpile-only.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const cacheDir = path.join(__dirname, "..", "..", ".cache", "ts");
const compilerOptions = { module: "commonjs", target: "ES2022", esModuleInterop: true, resolveJsonModule: true };
let typescript;

require.extensions[".ts"] = function loadTypeScript(module, filename) {
    const source = fs.readFileSync(filename, "utf8");
    const key = crypto.createHash("sha256").update(filename).update("\0").update(source).digest("hex");
    const cached = path.join(cacheDir, `${key}.js`);
    let js;
    try {
        js = fs.readFileSync(cached, "utf8");
    } catch {
        typescript ??= require("typescript");
        const options = typescript.convertCompilerOptionsFromJson(compilerOptions, path.dirname(filename)).options;
        js = typescript.transpileModule(source, { compilerOptions: options, fileName: filename }).outputText;
        fs.mkdirSync(cacheDir, { recursive: true });
        const partial = `${cached}.${process.pid}`;
        fs.writeFileSync(partial, js);
        fs.renameSync(partial, cached); // whole or not at all, with runs side by side
    }
    module._compile(js, filename);
};
