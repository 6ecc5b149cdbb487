#!/usr/bin/env bash
# Make a Docker daemon answer on this machine (DESIGN §11). Idempotent: exits 0 at once when `docker info` works.
#
# Otherwise installs docker.io from Debian when dockerd is missing, then starts
#   dockerd --bridge=none --iptables=false --ip-masq=false
# in the background (no bridge, no NAT: containers run with networking off, and no network is ever created on a
# private address range), logging to $DOCKERD_LOG, and waits up to $DOCKER_UP_TIMEOUT seconds for it to answer.
# On failure it prints the tail of the log and exits non-zero.
#
# Environment: DOCKERD_LOG (default /var/log/bench-by-execution-dockerd.log), DOCKER_UP_TIMEOUT (default 60).
set -euo pipefail

LOG="${DOCKERD_LOG:-/var/log/bench-by-execution-dockerd.log}"
WAIT_S="${DOCKER_UP_TIMEOUT:-60}"

say() { echo "docker_up: $*" >&2; }

daemon_answers() { timeout 10 docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && daemon_answers; then
    say "daemon already answers"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "no daemon answers and this is not root: cannot install or start dockerd"
    exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    say "installing docker.io from Debian"
    # Never let the package's maintainer scripts start the stock service: its default bridge would create a network on
    # a private address range. policy-rc.d answering 101 forbids service starts during the install.
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    cleanup_policy() { if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi; }
    trap cleanup_policy EXIT
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io >/dev/null
    cleanup_policy
    trap - EXIT
    hash -r
fi

if daemon_answers; then
    say "daemon answers"
    exit 0
fi

# Whether a pid is a process that really runs: a killed daemon can linger as a zombie until pid 1 reaps it.
alive() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo X)
    [ "$state" != Z ] && [ "$state" != X ]
}

live_dockerd() {
    local pid
    for pid in $(pgrep -x dockerd 2>/dev/null || true); do
        if alive "$pid"; then echo "$pid"; fi
    done
    return 0
}

running=$(live_dockerd | tr '\n' ' ')
if [ -n "${running// /}" ]; then
    say "a dockerd is already running (pid $running); waiting for it"
else
    # Pid files left by a daemon that was killed stop a new one: dockerd takes any existing process named there, a
    # zombie included, for a running daemon, and waits for "its" containerd until it gives up.
    for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
        if [ -f "$pidfile" ] && ! alive "$(cat "$pidfile" 2>/dev/null || echo 0)"; then
            say "removing the stale $pidfile ($(cat "$pidfile" 2>/dev/null))"
            rm -f "$pidfile"
        fi
    done
    mkdir -p "$(dirname "$LOG")"
    say "starting dockerd (log: $LOG)"
    nohup setsid dockerd --bridge=none --iptables=false --ip-masq=false >>"$LOG" 2>&1 </dev/null &
    say "dockerd pid $!"
fi

started=$SECONDS
while [ $((SECONDS - started)) -lt "$WAIT_S" ]; do
    if daemon_answers; then
        say "daemon answers after $((SECONDS - started)) s"
        exit 0
    fi
    sleep 1
done

say "dockerd did not answer within ${WAIT_S} s; last lines of $LOG:"
tail -n 40 "$LOG" >&2 || true
exit 1
