#!/usr/bin/env bash
# `npm test`: every tier, fastest first. Extra arguments go to mocha.
#   1. tsc --noEmit (strict) against the real Pulumi SDK types
#   2. go vet and go test -race in app/
#   3. mocha specs in test/, files in parallel: the program under Pulumi mocks,
#      the image and container on a real Docker engine, the local stack end to end
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The Go of app/go.mod's toolchain line, fetched once per machine if it is not this one.
GOTOOLCHAIN="$(scripts/go-toolchain.sh)"
export GOTOOLCHAIN

# A real engine and registry on loopback; started here when none answers.
eval "$(scripts/docker-env.sh)"

echo "== tsc --noEmit"
npx tsc --noEmit

echo "== go vet ./... && go test -race ./... (app/)"
(cd app && go vet ./... && go test -race -count=1 ./...)

# Spec files in parallel, one worker per CPU (up to 4): the image builds wait on
# the engine while the program runs under mocks use the other core.
echo "== mocha"
if (($# == 0)); then
	set -- 'test/**/*.spec.ts'
fi
jobs=$(nproc)
((jobs > 4)) && jobs=4
npx mocha --parallel --jobs "$jobs" "$@"
