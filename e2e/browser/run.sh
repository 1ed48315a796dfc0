#!/usr/bin/env bash
# Browser CSRF check of `agent-exec serve` (SPEC §5.4): a page on another
# loopback origin, loaded in headless Chromium, tries to start jobs on the
# server with every request a browser sends without a CORS preflight
# (no-cors fetch, sendBeacon, text/plain and urlencoded form posts) plus a
# preflighted JSON fetch. The check passes only if the page ran all its
# attempts, GET /jobs?all=true lists no job, no marker file exists, and a
# legitimate client can still start a job afterwards (so "no job" is not
# the result of a dead server).
#
# Usage: e2e/browser/run.sh [path-to-agent-exec-binary]
# Needs: go (to build the binaries when none is given), bash, chromium
# (apt-get install -y chromium). CHROMIUM=/path/to/browser overrides the
# browser. Exits non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/agent-exec-browser.XXXXXX")
serve_pid=
attacker_pid=

cleanup() {
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
	[ -n "$attacker_pid" ] && kill "$attacker_pid" 2>/dev/null && wait "$attacker_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "browser-csrf: FAIL: $*" >&2
	exit 1
}

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
	for b in chromium chromium-browser google-chrome google-chrome-stable; do
		if command -v "$b" >/dev/null 2>&1; then
			browser=$(command -v "$b")
			break
		fi
	done
fi
[ -n "$browser" ] || fail "no chromium found (apt-get install -y chromium)"

if [ $# -ge 1 ]; then
	case "$1" in
	/*) bin=$1 ;;
	*) bin=$(pwd)/$1 ;;
	esac
	[ -x "$bin" ] || fail "$bin is not an executable"
else
	bin=$work/agent-exec
	(cd "$repo" && go build -o "$bin" ./cmd/agent-exec)
fi
(cd "$repo" && go build -o "$work/attacker" ./e2e/browser/attacker)

export AGENT_EXEC_ROOT=$work/jobs
unset AGENT_EXEC_SERVE_TOKEN
mkdir -p "$work/cwd"

# Start the server on a free port and read the port from its listening line.
# -vv logs every refused request (method, path, status, code) on stderr.
(cd "$work/cwd" && exec "$bin" -v -v serve --port 0 >"$work/serve.out" 2>"$work/serve.err") &
serve_pid=$!
addr=
for _ in $(seq 500); do
	addr=$(sed -n 's|^agent-exec serve listening on http://||p' "$work/serve.err" 2>/dev/null)
	[ -n "$addr" ] && break
	kill -0 "$serve_pid" 2>/dev/null || fail "serve exited: $(cat "$work/serve.out" "$work/serve.err")"
	sleep 0.02
done
[ -n "$addr" ] || fail "serve printed no listening line"
host=${addr%:*}
port=${addr##*:}
target="http://$addr"
echo "browser-csrf: agent-exec serve on $target"

# req METHOD PATH [BODY]: one HTTP/1.1 request over bash's /dev/tcp, so the
# check needs no curl; prints the raw response.
req() {
	local body=${3-}
	exec 3<>"/dev/tcp/$host/$port"
	printf '%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
		"$1" "$2" "$addr" "${#body}" "$body" >&3
	cat <&3
	exec 3<&-
}

job_count() {
	local resp
	resp=$(req GET '/jobs?all=true')
	case "$resp" in
	"HTTP/1.1 200 "*) ;;
	*) fail "GET /jobs?all=true: $resp" ;;
	esac
	printf '%s' "$resp" | { grep -o '"job_id":"' || true; } | wc -l | tr -d ' '
}

# refused METHOD STATUS: how many requests the server refused that way.
refused() {
	{ grep 'msg="request refused"' "$work/serve.err" || true; } |
		{ grep "method=$1 path=/exec status=$2 " || true; } | wc -l | tr -d ' '
}

[ "$(job_count)" = 0 ] || fail "root not empty before the attack"

# Serve the attacker page from another loopback origin.
marker=$work/pwned
"$work/attacker" -target "$target" -marker "$marker" >"$work/attacker.out" 2>"$work/attacker.err" &
attacker_pid=$!
page=
for _ in $(seq 500); do
	page=$(head -n 1 "$work/attacker.out" 2>/dev/null)
	[ -n "$page" ] && break
	kill -0 "$attacker_pid" 2>/dev/null || fail "attacker exited: $(cat "$work/attacker.err")"
	sleep 0.02
done
[ -n "$page" ] || fail "attacker printed no address"
echo "browser-csrf: attacker page on $page/"

# Let the page run its attempts; --virtual-time-budget keeps the page alive
# while network requests are pending, --dump-dom prints the final DOM.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
	--disable-background-networking --no-first-run --no-default-browser-check \
	--disable-extensions --user-data-dir="$work/profile" \
	--virtual-time-budget=15000 --dump-dom "$page/" >"$work/dom.html" 2>"$work/chromium.err" ||
	fail "chromium failed: $(tail -n 20 "$work/chromium.err")"

sed -n '/<pre id="log">/,/<\/pre>/p' "$work/dom.html" | sed 's/<[^>]*>//g' | sed '/^$/d' | sed 's/^/browser-csrf: page: /'
grep -q 'attacks-finished' "$work/dom.html" ||
	fail "the attack page did not finish; DOM: $(head -c 2000 "$work/dom.html")"
for a in fetch-no-cors-text fetch-no-cors-blob fetch-cors-json beacon form-text-plain form-urlencoded; do
	grep -q "$a: " "$work/dom.html" || fail "attempt $a did not run"
done

# Every attempt must have reached the server and been refused: the five
# preflight-free POSTs by the Origin check (403) and the JSON fetch at its
# preflight (OPTIONS 403). Otherwise "no job" would prove nothing.
posts=$(refused POST 403)
preflights=$(refused OPTIONS 403)
echo "browser-csrf: server refused $posts POST /exec and $preflights preflight(s)"
[ "$posts" = 5 ] || fail "expected 5 refused POST /exec, saw $posts: $(grep 'request refused' "$work/serve.err")"
[ "$preflights" = 1 ] || fail "expected 1 refused preflight, saw $preflights"

n=$(job_count)
[ "$n" = 0 ] || fail "$n job(s) created by the attacker page: $(req GET '/jobs?all=true')"
if ls "$marker"* >/dev/null 2>&1; then
	fail "marker file created: $(ls "$marker"*)"
fi

# Control: a legitimate client still gets its job, so the server was alive.
resp=$(req POST /exec '{"command":["true"],"wait":true}')
case "$resp" in
"HTTP/1.1 200 "*) ;;
*) fail "control POST /exec: $resp" ;;
esac
[ "$(job_count)" = 1 ] || fail "control job not listed"

kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve exited with $? after SIGTERM"
serve_pid=
[ ! -s "$work/serve.out" ] || fail "serve wrote to stdout: $(cat "$work/serve.out")"
echo "browser-csrf: PASS (6 browser attempts refused, no job created)"
