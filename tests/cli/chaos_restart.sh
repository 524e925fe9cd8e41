#!/usr/bin/env bash
# tests/cli/chaos_restart.sh - client chaos (issue 8), server restart:
# PC_CHAOS_SUBSCRIBERS spectators (500 by default, in five pc_test_swarm
# processes of ten threads each) follow a piles room that changes on its
# timers, on a server with a change log and the HTTP bridge. The server
# is then stopped and started again on the same ports and log directory,
# PC_CHAOS_RESTARTS times (2 by default: first with SIGTERM, then with
# SIGKILL, alternating), one second apart. After each restart every
# spectator must converge on the recovered room within 60 s, without a
# snapshot storm: the new server's `phasecast_requests_total{op="snapshot"}`
# (its counters start at 0) is at most 2 per spectator, and no spectator
# took more than 2 snapshots since the check before the incident. Prints
# the figures.
#
# Needs PC_SERVE and PC_SWARM.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"
# shellcheck source=tests/cli/chaos_lib.sh
source "$here/chaos_lib.sh"

subs=${PC_CHAOS_SUBSCRIBERS:-500}
restarts=${PC_CHAOS_RESTARTS:-2}
procs=5
mkdir -p "$PC_TMP/logs"
# shellcheck disable=SC2046
chaos_serve --room p1:piles $(chaos_piles 20) --heartbeat 200 \
    --log-dir "$PC_TMP/logs" --fsync none --http 127.0.0.1:0
[[ -n $PC_HTTP ]] || fail "no http URL"
chaos_players p1
swarms=()
for ((s = 0; s < procs; s++)); do
    n=$((subs / procs + (s < subs % procs ? 1 : 0)))
    swarm_start "s$s" --room p1 --clients "$n" --threads 10
    swarms+=("$SWARM_PID")
done
converge_all() {
    local s
    for ((s = 0; s < procs; s++)); do
        swarm_converge "s$s" "${swarms[$s]}" "$1"
        snaps=$((snaps + $(field snapshots)))
        maxnew=$(( $(field max_new_snapshots) > maxnew ? $(field max_new_snapshots) : maxnew))
        seq=$(field min_seq)
    done
}
snaps=0 maxnew=0
converge_all 60
echo "$subs spectators joined and agree with the server at seq $seq;" \
    "server fds $(chaos_fds "$PC_SERVE_PID")," \
    "snapshot requests $(chaos_metric 'phasecast_requests_total{op="snapshot"}')"
for ((r = 1; r <= restarts; r++)); do
    sig=TERM
    ((r % 2 == 0)) && sig=KILL
    before=$snaps
    kill -"$sig" "$PC_SERVE_PID"
    wait "$PC_SERVE_PID" 2>/dev/null || true
    sleep 1
    chaos_start
    t0=$(date +%s.%N)
    snaps=0 maxnew=0
    converge_all 60
    t1=$(date +%s.%N)
    served=$(chaos_metric 'phasecast_requests_total{op="snapshot"}')
    changes=$(chaos_metric 'phasecast_requests_total{op="changes"}')
    echo "restart $r (SIG$sig): all $subs converged at seq >= $seq within" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s of the start;" \
        "server: $served snapshot and $changes changes requests," \
        "$(chaos_fds "$PC_SERVE_PID") fds, $(chaos_rss "$PC_SERVE_PID") KiB;" \
        "clients: $((snaps - before)) snapshots in all, at most $maxnew each"
    ((served <= 2 * subs)) ||
        fail "snapshot storm: $served snapshot requests for $subs spectators"
    ((maxnew <= 2)) || fail "snapshot storm: one spectator took $maxnew snapshots"
done
