#!/usr/bin/env bash
# `npm run bench`: each declared service's own benchmark, <folder>/test/bench.ts
# (the calculator's: build times, image sizes, latency under load), with the
# arguments given. Timings live here, never in npm test's pass/fail tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t service_dirs < <(scripts/service-dirs.sh)
ran=0
for dir in "${service_dirs[@]}"; do
	[[ -f "${dir}/test/bench.ts" ]] || continue
	ran=$((ran + 1))
	node -r ./scripts/lib/transpile-cache.cjs "${dir}/test/bench.ts" "$@"
done
if ((ran == 0)); then
	echo "bench: no service has a benchmark (<folder>/test/bench.ts) among ${service_dirs[*]}" >&2
	exit 1
fi
