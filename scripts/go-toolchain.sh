#!/usr/bin/env bash
# The Go toolchain this project builds with, from app/go.mod's `toolchain`
# line (e.g. go1.27.3): the one place it is pinned. Scripts export it as
# GOTOOLCHAIN, so that a machine whose own Go differs (or whose GOTOOLCHAIN is
# local, which ignores the line) fetches and runs exactly that one; the
# Dockerfile's builder image and the workflows' Go must name the same.
#
#   export GOTOOLCHAIN="$(scripts/go-toolchain.sh)"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
toolchain="$(sed -n 's/^toolchain \(go[0-9.]*\)$/\1/p' "${root}/app/go.mod")"
if [[ -z "$toolchain" ]]; then
	echo "go-toolchain: app/go.mod has no toolchain line (toolchain goX.Y.Z)" >&2
	exit 1
fi
echo "$toolchain"
