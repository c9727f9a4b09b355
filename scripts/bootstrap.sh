#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine of this kind, idempotently:
#   - the Python virtualenv (.venv -> a cache entry keyed by requirements.lock),
#   - Debian packages (prometheus; buildah, mmdebstrap, runc and umoci for the images),
#   - a check that Go is there (the control-plane binaries are built by `make binaries`).
# Caches live outside the checkout, under $ECC_CACHE_DIR (default ~/.cache/ecc-fleet).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${ECC_CACHE_DIR:-$HOME/.cache/ecc-fleet}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

# --- Python -------------------------------------------------------------------
"$python" - <<'PY' || die "Python 3.11 or 3.12 is required (found $("$python" --version 2>&1)); install python3.11"
import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)
PY
lock="$here/requirements.lock"
[ -f "$lock" ] || die "requirements.lock is missing"
key="$( (cat "$lock"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)"
venv="$cache/venvs/$key"
if [ ! -f "$venv/.complete" ]; then
  # venvs hard-code their own path, so build in place and mark completion last:
  # an interrupted build is detected by the missing marker and redone.
  say "creating virtualenv $venv (first run: torch and friends take a few minutes)"
  rm -rf "$venv"; mkdir -p "$cache/venvs"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade "pip==25.3" \
    || die "could not upgrade pip in $venv"
  "$venv/bin/pip" install --disable-pip-version-check --progress-bar off -r "$lock" \
    || { rm -rf "$venv"; die "pip could not install requirements.lock (see the error above)"; }
  touch "$venv/.complete"
fi
ln -sfn "$venv" "$here/.venv"
# The project itself, editable, without touching the pinned set.
"$here/.venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$here" \
  || die "could not install the project into .venv"
say "python: $("$here/.venv/bin/python" --version) in .venv -> $venv"

# --- Debian packages -------------------------------------------------------------
# prometheus (the local cluster's metrics); buildah + mmdebstrap (`make images`: a base image from
# Debian's packages, the Dockerfiles built without a daemon); runc + umoci (the image tests run
# the images in real containers); containerd, the CNI plugins, iptables, iproute2, util-linux's
# nsenter/unshare and curl (the local cluster's real nodes: docs/local-cluster.md).
declare -A debian=([prometheus]=prometheus [buildah]=buildah [mmdebstrap]=mmdebstrap [runc]=runc [umoci]=umoci
                   [containerd]=containerd [/usr/lib/cni/bridge]=containernetworking-plugins
                   [iptables]=iptables [ip]=iproute2 [nsenter]=util-linux [curl]=curl)
missing=()
for cmd in "${!debian[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=("${debian[$cmd]}"); done
# shellcheck disable=SC2207
missing=($(printf '%s\n' "${missing[@]}" | sort -u))
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing from Debian's packages: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi
say "prometheus: $(prometheus --version 2>&1 | head -1)"
say "buildah: $(buildah --version), runc: $(runc --version | head -1), containerd: $(containerd --version)"

# --- Go ---------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "Go is not installed: install Go >= 1.25 (the control plane is built from Go modules)"
say "go: $(go version)"
