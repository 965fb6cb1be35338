#!/usr/bin/env bash
# Install the named Debian packages if any is missing (root, or sudo without a password).
#
# In a fresh machine's first minutes another apt process (unattended-upgrades, cloud-init)
# usually holds apt's locks: wait for them, up to LOCK_WAIT seconds, instead of failing.
set -euo pipefail
LOCK_WAIT=600
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo -n); else
  echo "Please install: apt-get install ${missing[*]}" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
# DPkg::Lock::Timeout makes apt-get wait for dpkg's locks (install); apt-get update takes the
# package lists' lock, which it never waits for (apt 2.6): try again while another holds it.
apt=("${SUDO[@]}" apt-get -o "DPkg::Lock::Timeout=$LOCK_WAIT")
deadline=$((SECONDS + LOCK_WAIT))
until errors=$("${apt[@]}" update -qq 2>&1 >/dev/null); do
  if ! grep -q "Could not get lock" <<<"$errors" || [ $SECONDS -ge $deadline ]; then
    echo "$errors" >&2; exit 1
  fi
  echo "Waiting for another apt process to release its lock..."
  sleep 5
done
[ -z "$errors" ] || echo "$errors" >&2
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
