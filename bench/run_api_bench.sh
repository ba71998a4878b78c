#!/usr/bin/env bash
# run_api_bench.sh - the REST API benchmark, Bots Scheduler and ndscheduler 0.3.0 in one run.
#
#   bench/run_api_bench.sh [--ours-only] [--quick] [-- EXTRA api_bench.py OPTIONS]
#
# 1. Starts `.venv/bin/bots-scheduler run --local` (defaults otherwise: SQLite, thread pool 2,
#    8 web workers) on a free port in a fresh temp folder and runs bench/api_bench.py against
#    it; stops it with SIGTERM.
# 2. Unless --ours-only: runs the same workload against ndscheduler 0.3.0 started by
#    ../shared/bench/ndscheduler_baseline.sh --no-demo-job (it needs a Python 3.6: pyenv's
#    3.6.15 or PY36=...; without one only our figures are printed).
# 3. Prints the side-by-side table with ratios; the JSON figures stay in $BENCH_OUT
#    (default: a new /tmp/api-bench.XXXXXX folder).
#
# --quick: 200 jobs, 100 runs, 1,000 big, 10,000 executions (a smoke test, not the figures).
# A full run takes about 3-5 minutes on 2 shared cores.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY="$ROOT/.venv/bin/python"
BASELINE=${BASELINE:-$ROOT/../shared/bench/ndscheduler_baseline.sh}
OURS_ONLY=0
SIZES=()
while [ $# -gt 0 ]; do
    case "$1" in
        --ours-only) OURS_ONLY=1; shift ;;
        --quick) SIZES=(--jobs 200 --runs 100 --big-jobs 1000 --executions 10000); shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        --) shift; break ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
done
EXTRA=("${SIZES[@]}" "$@")

OUT=${BENCH_OUT:-$(mktemp -d /tmp/api-bench.XXXXXX)}
mkdir -p "$OUT"
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
log() { echo "[bench] $*" >&2; }

# --- ours ----------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/bots-bench.XXXXXX)
PORT=$(free_port)                        # the scheduler's port (PORT+1 of -p)
SERVER_PID=
stop_ours() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=
}
trap 'stop_ours; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

( cd "$WORK" && exec "$ROOT/.venv/bin/bots-scheduler" run --local -p $((PORT - 1)) -d "$WORK/data" ) \
    >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
log "Bots Scheduler pid $SERVER_PID on http://127.0.0.1:$PORT (folder $WORK)"
for _ in $(seq 1 150); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/jobclasses" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/server.log" >&2; exit 4; }
    sleep 0.2
done
"$PY" "$ROOT/bench/api_bench.py" --base "http://127.0.0.1:$PORT" --flavour bots \
    --server-pid "$SERVER_PID" --db "$WORK/data/datastore.db" --json "$OUT/ours.json" \
    "${EXTRA[@]}" >/dev/null
stop_ours
if grep -q Traceback "$WORK/server.log"; then
    log "our server log has tracebacks:"; grep -m3 -A3 Traceback "$WORK/server.log" >&2
fi

# --- ndscheduler ---------------------------------------------------------------------------
THEIRS=()
if [ "$OURS_ONLY" = 0 ]; then
    ND_PORT=$(free_port)
    if "$BASELINE" --port "$ND_PORT" --no-demo-job -- "$PY" "$ROOT/bench/api_bench.py" \
            --flavour ndscheduler --json "$OUT/theirs.json" "${EXTRA[@]}" \
            >"$OUT/theirs.log" 2>&1; then
        grep server_peak_rss "$OUT/theirs.log" >&2 || true
        THEIRS=("$OUT/theirs.json")
    else
        log "the ndscheduler run failed (no Python 3.6? see $OUT/theirs.log); our figures only:"
        tail -5 "$OUT/theirs.log" >&2
    fi
fi

echo
"$PY" "$ROOT/bench/api_bench.py" --compare "$OUT/ours.json" "${THEIRS[@]}"
log "figures: $OUT"
