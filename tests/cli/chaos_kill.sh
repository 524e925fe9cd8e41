#!/usr/bin/env bash
# tests/cli/chaos_kill.sh - client chaos (issue 8), kill -9: a piles room
# keeps changing on its timers (about 250 changes a second) while a
# spectator process (pc_test_swarm, one client) joins, is checked against
# the server, and is killed with SIGKILL, PC_CHAOS_KILLS times (200 by
# default, about 30 s; every fifth is killed 0-49 ms after its start,
# while it joins, instead). Every spectator that got to join must converge
# (its seq and checksum agree with the server's history), the server's
# descriptors must return to their baseline (bounded wait) and its RSS
# must stay within PC_CHAOS_RSS_KIB (4096) of its value after the first
# ten cycles (not under AddressSanitizer, whose quarantine RSS would
# measure). Prints the figures.
#
# Needs PC_SERVE and PC_SWARM.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"
# shellcheck source=tests/cli/chaos_lib.sh
source "$here/chaos_lib.sh"

kills=${PC_CHAOS_KILLS:-200}
rss_bound=${PC_CHAOS_RSS_KIB:-4096}
# shellcheck disable=SC2046
chaos_serve --room p1:piles $(chaos_piles 2) --heartbeat 200
chaos_players p1
sleep 0.5
fds0=$(chaos_fds "$PC_SERVE_PID")
rss0=$(chaos_rss "$PC_SERVE_PID")
rss10=
t0=$(date +%s.%N)
early=0
for ((i = 1; i <= kills; i++)); do
    if ((i == 11)); then
        chaos_wait_fds "$PC_SERVE_PID" "$fds0" 10
        rss10=$(chaos_rss "$PC_SERVE_PID")
    fi
    if ((i % 5 == 0)); then
        # Every fifth one dies while it joins (0-49 ms after its start).
        "$PC_SWARM" --pub "$PC_PUB" --req "$PC_REQ" --room p1 >/dev/null 2>&1 &
        pid=$!
        sleep "0.0$((RANDOM % 5))$((RANDOM % 10))"
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null || true
        early=$((early + 1))
        continue
    fi
    swarm_start k --room p1 --clients 1
    swarm_converge k "$SWARM_PID" 30
    seq=$(field min_seq)
    kill -KILL "$SWARM_PID"
    wait "$SWARM_PID" 2>/dev/null || true
    if ((i % 50 == 0)); then
        echo "cycle $i: converged at seq $seq; server fds $(chaos_fds "$PC_SERVE_PID") rss $(chaos_rss "$PC_SERVE_PID") KiB"
    fi
done
t1=$(date +%s.%N)
chaos_wait_fds "$PC_SERVE_PID" "$fds0" 10
rss1=$(chaos_rss "$PC_SERVE_PID")
: "${rss10:=$rss0}"
echo "kills $kills ($early of them while joining) in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s," \
    "every restarted spectator converged; server fds $fds0 -> $(chaos_fds "$PC_SERVE_PID");" \
    "rss $rss0 KiB at start, $rss10 after 10 cycles, $rss1 at the end"
if [[ $(ldd "$PC_SERVE" 2>/dev/null) == *libasan* ]]; then
    # ASan's quarantine and shadow memory make RSS measure the tool.
    echo "RSS bound not applied: the server is built with AddressSanitizer"
else
    ((rss1 - rss10 <= rss_bound)) ||
        fail "server RSS grew by $((rss1 - rss10)) KiB over the kills (bound $rss_bound KiB)"
fi
kill -0 "$PC_SERVE_PID" || fail "the server died"
