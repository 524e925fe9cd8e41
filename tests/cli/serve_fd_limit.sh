#!/usr/bin/env bash
# tests/cli/serve_fd_limit.sh - phasecast-serve takes the whole hard
# descriptor limit when it starts. Started with a soft limit of 256 (the
# hard one left as the test runner's), its /proc limits show the soft
# limit raised to the hard one, and it serves 400 spectators (in two
# pc_test_swarm processes, started with the runner's own limit), each at
# least one connection: every one of them converges on a piles room that
# changes on its timers. Without the raise the server could not accept
# more than about 250 of them.
#
# Needs PC_SERVE and PC_SWARM.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"
# shellcheck source=tests/cli/chaos_lib.sh
source "$here/chaos_lib.sh"

subs=400
hard=$(ulimit -H -n)
[[ $hard == unlimited ]] || ((hard >= 2 * subs)) ||
    fail "this test needs a hard descriptor limit of $((2 * subs)); it is $hard"
soft=$(ulimit -S -n)
ulimit -S -n 256
# shellcheck disable=SC2046
chaos_serve --room p1:piles $(chaos_piles 20) --heartbeat 200
ulimit -S -n "$soft"
read -r got_soft got_hard < <(awk '/^Max open files/ {print $4, $5}' \
    "/proc/$PC_SERVE_PID/limits")
[[ $got_soft == "$got_hard" ]] ||
    fail "the server's soft descriptor limit is $got_soft, not its hard $got_hard"
((got_soft > 256)) || fail "the server's descriptor limit stayed at $got_soft"
chaos_players p1
swarm_start s0 --room p1 --clients $((subs / 2)) --threads 10
s0=$SWARM_PID
swarm_start s1 --room p1 --clients $((subs / 2)) --threads 10
s1=$SWARM_PID
swarm_converge s0 "$s0" 60
swarm_converge s1 "$s1" 60
echo "ok - started with a soft limit of 256, the server took $got_soft;" \
    "$subs spectators converged; server descriptors $(chaos_fds "$PC_SERVE_PID")"
