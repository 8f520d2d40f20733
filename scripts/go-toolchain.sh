#!/usr/bin/env bash
# The Go toolchain this project builds with, from the `toolchain` line (e.g.
# go1.27.3) of each declared service's go.mod (scripts/service-dirs.sh): the
# one place it is pinned, the same in every service folder (one builder image,
# one Go for the scripts). Scripts export it as GOTOOLCHAIN, so that a machine
# whose own Go differs (or whose GOTOOLCHAIN is local, which ignores the line)
# fetches and runs exactly that one; the Dockerfiles' builder image and the
# workflows' Go must name the same.
#
#   export GOTOOLCHAIN="$(scripts/go-toolchain.sh)"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mapfile -t dirs < <("${root}/scripts/service-dirs.sh")
toolchain=""
first=""
for dir in "${dirs[@]}"; do
	mine="$(sed -n 's/^toolchain \(go[0-9.]*\)$/\1/p' "${root}/${dir}/go.mod" 2>/dev/null || true)"
	if [[ -z "$mine" ]]; then
		echo "go-toolchain: ${dir}/go.mod has no toolchain line (toolchain goX.Y.Z)" >&2
		exit 1
	fi
	if [[ -n "$toolchain" && "$mine" != "$toolchain" ]]; then
		echo "go-toolchain: ${dir}/go.mod pins ${mine}, ${first}/go.mod ${toolchain}: the services build with one Go; pin the same" >&2
		exit 1
	fi
	toolchain="$mine"
	first="${first:-$dir}"
done
if [[ -z "$toolchain" ]]; then
	echo "go-toolchain: infra/services.ts declares no service" >&2
	exit 1
fi
echo "$toolchain"
