#!/usr/bin/env bash
# Install MeshChain as a service on Raspberry Pi OS (Debian bookworm), 64-bit.
#   sudo scripts/install.sh [--dry-run] [--chain-id ID] [--package SPEC]
# --dry-run prints every step and changes nothing (no root needed). --package is what
# `npm install -g` installs: by default a package packed from this checkout.
# Steps: check Node.js >= 20.19, install the package, create the meshchain user (in dialout for
# the USB radio), /etc/meshchain with a passphrase, `meshchain init` in /var/lib/meshchain, and
# the systemd unit (enabled, not started: the chain's genesis file comes first).
set -euo pipefail

DRY_RUN=0
CHAIN_ID=""
PACKAGE=""
NODE_BIN="${NODE_BIN:-node}"
REQUIRED_NODE="20.19.0"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DATA_DIR=/var/lib/meshchain
CONF_DIR=/etc/meshchain
UNIT=/etc/systemd/system/meshchain.service

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --chain-id) CHAIN_ID="${2:?--chain-id needs a value}"; shift ;;
    --package) PACKAGE="${2:?--package needs a value}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n== %s\n' "$*"; }
run() {
  printf '+ %s\n' "$*"
  if [ "$DRY_RUN" -eq 0 ]; then "$@"; fi
}

version_at_least() { # $1 >= $2, both x.y.z
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

step "Node.js ${REQUIRED_NODE} or newer"
if ! command -v "$NODE_BIN" >/dev/null 2>&1; then
  NODE_VERSION="none"
else
  NODE_VERSION="$("$NODE_BIN" --version 2>/dev/null | sed 's/^v//')"
fi
if [ "$NODE_VERSION" = "none" ] || ! version_at_least "$NODE_VERSION" "$REQUIRED_NODE"; then
  cat >&2 <<MSG
Node.js ${REQUIRED_NODE} or newer is needed; this machine has: ${NODE_VERSION}.
Raspberry Pi OS bookworm's own nodejs package is 18.x, too old. Install Node.js 20 from NodeSource:
  curl -fsSL https://deb.nodesource.com/setup_20.x -o nodesource_setup.sh
  sudo bash nodesource_setup.sh && sudo apt-get install -y nodejs
then run this script again.
MSG
  [ "$DRY_RUN" -eq 1 ] && echo "(dry run: continuing to show the remaining steps)" || exit 1
else
  echo "node ${NODE_VERSION}: ok"
fi

if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo), or with --dry-run to see the steps" >&2
  exit 1
fi

step "the meshchain package"
echo "better-sqlite3 ships prebuilt binaries for arm64 Linux; where none fits, npm compiles it (several minutes on a Pi, needs build-essential and python3)."
run apt-get install -y --no-install-recommends build-essential python3
if [ -z "$PACKAGE" ]; then
  # Building the package from this checkout needs its development tools (TypeScript).
  run npm --prefix "$HERE" ci
  run npm --prefix "$HERE" pack --pack-destination /tmp
  PACKAGE="/tmp/meshchain-$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$HERE/package.json" | head -n1).tgz"
fi
run npm install -g "$PACKAGE"
run meshchain --version

step "the meshchain user (in dialout, for the radio's serial port)"
if id meshchain >/dev/null 2>&1; then
  echo "user meshchain exists"
else
  run useradd --system --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin --user-group meshchain
fi
run usermod -a -G dialout meshchain

step "${CONF_DIR}: the key's passphrase (root:meshchain, 0640)"
run install -d -m 0750 -o root -g meshchain "$CONF_DIR"
if [ -e "$CONF_DIR/passphrase" ]; then
  echo "$CONF_DIR/passphrase exists: kept"
else
  # A random passphrase: the key file alone (a backup, a copied SD card) is useless without it.
  # Keep a copy of it with your key backup.
  run sh -c "umask 0137 && head -c 24 /dev/urandom | base64 > '$CONF_DIR/passphrase'"
  run chown root:meshchain "$CONF_DIR/passphrase"
fi

step "${DATA_DIR}: key and config (meshchain init)"
if [ -d "$DATA_DIR" ] && [ -n "$(ls -A "$DATA_DIR" 2>/dev/null)" ]; then
  echo "$DATA_DIR is not empty: kept (init never overwrites)"
else
  run install -d -m 0700 -o meshchain -g meshchain "$DATA_DIR"
  INIT=(meshchain init --data-dir "$DATA_DIR" --passphrase-file "$CONF_DIR/passphrase" --json)
  [ -n "$CHAIN_ID" ] && INIT+=(--chain-id "$CHAIN_ID")
  run runuser -u meshchain -- "${INIT[@]}"
fi

step "the systemd unit"
run install -m 0644 "$HERE/systemd/meshchain.service" "$UNIT"
run systemctl daemon-reload
run systemctl enable meshchain.service

step "next"
cat <<NEXT
1. Send the card printed above (address, keys, proof of possession) to whoever runs the genesis
   ceremony (docs/operations.md, "Three people, three Pis").
2. Put the genesis file you get back at ${DATA_DIR}/genesis.json (owner meshchain), compare its
   hash with the others: meshchain genesis show ${DATA_DIR}/genesis.json
3. Edit ${DATA_DIR}/meshchain.toml (broker, radio), check it: meshchain config check ${DATA_DIR}/meshchain.toml
4. sudo systemctl start meshchain && journalctl -u meshchain -f
NEXT
