#!/bin/sh
# End-to-end test of `agent-exec mcp` with the official TypeScript MCP SDK.
# Usage: e2e/mcp/run.sh <path-to-agent-exec-binary>
set -eu
if [ "$#" -ne 1 ]; then
	echo "usage: $0 <path-to-agent-exec-binary>" >&2
	exit 2
fi
case "$1" in
/*) bin=$1 ;;
*) bin=$(pwd)/$1 ;;
esac
if [ ! -x "$bin" ]; then
	echo "run.sh: $bin is not an executable" >&2
	exit 2
fi
cd "$(dirname "$0")"
# npm ci installs exactly what package-lock.json pins.
npm ci --no-audit --no-fund --loglevel=error >&2
exec node e2e.mjs "$bin"
