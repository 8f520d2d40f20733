#!/usr/bin/env bash
# `npm run fuzz`: every Go fuzz target (func FuzzXxx) of each declared service
# folder, each for FUZZTIME (default 60s). Information, like the bench: not part of
# `npm test`, which runs the targets' seed corpora as ordinary tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GOTOOLCHAIN="$(scripts/go-toolchain.sh)"
export GOTOOLCHAIN
fuzztime="${FUZZTIME:-60s}"
found=0
mapfile -t service_dirs < <(scripts/service-dirs.sh)
for dir in "${service_dirs[@]}"; do
	while read -r pkg target; do
		[[ -n "$target" ]] || continue
		found=$((found + 1))
		echo "== ${dir}: ${target} in ${pkg} for ${fuzztime}" >&2
		(cd "$dir" && go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg")
	done < <(cd "$dir" && go list -f '{{.ImportPath}}{{range .TestGoFiles}} {{$.Dir}}/{{.}}{{end}}' ./... |
		while read -r pkg files; do
			for f in $files; do sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f" | while read -r t; do echo "$pkg $t"; done; done
		done)
done
if ((found == 0)); then
	echo "fuzz: no fuzz target (func FuzzXxx(f *testing.F)) in ${service_dirs[*]}" >&2
fi
