#!/usr/bin/env bash
# `npm run lint`: every linter the repository uses, each must pass.
# Installs what it needs when missing, and says so: shellcheck from Debian's
# packages (apt-get, as root or with passwordless sudo) and actionlint with
# `go install` into .cache/bin (no binary download). Where it cannot, it stops
# with a message saying what to install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

actionlint_version=v1.7.12
bin="$PWD/.cache/bin"
# The Go of the services' go.mod toolchain line, for go vet, gofmt and go install.
GOTOOLCHAIN="$(scripts/go-toolchain.sh)"
export GOTOOLCHAIN

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

# Every service folder infra/services.ts declares.
mapfile -t service_dirs < <(scripts/service-dirs.sh)

step "the services' declarations"
scripts/service-dirs.sh check

for dir in "${service_dirs[@]}"; do
	step "gofmt -l ${dir}/ (must print nothing)"
	unformatted="$(cd "$dir" && "$(go env GOROOT)/bin/gofmt" -l .)"
	if [[ -n "$unformatted" ]]; then
		printf 'not gofmt-ed in %s/:\n%s\n' "$dir" "$unformatted"
		exit 1
	fi

	step "go vet (${dir}/)"
	(cd "$dir" && go vet ./...)
done

step "shellcheck"
if ! command -v shellcheck >/dev/null 2>&1; then
	echo "shellcheck is not installed: installing Debian's package" >&2
	install_shellcheck() {
		if [[ "$(id -u)" == 0 ]]; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
				{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }
		else
			sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
		fi
	}
	if ! command -v apt-get >/dev/null 2>&1 || ! install_shellcheck; then
		echo "lint: shellcheck is missing and could not be installed (that takes apt-get as root or with passwordless sudo); install it (https://github.com/koalaman/shellcheck#installing) and run npm run lint again" >&2
		exit 1
	fi
fi
shellcheck scripts/*.sh .ci/run

step "actionlint"
if [[ ! -x "$bin/actionlint" ]]; then
	echo "actionlint is not installed: installing it (go install github.com/rhysd/actionlint/cmd/actionlint@${actionlint_version}, into .cache/bin)" >&2
	if ! GOBIN="$bin" go install "github.com/rhysd/actionlint/cmd/actionlint@${actionlint_version}"; then
		echo "lint: actionlint ${actionlint_version} could not be installed with go install (it needs Go and the Go module proxy); install it into .cache/bin and run npm run lint again" >&2
		exit 1
	fi
fi
SHELLCHECK_OPTS="" "$bin/actionlint" -shellcheck "$(command -v shellcheck)"

echo "lint: all clean"
