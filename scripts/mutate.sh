#!/usr/bin/env bash
# `npm run mutate`: mutation testing of each declared service's folder with go-gremlins. Each mutant is
# a small change to the service's code (a < made <=, a + made -, ...); the Go
# tests should fail on every one, and a mutant that lives is a behaviour no
# test pins down. Information, like the bench: not part of `npm test`.
#
# Installs gremlins with `go install` at a pinned version into .cache/bin (no
# binary download), runs it on each service folder, prints killed, lived and efficacy, and
# lists each mutant that lived or that gremlins' coverage did not reach.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

gremlins_version=v0.5.0
bin="$PWD/.cache/bin"
# The Go of the services' go.mod toolchain line: gremlins runs the tests with it.
GOTOOLCHAIN="$(scripts/go-toolchain.sh)"
export GOTOOLCHAIN
stamp="$bin/.gremlins-${gremlins_version}"
mapfile -t service_dirs < <(scripts/service-dirs.sh)

if [[ ! -x "$bin/gremlins" || ! -e "$stamp" ]]; then
	echo "== installing gremlins ${gremlins_version} (go install, into .cache/bin)" >&2
	GOBIN="$bin" go install "github.com/go-gremlins/gremlins/cmd/gremlins@${gremlins_version}" ||
		{
			echo "mutate: could not install gremlins ${gremlins_version} from the Go module proxy" >&2
			exit 1
		}
	touch "$stamp"
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for dir in "${service_dirs[@]}"; do
	report="$PWD/.cache/gremlins-$(basename "$dir").json"
	echo "== gremlins unleash (${dir}/; the calculator's takes about 2 minutes on 2 cores)" >&2
	(cd "$dir" && "$bin/gremlins" unleash --workers "$(nproc)" --timeout-coefficient 10 --output "$report") >"$log" 2>&1 || {
		cat "$log" >&2
		exit 1
	}
	grep -E '^\s*(LIVED|NOT COVERED|TIMED OUT) ' "$log" | sed 's/^ */  /' || true
	grep -E '^(Killed|Timed out|Test efficacy|Mutator coverage):' "$log"
	echo "report: ${report#"$PWD"/}"
done
