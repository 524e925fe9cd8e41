#!/usr/bin/env bash
# tests/cli/serve_action_rate.sh - phasecast-serve --action-rate: a player
# who sends actions faster than the rate, past the burst, gets the typed
# error rate_limited (and nothing changes), while another player's own
# bucket is untouched. The rate is 1 per second with a burst of 2 and the
# lines are sent back to back, so the third and later actions of the
# first player are refused unless more than a second passes between them,
# which the test measures rather than assumes.
#
# Needs PC_SERVE and PC_PLAY.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

pc_serve --room t1 --action-rate 1 --action-burst 2 ||
    fail "phasecast-serve did not start"
net=(--pub "$PC_PUB" --req "$PC_REQ" --room t1)
start=$(date +%s%N)
printf 'move {"cell": 99}\n%.0s' 1 2 3 4 5 6 |
    timeout 60 "$PC_PLAY" "${net[@]}" --name alice --game tictactoe \
        >"$PC_TMP/alice.out" 2>&1 || fail "alice's session failed"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
limited=$(grep -c '^error rate_limited' "$PC_TMP/alice.out" || true)
answered=$(grep -c '^error ' "$PC_TMP/alice.out" || true)
((answered == 6)) || fail "alice got $answered answers to 6 actions"
# At most 2 + elapsed seconds' worth of actions may pass the bucket.
passed=$((6 - limited))
((passed <= 2 + elapsed_ms / 1000 + 1)) ||
    fail "$passed of 6 actions passed a 1/s bucket of 2 in $elapsed_ms ms"
((limited >= 1 || elapsed_ms > 3000)) || fail "no action was rate limited"
# bob's bucket is his own: his first action is answered by the game.
echo 'move {"cell": 99}' |
    timeout 60 "$PC_PLAY" "${net[@]}" --name bob --game tictactoe \
        >"$PC_TMP/bob.out" 2>&1 || fail "bob's session failed"
grep -q '^error ' "$PC_TMP/bob.out" || fail "bob got no answer"
! grep -q '^error rate_limited' "$PC_TMP/bob.out" ||
    fail "bob was limited by alice's flood"
echo "ok - $limited of 6 back-to-back actions rate limited in $elapsed_ms ms; another player unaffected"
