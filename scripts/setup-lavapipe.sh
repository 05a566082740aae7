#!/usr/bin/env bash
# Installs a software Vulkan driver (Mesa's lavapipe, from bookworm-backports) so that the webgpu backend
# (Dawn's Node bindings, npm package `webgpu`) finds an adapter on a machine without a GPU. Debian 12's own
# lavapipe (Mesa 22) is refused by Dawn (it lacks shaderUniform*ArrayDynamicIndexing); Mesa 25 from
# bookworm-backports works. lavapipe is a CPU ("fallback") adapter: slow, for correctness tests on tiny models;
# train.backend: auto never picks it, train.backend: webgpu does.
#
#   sudo scripts/setup-lavapipe.sh        (or as root; idempotent: a second run changes nothing)
#
# Exits non-zero with a message saying what failed.
set -euo pipefail

SOURCES_FILE=/etc/apt/sources.list.d/bookworm-backports.list
SOURCE_LINE='deb http://deb.debian.org/debian bookworm-backports main'
# libvulkan1 (the Vulkan loader) has no backport; -t bookworm-backports takes it from bookworm (1.3.239).
PACKAGES=(mesa-vulkan-drivers libvulkan1)
# Oldest Mesa whose lavapipe Dawn accepts (Debian 12's 22.3 is refused; backports' 25.x works).
MIN_MESA_MAJOR=23

say() { printf 'setup-lavapipe: %s\n' "$*"; }
fail() { printf 'setup-lavapipe: error: %s\n' "$*" >&2; exit 1; }

# --- where we are -------------------------------------------------------------------------------------------
[[ "$(uname -s)" == Linux ]] || fail "this script is for Debian 12 (bookworm) on Linux; on $(uname -s) install a Vulkan driver yourself"
[[ -r /etc/os-release ]] || fail "no /etc/os-release: cannot tell the distribution (this script is for Debian 12, bookworm)"
# shellcheck disable=SC1091
. /etc/os-release
if [[ "${ID:-}" != debian || "${VERSION_CODENAME:-}" != bookworm ]]; then
  fail "this script is for Debian 12 (bookworm); this is ${PRETTY_NAME:-unknown}. Install Mesa >= ${MIN_MESA_MAJOR}'s lavapipe (package mesa-vulkan-drivers or similar) and libvulkan1 from your distribution"
fi
[[ "$(dpkg --print-architecture)" == amd64 ]] || say "warning: architecture $(dpkg --print-architecture); the npm package webgpu ships prebuilt binaries for linux-x64 and linux-arm64 only"

mesa_version() { { dpkg-query -W -f='${Status} ${Version}\n' mesa-vulkan-drivers 2>/dev/null || true; } | awk '$3 == "installed" { print $4 }'; }
mesa_major() { local v; v="$(mesa_version)"; v="${v#*:}"; v="${v%%.*}"; echo "${v:-0}"; }
have_libvulkan() { { dpkg-query -W -f='${Status}\n' libvulkan1 2>/dev/null || true; } | grep -q ' installed$'; }

# --- already done? ------------------------------------------------------------------------------------------
current="$(mesa_version)"
if [[ -n "$current" ]] && have_libvulkan && [[ "$(mesa_major)" -ge "$MIN_MESA_MAJOR" ]]; then
  say "already installed: mesa-vulkan-drivers ${current}, libvulkan1 $(dpkg-query -W -f='${Version}' libvulkan1); nothing to do"
else
  SUDO=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || fail "mesa-vulkan-drivers >= ${MIN_MESA_MAJOR} is not installed and installing it needs root: run this as root or install sudo"
    SUDO=(sudo)
  fi
  # --- the backports source ---------------------------------------------------------------------------------
  if grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    say "bookworm-backports is already in the apt sources"
  else
    say "adding '${SOURCE_LINE}' to ${SOURCES_FILE}"
    echo "$SOURCE_LINE" | "${SUDO[@]}" tee "$SOURCES_FILE" >/dev/null || fail "could not write ${SOURCES_FILE}"
  fi
  say "apt-get update"
  "${SUDO[@]}" apt-get update -q >/tmp/setup-lavapipe-apt.log 2>&1 \
    || fail "apt-get update failed (is deb.debian.org reachable?); see /tmp/setup-lavapipe-apt.log"
  policy="$(apt-cache policy mesa-vulkan-drivers 2>&1 || true)"
  if [[ "$policy" != *bookworm-backports* ]]; then
    fail "bookworm-backports has no mesa-vulkan-drivers after apt-get update; see /tmp/setup-lavapipe-apt.log"
  fi
  say "installing ${PACKAGES[*]} from bookworm-backports"
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends -t bookworm-backports "${PACKAGES[@]}" \
    >>/tmp/setup-lavapipe-apt.log 2>&1 || fail "apt-get install -t bookworm-backports ${PACKAGES[*]} failed; see /tmp/setup-lavapipe-apt.log"
  current="$(mesa_version)"
  [[ -n "$current" ]] || fail "mesa-vulkan-drivers is not installed after apt-get install"
  [[ "$(mesa_major)" -ge "$MIN_MESA_MAJOR" ]] || fail "mesa-vulkan-drivers ${current} is older than ${MIN_MESA_MAJOR}: Dawn refuses its lavapipe"
  say "installed mesa-vulkan-drivers ${current}, libvulkan1 $(dpkg-query -W -f='${Version}' libvulkan1)"
fi

# --- check the pieces the webgpu backend loads ---------------------------------------------------------------
icd="$(ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -n 1 || true)"
[[ -n "$icd" ]] || fail "no lavapipe ICD (/usr/share/vulkan/icd.d/lvp_icd*.json) after installing mesa-vulkan-drivers"
say "lavapipe ICD: ${icd}"
[[ "$(ldconfig -p)" == *'libvulkan.so.1 '* ]] || fail "libvulkan.so.1 is not in the linker cache (ldconfig -p)"
say "libvulkan.so.1: $(ldconfig -p | awk '/libvulkan.so.1 / { print $NF; exit }')"

# With the project's node_modules in place, ask Dawn for the adapter the webgpu backend would take.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if command -v node >/dev/null && [[ -d "$root/node_modules/webgpu" ]]; then
  if out="$(cd "$root" && timeout 120 node --input-type=module -e '
      const { create } = await import("webgpu");
      const adapter = await create([]).requestAdapter();
      if (!adapter) { console.log("none"); process.exit(3); }
      const i = adapter.info;
      console.log(`${i.vendor} ${i.architecture} (${i.description || i.device}), fallback adapter: ${i.isFallbackAdapter ?? adapter.isFallbackAdapter}`);
    ' 2>&1)"; then
    say "Dawn's adapter: $(echo "$out" | tail -n 1)"
  else
    fail "Dawn (npm package webgpu) found no adapter: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
  fi
else
  say "node_modules/webgpu is not installed: run npm install (it is an optional dependency) to use train.backend: webgpu"
fi
say "done"
