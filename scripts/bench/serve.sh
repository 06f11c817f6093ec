#!/usr/bin/env bash
# Measures `seqmodels serve` on loopback with the built-in dates model (beam 5, the default of
# both `translate` and the server), bounded in time and count:
#
# 1. Throughput (ROUNDS times, alternated): N dates (`dates generate --seed 777 --formats wide`) piped through
#    `seqmodels translate` in one process, against the same dates sent to the server one per
#    request by 64 concurrent clients (dynamic batching), and by one client at a time; inputs
#    per second, and p50/p99 latency of the requests.
# 2. Soak: a steady RATE of requests for SOAK seconds, one in ten malformed (bad JSON, wrong
#    type, unknown field, unknown model, a beam over the limit, wrong method, unknown path):
#    the count of 5xx or failed valid requests (must be 0), of malformed ones not answered 4xx
#    (must be 0), and the server's RSS after loading, after 5 s of warm-up and at the end.
#
# Figures are printed, never asserted; on a shared machine they move from run to run.
# SERVE_FLAGS adds flags to the server of the throughput rounds; COMPARE_FLAGS starts a second
# server with those flags, measured in each round too (COMPARE_FLAGS="--replicas 1": one copy
# of the model with every thread on each batch, against the default replicas).
#
# usage: scripts/bench/serve.sh [SOAK_SECONDS=300] [N=20000] [THREADS=2] [RATE=200] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
soak="${1:-300}"
n="${2:-20000}"
threads="${3:-2}"
rate="${4:-200}"
rounds="${5:-3}"
source scripts/bench/common.sh
cargo build --release --quiet --example serve_load
load="$PWD/target/release/examples/serve_load"

"$bin" dates generate -n "$n" --seed 777 --formats wide | cut -f 1 > "$work/dates.txt"
echo "== $n dates (dates generate --seed 777 --formats wide), built-in model, beam 5, --threads $threads"

# piped: one run of the N dates through `seqmodels translate`; prints inputs/s.
piped() {
    local start end
    start=$(date +%s.%N)
    timeout 600 "$bin" --threads "$threads" translate < "$work/dates.txt" > "$work/piped.out" 2>/dev/null || true
    end=$(date +%s.%N)
    awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN {printf "%.0f", n / (e - s)}'
}

# Starts the server with extra flags; sets $pid and $addr.
serve() {
    "$bin" --threads "$threads" serve --addr 127.0.0.1:0 "$@" > "$work/serve.out" 2> "$work/serve.err" &
    pid=$!
    for _ in $(seq 600); do
        addr=$(sed -n 's|^listening on http://||p' "$work/serve.out")
        [ -n "$addr" ] && return 0
        sleep 0.1
    done
    echo "the server did not start:"; cat "$work/serve.err"; exit 1
}
stop() {
    kill -TERM "$pid"
    wait "$pid" && echo "server stopped with status 0 after SIGTERM" || echo "server exit status $?"
}
rss() { awk '/^VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$pid/status"; }
# CPU seconds (user + system) process $1 has used so far.
cpu_s() { sed 's/^.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($12 + $13) / hz}'; }
cpu_since() { awk -v a="$2" -v b="$(cpu_s "$1")" 'BEGIN {printf "%.1f", b - a}'; }
figures() {
    python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
print("%.0f inputs/s, p50 %.1f ms, p99 %.1f ms (%d answered 200 in %.1f s; statuses %s)" % (
    r["per_second"], r["p50_ms"], r["p99_ms"], r["answered_200"], r["seconds"], r["status"]))'
}
per_second() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])["per_second"])' "$1"; }

# shellcheck disable=SC2086 # SERVE_FLAGS is a list of flags
serve ${SERVE_FLAGS:-}
echo "server${SERVE_FLAGS:+ (${SERVE_FLAGS})}: $(sed -n 1p "$work/serve.err")"
"$load" "$addr" "$work/dates.txt" 64 200 30 > /dev/null   # warm-up
if [ -n "${COMPARE_FLAGS:-}" ]; then
    main_pid=$pid main_addr=$addr
    # shellcheck disable=SC2086
    serve $COMPARE_FLAGS
    other_pid=$pid other_addr=$addr pid=$main_pid addr=$main_addr
    "$load" "$other_addr" "$work/dates.txt" 64 200 30 > /dev/null
fi
# The piped run and the server's 64 clients alternate ROUNDS times (the machine's load moves
# between runs; each ratio compares neighbours). With COMPARE_FLAGS a second server, started
# with those flags, takes its turn in each round too.
# clients ROUND LABEL PID ADDR: 64 clients against the server PID at ADDR, against the piped
# rate $p; sets $concurrent to the load generator's JSON.
clients() {
    local before
    before=$(cpu_s "$3")
    concurrent=$("$load" "$4" "$work/dates.txt" 64 "$n" 300)
    echo "round $1: server$2, 64 concurrent clients: $(figures <<< "$concurrent"); server CPU $(cpu_since "$3" "$before") s"
    awk -v c="$(per_second "$concurrent")" -v p="$p" -v r="$1" -v l="$2" \
        'BEGIN {printf "round %d: server%s with 64 clients / piped: %.2fx\n", r, l, c / p}'
}
for round in $(seq "$rounds"); do
    p=$(piped)
    echo "round $round: piped through seqmodels translate: $p inputs/s ($n inputs, start-up included)"
    if [ -n "${COMPARE_FLAGS:-}" ]; then
        clients "$round" " $COMPARE_FLAGS" "$other_pid" "$other_addr"
    fi
    # The default server goes last, so that the speed-up below uses its figures.
    clients "$round" "" "$pid" "$addr"
done
if [ -n "${COMPARE_FLAGS:-}" ]; then
    kill -TERM "$other_pid" && wait "$other_pid" || true
fi
single=$("$load" "$addr" "$work/dates.txt" 1 2000 60)
echo "server, one request at a time: $(figures <<< "$single")"
awk -v c="$(per_second "$concurrent")" -v s="$(per_second "$single")" \
    'BEGIN {printf "dynamic batching speed-up (64 clients of the last round / one at a time): %.1fx\n", c / s}'
grep -E '^seqmodels_batch_size_(sum|count)' <(curl -s "http://$addr/metrics") || true
stop

echo
echo "== soak: $soak s at $rate requests/s, one in ten malformed"
serve
echo "RSS after loading: $(rss)"
"$load" "$addr" "$work/dates.txt" 64 "$((rate * 5))" 5 "$rate" 0.1 > /dev/null   # 5 s of warm-up
echo "RSS at start (after 5 s of the same load): $(rss)"
"$load" "$addr" "$work/dates.txt" 64 1000000000 "$soak" "$rate" 0.1 > "$work/soak.json"
echo "RSS at end: $(rss)"
cat "$work/soak.json"
echo "soak: $(figures < "$work/soak.json")"
stop
