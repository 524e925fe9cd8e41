#!/usr/bin/env bash
# tests/cli/status.sh - phasecast-status against a real phasecast-serve
# with its HTTP bridge on a free loopback port, after two bots played a
# full tictactoe game through it: the table and --json show the traffic
# (rooms, joins, actions, changes committed, a latency histogram), and
# the tool's errors (no server, an HTTP error, a bad URL, a bad option)
# come out as `phasecast-status: code: message` with exit 1 or 2.
# Needs PC_SERVE, PC_PLAY and PC_STATUS.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

pc_serve --room r1 --http 127.0.0.1:0
PC_HTTP=$(sed -n 's/^http //p' "$PC_TMP/serve.out")
[[ $PC_HTTP == http://127.0.0.1:* ]] || fail "no http URL: $PC_HTTP"

for who in "alice 1" "bob 2"; do
    set -- $who
    timeout 90 "$PC_PLAY" --pub "$PC_PUB" --req "$PC_REQ" --room r1 \
        --name "$1" --bot --seed "$2" >"$PC_TMP/$1.out" &
    pc_pids+=($!)
done
wait "${pc_pids[1]}" || fail "alice exited non-zero"
wait "${pc_pids[2]}" || fail "bob exited non-zero"
seq=$(sed -n 's/^result: .* at seq \([0-9]*\).*/\1/p' "$PC_TMP/alice.out")
[[ -n $seq ]] || fail "no result from alice"

# The table.
"$PC_STATUS" --timeout 5000 "$PC_HTTP" >"$PC_TMP/status.out" 2>"$PC_TMP/status.err" ||
    fail "phasecast-status exited $?"
cat "$PC_TMP/status.out"
grep -q "^$PC_HTTP\$" "$PC_TMP/status.out" || fail "no source line"
for section in Gauges Counters Histograms; do
    grep -q "^$section" "$PC_TMP/status.out" || fail "no $section section"
done
# row NAME VALUE - the table row of series NAME has figure VALUE.
row() {
    awk -v n="$1" -v v="$2" '$1 == n && $2 == v { found = 1 }
        END { exit !found }' "$PC_TMP/status.out" ||
        fail "row $1 is not $2: $(grep -F -- "$1" "$PC_TMP/status.out")"
}
row phasecast_rooms 1
row 'phasecast_requests_total{op="join"}' 2
row phasecast_changes_committed_total "$seq"
row 'phasecast_client_reports_total{kind="checksum_mismatch"}' 0
# Every action the bots sent is in the action histogram's count.
actions=$(awk '$1 == "phasecast_requests_total{op=\"action\"}" { print $2 }' \
    "$PC_TMP/status.out")
[[ $actions -ge 5 ]] || fail "only ${actions:-no} actions counted"
row 'phasecast_request_duration_seconds{op="action"}' "$actions"

# The same figures as JSON.
"$PC_STATUS" --json "$PC_HTTP/" >"$PC_TMP/status.json" ||
    fail "phasecast-status --json exited $?"
grep -q '"families":\[' "$PC_TMP/status.json" || fail "no families in JSON"
grep -q '{"name":"phasecast_rooms","type":"gauge","help":"Rooms the server hosts.","samples":\[{"name":"phasecast_rooms","labels":{},"value":1}\]}' \
    "$PC_TMP/status.json" || fail "rooms not in JSON"
grep -q "{\"name\":\"phasecast_changes_committed_total\",\"labels\":{},\"value\":$seq}" \
    "$PC_TMP/status.json" || fail "changes committed not in JSON"
grep -q '"name":"phasecast_request_duration_seconds","type":"histogram"' \
    "$PC_TMP/status.json" || fail "no histogram in JSON"
grep -q "{\"labels\":{\"op\":\"action\"},\"count\":$actions," \
    "$PC_TMP/status.json" || fail "action series not in JSON"

# expect_fail STATUS CODE ARG... - the tool exits STATUS and says CODE.
expect_fail() {
    local want=$1 code=$2 rc=0
    shift 2
    "$PC_STATUS" "$@" >"$PC_TMP/fail.out" 2>"$PC_TMP/fail.err" || rc=$?
    [[ $rc -eq $want ]] || fail "$* exited $rc, not $want"
    grep -q "^phasecast-status: $code: " "$PC_TMP/fail.err" ||
        fail "$* said: $(cat "$PC_TMP/fail.err")"
    [[ ! -s $PC_TMP/fail.out ]] || fail "$* printed something on stdout"
}
expect_fail 1 http_status "$PC_HTTP/nowhere"
expect_fail 2 bad_url "ftp://127.0.0.1:1"
expect_fail 2 bad_usage --timeout 0 "$PC_HTTP"
expect_fail 2 bad_usage "$PC_HTTP" "$PC_HTTP"
# A reply larger than the cap is refused, not read.
expect_fail 1 too_large --max-bytes 100 "$PC_HTTP"
# The server's HTTP port, once the server is gone, refuses the connection.
kill "${pc_pids[0]}"
wait "${pc_pids[0]}" 2>/dev/null || true
expect_fail 1 connect_failed --timeout 2000 "$PC_HTTP"
"$PC_STATUS" --json "$PC_HTTP" 2>"$PC_TMP/fail.err" && fail "no server, exit 0"
grep -q '^{"error":{"code":"connect_failed","message":' "$PC_TMP/fail.err" ||
    fail "--json error: $(cat "$PC_TMP/fail.err")"
echo PASS
