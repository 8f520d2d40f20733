#!/usr/bin/env bash
# `npm test`: every tier, fastest first. Extra arguments go to mocha.
#   1. tsc --noEmit (strict) against the real Pulumi SDK types
#   2. each declared service's folder (scripts/service-dirs.sh): its
#      declaration checked, go vet and go test -race
#   3. mocha specs: the platform's in test/ and each service's own in
#      <folder>/test/. The image and container on a real Docker engine and
#      the local stack end to end, one after the other; beside them the
#      program under Pulumi mocks
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The Go of the services' go.mod toolchain line, fetched once per machine if it is not this one.
GOTOOLCHAIN="$(scripts/go-toolchain.sh)"
export GOTOOLCHAIN

# A real engine and registry on loopback; started here when none answers.
eval "$(scripts/docker-env.sh)"

echo "== tsc --noEmit"
npx tsc --noEmit

mapfile -t service_dirs < <(scripts/service-dirs.sh)
echo "== the services' declarations (scripts/services.ts check)"
scripts/service-dirs.sh check
for dir in "${service_dirs[@]}"; do
	echo "== go vet ./... && go test -race ./... (${dir}/)"
	(cd "$dir" && go vet ./... && go test -race -count=1 ./...)
done

# The specs that drive the engine (builds, registry, containers) run one after
# the other, as they share its build cache and registry; beside them, in a
# second mocha, the specs that run the program under mocks, which need only CPU.
# With arguments, mocha runs just those, in one process.
echo "== mocha"
if (($# > 0)); then
	exec npx mocha "$@"
fi
# A spec that drives the engine says so on its first line: // engine spec.
engine_specs=()
mock_specs=()
shopt -s nullglob
for f in test/*.spec.ts; do
	if head -n 1 "$f" | grep -q '^// engine spec'; then engine_specs+=("$f"); else mock_specs+=("$f"); fi
done
for dir in "${service_dirs[@]}"; do
	for f in "$dir"/test/*.spec.ts; do
		if head -n 1 "$f" | grep -q '^// engine spec'; then engine_specs+=("$f"); else mock_specs+=("$f"); fi
	done
done
mock_log="$(mktemp)"
trap 'rm -f "$mock_log"' EXIT
npx mocha "${mock_specs[@]}" >"$mock_log" 2>&1 &
mock_pid=$!
engine_status=0
npx mocha "${engine_specs[@]}" || engine_status=$?
mock_status=0
wait "$mock_pid" || mock_status=$?
echo "== mocha: ${mock_specs[*]}"
cat "$mock_log"
if ((engine_status != 0 || mock_status != 0)); then
	echo "mocha failed: engine specs exit ${engine_status}, mock specs exit ${mock_status}" >&2
	exit 1
fi
