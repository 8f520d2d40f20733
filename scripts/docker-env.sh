#!/usr/bin/env bash
# Bring up what the image tests and `npm start` need, on this machine only:
# a Docker engine, a registry on 127.0.0.1 standing in for ECR, and a Go
# builder image. Idempotent: whatever already answers is reused.
#
#   eval "$(scripts/docker-env.sh)"
#
# stdout is only `export` lines (DOCKER, DOCKER_HOST, REGISTRY, GO_IMAGE);
# progress and errors go to stderr. All traffic stays on loopback: dockerd
# runs with no default bridge and no iptables rules, builds use
# --network=none and containers --network host.
#
# Environment it honours:
#   REGISTRY_PORT   port of the local registry (default 5000)
#   GO_IMAGE        builder image to use as is (skips the pull/build below)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state_dir="${DOCKER_ENV_STATE:-/var/lib/calculator-dev}" # kept: machines already hold their engine state there
registry_port="${REGISTRY_PORT:-5000}"
registry="127.0.0.1:${registry_port}"
sock="/var/run/docker.sock"

say() { printf 'docker-env: %s\n' "$*" >&2; }
die() {
	printf 'docker-env: error: %s\n' "$*" >&2
	exit 1
}

# Debian's client matches Debian's engine (20.10) and builds with BuildKit
# built in; a newer client elsewhere on PATH wants a buildx plugin.
pick_client() {
	if [[ -x /usr/bin/docker ]]; then
		echo /usr/bin/docker
	elif command -v docker >/dev/null 2>&1; then
		command -v docker
	fi
}

engine_answers() {
	[[ -n "${docker:-}" ]] && DOCKER_HOST="unix://${sock}" timeout 10 "$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# The prefix that runs a command as root: nothing as root, passwordless sudo
# otherwise (CI runners). An array, not a function, so that a backgrounded
# daemon is exec'd directly and no shell lingers holding this script's stdout.
root_cmd=()
if [[ "$(id -u)" != 0 ]]; then
	root_cmd=(sudo -n)
fi
as_root() { "${root_cmd[@]}" "$@"; }

need_root_debian() {
	if [[ "$(id -u)" != 0 ]] && ! sudo -n true 2>/dev/null; then
		die "no Docker engine answers on ${sock}, and installing one needs root.
  As root on Debian or Ubuntu:  apt-get install docker.io docker-registry && scripts/docker-env.sh
  Elsewhere: install Docker Engine (with BuildKit) and the distribution registry, then re-run this script."
	fi
	if ! command -v apt-get >/dev/null 2>&1; then
		die "no Docker engine answers and this is not a Debian-family system (no apt-get).
  Install Docker Engine (with BuildKit) and the distribution registry (docker-registry), then re-run this script."
	fi
}

apt_install() {
	local missing=()
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
	done
	((${#missing[@]} == 0)) && return 0
	need_root_debian
	say "installing ${missing[*]} from Debian's packages"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
	local secs="$1" what="$2"
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
	say "$what is up"
}

start_engine() {
	docker="$(pick_client)"
	if engine_answers; then
		return 0
	fi
	need_root_debian
	apt_install docker.io
	docker=/usr/bin/docker
	if ! pgrep -x dockerd >/dev/null; then
		as_root mkdir -p "$state_dir"
		say "starting dockerd (no default bridge, no iptables; log: ${state_dir}/dockerd.log)"
		# setsid: the engine outlives this script and the npm process that ran it.
		# shellcheck disable=SC2016 # $1 and $2 belong to the inner shell
		"${root_cmd[@]}" setsid sh -c 'exec dockerd --host="unix://$1" --bridge=none --iptables=false --ip6tables=false >"$2" 2>&1' \
			dockerd "$sock" "${state_dir}/dockerd.log" </dev/null >/dev/null 2>&1 &
	fi
	wait_for 60 "dockerd" engine_answers || die "dockerd did not answer within 60s; see ${state_dir}/dockerd.log:
$(tail -n 20 "${state_dir}/dockerd.log" 2>/dev/null)"
}

registry_answers() {
	curl -fsS --max-time 2 "http://${registry}/v2/" >/dev/null 2>&1
}

start_registry() {
	registry_answers && return 0
	need_root_debian
	apt_install docker-registry curl
	as_root mkdir -p "${state_dir}/registry"
	as_root tee "${state_dir}/registry.yml" >/dev/null <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${state_dir}/registry
  delete:
    enabled: true
http:
  addr: ${registry}
EOF
	say "starting the registry on ${registry} (log: ${state_dir}/registry.log)"
	# shellcheck disable=SC2016 # $1 and $2 belong to the inner shell
	"${root_cmd[@]}" setsid sh -c 'exec docker-registry serve "$1" >"$2" 2>&1' \
		registry "${state_dir}/registry.yml" "${state_dir}/registry.log" </dev/null >/dev/null 2>&1 &
	wait_for 30 "registry on ${registry}" registry_answers || die "the registry did not answer on ${registry} within 30s; see ${state_dir}/registry.log:
$(tail -n 20 "${state_dir}/registry.log" 2>/dev/null)"
}

# The first declared service's default builder image, e.g. golang:1.27.3-bookworm.
default_go_image() {
	local dir
	dir="$("${root}/scripts/service-dirs.sh" | head -n 1)"
	sed -n 's/^ARG GO_IMAGE=//p' "${root}/${dir}/Dockerfile" | head -n 1
}

# A builder image made from the services' go.mod toolchain (fetched by the go command
# through the module proxy when this machine's Go is another), for builders
# that cannot pull: a static busybox for /bin/sh, the Go tree, the CA bundle
# and /etc/passwd. Tagged with the exact Go version, so it is rebuilt only
# when the toolchain changes.
local_go_image() {
	local goroot go_version tag want
	command -v go >/dev/null 2>&1 || die "no Go on PATH to fetch the services' go.mod toolchain with; pass GO_IMAGE"
	want="$("${root}/scripts/go-toolchain.sh")" || die "cannot tell which Go the services' go.mod pin"
	tag="local/golang:${want#go}"
	if "$docker" image inspect "$tag" >/dev/null 2>&1; then
		echo "$tag"
		return 0
	fi
	goroot="$(GOTOOLCHAIN="$want" go env GOROOT)" || die "could not fetch Go ${want} (GOTOOLCHAIN=${want}) from the Go module proxy; pass GO_IMAGE"
	go_version="$(GOTOOLCHAIN="$want" go env GOVERSION)"
	[[ "$go_version" == "$want" ]] || die "GOTOOLCHAIN=${want} gave ${go_version}"
	apt_install busybox-static ca-certificates
	say "making ${tag} from ${goroot} (no registry can be reached to pull $(default_go_image))"
	local rootfs
	rootfs="$(mktemp -d)"
	mkdir -p "${rootfs}/bin" "${rootfs}/usr/local" "${rootfs}/etc/ssl/certs" "${rootfs}/tmp" "${rootfs}/root" "${rootfs}/go"
	chmod 1777 "${rootfs}/tmp"
	cp /bin/busybox "${rootfs}/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[[ -e "${rootfs}/bin/${applet}" ]] || ln -s busybox "${rootfs}/bin/${applet}"
	done
	cp -a "$goroot" "${rootfs}/usr/local/go"
	cp /etc/ssl/certs/ca-certificates.crt "${rootfs}/etc/ssl/certs/"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"${rootfs}/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"${rootfs}/etc/group"
	tar -C "$rootfs" -c . | "$docker" import \
		--change 'ENV PATH=/usr/local/go/bin:/go/bin:/bin' \
		--change 'ENV GOPATH=/go' \
		--change 'ENV GOTOOLCHAIN=local' \
		--change 'WORKDIR /go' \
		--change 'CMD ["/bin/sh"]' \
		- "$tag" >/dev/null
	chmod -R u+w "$rootfs" # the module cache's toolchain is read-only
	rm -rf "$rootfs"
	echo "$tag"
}

pick_go_image() {
	if [[ -n "${GO_IMAGE:-}" ]]; then
		echo "$GO_IMAGE"
		return 0
	fi
	local def
	def="$(default_go_image)"
	if "$docker" image inspect "$def" >/dev/null 2>&1; then
		echo "$def"
	elif timeout 30 "$docker" pull -q "$def" >/dev/null 2>&1; then
		echo "$def"
	else
		local_go_image
	fi
}

start_engine
start_registry
export DOCKER_HOST="unix://${sock}"
go_image="$(pick_go_image)"

printf 'export DOCKER=%q\n' "$docker"
printf 'export DOCKER_HOST=%q\n' "$DOCKER_HOST"
printf 'export DOCKER_BUILDKIT=1\n'
printf 'export REGISTRY=%q\n' "$registry"
printf 'export GO_IMAGE=%q\n' "$go_image"
