#!/usr/bin/env bash
# The service folders infra/services.ts declares, one per line, relative to the
# repository (scripts/services.ts). Scripts loop over these, never a fixed app/.
#
#   mapfile -t service_dirs < <(scripts/service-dirs.sh)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
exec node -r ./scripts/lib/transpile-cache.cjs scripts/services.ts "${1:-dirs}"
