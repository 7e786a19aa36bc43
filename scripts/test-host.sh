#!/bin/sh
# The tests inside a real VS Code extension host: the main suite, a multi-root workspace, an untrusted one.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
sh scripts/setup-code-server.sh
sh scripts/with-node24.sh scripts/run-host-tests.mjs
HOST_ENTRY=out/host/multiRootIndex.js HOST_FIXTURE=multi-root sh scripts/with-node24.sh scripts/run-host-tests.mjs
HOST_ENTRY=out/host/untrustedIndex.js HOST_TRUST=untrusted sh scripts/with-node24.sh scripts/run-host-tests.mjs
