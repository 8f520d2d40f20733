#!/usr/bin/env bash
# `npm run lint`: every linter the repository uses, each must pass.
# Installs what it needs when missing: shellcheck (Debian) and actionlint
# (go install, into .cache/bin; no binary download).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

actionlint_version=v1.7.12
bin="$PWD/.cache/bin"

step() { printf '== %s\n' "$*"; }

step "tsc --noEmit"
npx tsc --noEmit

step "eslint"
npx eslint .

step "prettier --check"
npx prettier --check . >/dev/null || {
	npx prettier --check .
	exit 1
}

step "gofmt -l (must print nothing)"
unformatted="$(cd app && gofmt -l .)"
if [[ -n "$unformatted" ]]; then
	printf 'not gofmt-ed:\n%s\n' "$unformatted"
	exit 1
fi

step "go vet"
(cd app && go vet ./...)

step "shellcheck"
if ! command -v shellcheck >/dev/null 2>&1; then
	if [[ "$(id -u)" == 0 ]]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }
	else
		sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
	fi
fi
shellcheck scripts/*.sh .ci/run

step "actionlint"
if [[ ! -x "$bin/actionlint" ]]; then
	GOBIN="$bin" go install "github.com/rhysd/actionlint/cmd/actionlint@${actionlint_version}"
fi
SHELLCHECK_OPTS="" "$bin/actionlint" -shellcheck "$(command -v shellcheck)"

echo "lint: all clean"
