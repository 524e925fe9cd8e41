# shellcheck shell=bash
# tests/cli/chaos_lib.sh - what the chaos tests (tests/cli/chaos_*.sh) and
# scripts/soak share: a phasecast-serve that can be killed and started
# again on the same ports, piles rooms that play by themselves (four
# players join, then every phase timer plays for them, so the room keeps
# changing with nobody acting), and pc_test_swarm processes
# (tests/support/swarm.c) whose replicas are checked against the server's
# history on SIGUSR1. Sourced after lib.sh; needs PC_SERVE and PC_SWARM.

# Piles delays that keep a room changing every few milliseconds for about
# 50,000 changes (1,000 rounds; no one reaches the target score).
chaos_piles() {
    local ms=${1:-2}
    echo "--declare-ms $ms --play-ms $ms --deal-ms $ms --results-ms $ms" \
        "--scoring-ms $ms --target 10000 --rounds 1000"
}

# chaos_serve ARG... - start the server the first time (free ports) and
# remember the arguments, so chaos_start can start it again on the same
# URLs. Pass --http 127.0.0.1:0 to get PC_HTTP. Sets PC_SERVE_PID.
chaos_serve() {
    chaos_args=("$@")
    pc_serve "$@"
    PC_SERVE_PID=${pc_pids[-1]}
    PC_HTTP=$(sed -n 's/^http //p' "$PC_TMP/serve.out")
    chaos_starts=1
}

# chaos_start - start the server again with the same arguments and URLs
# (the HTTP port too); retries while the old ports are still held. Sets
# PC_SERVE_PID.
chaos_start() {
    local args=() a i try out
    for a in "${chaos_args[@]}"; do
        if [[ $a == 127.0.0.1:0 && -n $PC_HTTP ]]; then
            a=${PC_HTTP#http://}
            a=${a%%/*}
        fi
        args+=("$a")
    done
    chaos_starts=$((chaos_starts + 1))
    for ((try = 0; try < 50; try++)); do
        out="$PC_TMP/serve.$chaos_starts.out"
        : >"$out"
        "$PC_SERVE" --pub "$PC_PUB" --rep "$PC_REQ" "${args[@]}" \
            >"$out" 2>>"$PC_TMP/serve.err" &
        PC_SERVE_PID=$!
        pc_pids+=("$PC_SERVE_PID")
        for ((i = 0; i < 100; i++)); do
            grep -q '^rep ' "$out" && return 0
            kill -0 "$PC_SERVE_PID" 2>/dev/null || break
            sleep 0.05
        done
        wait "$PC_SERVE_PID" 2>/dev/null || true
        sleep 0.1
    done
    fail "phasecast-serve did not start again on $PC_PUB $PC_REQ"
}

# chaos_players ROOM - seat four players, which starts the piles game.
chaos_players() {
    local n reply
    for n in north east south west; do
        reply=$(nngcat --req0 --dial "$PC_REQ" --quoted --recv-timeout 5 \
            --data "{\"op\":\"join\",\"room\":\"$1\",\"role\":\"player\",\"name\":\"$n\"}")
        [[ $reply == *'\"ok\":true'* ]] || fail "join $n in $1: $reply"
    done
}

# chaos_fds PID / chaos_rss PID - open descriptors; resident KiB.
chaos_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }
chaos_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# chaos_metric NAME{LABELS} - one sample of the server's /metrics (0 if
# absent).
chaos_metric() {
    curl -fsS "$PC_HTTP/metrics" | awk -v k="$1" '$1 == k {v = $2} END {print v + 0}'
}

# chaos_wait_fds PID BASELINE SECONDS - wait until PID's descriptors are
# back to BASELINE (or fewer); fail after SECONDS.
chaos_wait_fds() {
    local i n
    for ((i = 0; i < $3 * 10; i++)); do
        n=$(chaos_fds "$1")
        ((n <= $2)) && return 0
        sleep 0.1
    done
    fail "server descriptors stayed at $n, baseline $2, after $3 s"
}

# swarm_start NAME ARG... - start pc_test_swarm (writes $PC_TMP/NAME.out)
# and wait for its "ready" line. Sets SWARM_PID.
swarm_start() {
    local name=$1 i
    shift
    : >"$PC_TMP/$name.out"
    "$PC_SWARM" --pub "$PC_PUB" --req "$PC_REQ" "$@" \
        >"$PC_TMP/$name.out" 2>"$PC_TMP/$name.err" &
    SWARM_PID=$!
    pc_pids+=("$SWARM_PID")
    for ((i = 0; i < 1200; i++)); do
        grep -q '^ready' "$PC_TMP/$name.out" && return 0
        kill -0 "$SWARM_PID" 2>/dev/null || fail "swarm $name exited"
        sleep 0.05
    done
    fail "swarm $name did not join within 60 s"
}

# swarm_check NAME PID - ask for a check and wait (30 s at most) for its
# line; sets CHECK to it (and the diverged lines are in the file).
swarm_check() {
    local f="$PC_TMP/$1.out" n i
    n=$(grep -c '^check' "$f" || true)
    kill -USR1 "$2"
    for ((i = 0; i < 600; i++)); do
        if (($(grep -c '^check' "$f" || true) > n)); then
            CHECK=$(grep '^check' "$f" | tail -n 1)
            return 0
        fi
        sleep 0.05
    done
    fail "swarm $1 did not answer a check within 30 s"
}

# field WORD - the value after WORD in CHECK.
field() { awk -v w="$1" '{for (i = 1; i < NF; i++) if ($i == w) print $(i + 1)}' <<<"$CHECK"; }

# swarm_converge NAME PID SECONDS - check until every client of the swarm
# agrees with the server; fail at once on a divergent one, or after
# SECONDS.
swarm_converge() {
    local i
    for ((i = 0; i < $3 * 4; i++)); do
        swarm_check "$1" "$2"
        (($(field diverged) == 0)) || fail "swarm $1 diverged: $CHECK"
        (($(field verified) == $(field clients))) && return 0
        sleep 0.25
    done
    fail "swarm $1 did not converge within $3 s: $CHECK"
}
