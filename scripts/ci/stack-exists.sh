#!/usr/bin/env bash
# Selects a Pulumi stack and says whether it exists, telling "no such stack"
# apart from every other failure (an expired token, a wrong backend URL, the
# network): only the CLI's own "no stack named" means the stack is absent.
#
#   scripts/ci/stack-exists.sh STACK
#
# Exit 0: it exists and is selected. Exit 3: the backend answered that there
# is no such stack. Exit 1: anything else, with the CLI's message on stderr.
set -uo pipefail

stack="${1:?usage: stack-exists.sh STACK}"
if out="$(pulumi stack select "$stack" 2>&1)"; then
	exit 0
fi
if [[ "$out" == *"no stack named '${stack}'"* ]]; then
	exit 3
fi
printf '%s\n' "$out" >&2
echo "::error::could not tell whether stack ${stack} exists (the Pulumi CLI failed: see above); check the backend URL and its credentials" >&2
exit 1
