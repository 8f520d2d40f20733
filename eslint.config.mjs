// ESLint: typescript-eslint's type-checked rules, so floating promises and
// misused promises are caught, not only syntax.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    // A service folder (app/, services/*) holds Go code and its declaration (service.ts), linted like infra/.
    { ignores: ["node_modules/", "bin/", "app/**/*.go", ".cache/"] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        rules: {
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/no-misused-promises": "error",
        },
    },
    {
        // Tests and tools read loosely typed JSON (docker inspect, resource inputs) on purpose.
        files: ["test/**/*.ts", "scripts/**/*.ts", "**/test/**/*.ts"],
        rules: {
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-unsafe-return": "off",
        },
    },
    { files: ["eslint.config.mjs"], ...tseslint.configs.disableTypeChecked },
    {
        files: ["**/*.cjs"],
        ...tseslint.configs.disableTypeChecked,
        languageOptions: {
            ...tseslint.configs.disableTypeChecked.languageOptions,
            sourceType: "commonjs",
            globals: { require: "readonly", module: "readonly", __dirname: "readonly", process: "readonly" },
        },
        rules: { ...tseslint.configs.disableTypeChecked.rules, "@typescript-eslint/no-require-imports": "off" },
    },
);
