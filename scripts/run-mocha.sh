#!/bin/sh
# Runs the compiled unit, integration and CLI tests with Node 24 (node:sqlite); extra arguments go to mocha.
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
exec sh "$ROOT/scripts/with-node24.sh" "$ROOT/node_modules/mocha/bin/mocha.js" --timeout 120000 --reporter "${MOCHA_REPORTER:-spec}" "$ROOT"/out/test/*.test.js "$@"
