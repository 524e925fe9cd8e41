#!/usr/bin/env bash
# tests/cli/nngcat.sh - the "Talking to a server with nngcat" example of
# docs/protocol.md, run as written against a real phasecast-serve: the
# replies carry what the doc shows and the subscription sees the changes.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

pc_serve --room r1
nngcat --sub0 --dial "$PC_PUB" --subscribe 'r1 ' --quoted \
    >"$PC_TMP/sub.out" &
pc_pids+=($!)
# The doc's own request command, with this server's URL.
R="nngcat --req0 --dial $PC_REQ --quoted --recv-timeout 2"
# Wait until the subscriber is connected: a heartbeat (default 1 s) arrives.
for ((i = 0; i < 50; i++)); do
    grep -q 'heartbeat' "$PC_TMP/sub.out" && break
    sleep 0.1
done
grep -q 'heartbeat' "$PC_TMP/sub.out" || fail "no heartbeat on the subscription"

out=$($R --data '{"op":"ping"}')
echo "$out"
[[ $out == '"{\"v\":1,\"ok\":true,\"result\":{\"time\":'* ]] || fail "ping"

out=$($R --data '{"op":"join","room":"r1","role":"player","name":"alice"}')
echo "$out"
[[ $out == *'\"ok\":true'*'\"player\":\"alice\"'*'\"seq\":1'* ]] ||
    fail "join alice"
token=$(sed -n 's/.*\\"token\\":\\"\([0-9a-f]\{32\}\)\\".*/\1/p' <<<"$out")
[[ -n $token ]] || fail "no token"

out=$($R --data '{"op":"join","room":"r1","role":"player","name":"bob"}')
echo "$out"
[[ $out == *'\"ok\":true'*'\"player\":\"bob\"'*'\"seq\":2'* ]] || fail "join bob"

out=$($R --data '{"op":"action","room":"r1","token":"'"$token"'","action_id":"m1","type":"move","payload":{"cell":4}}')
echo "$out"
# The reply carries the seq the move produced and the change itself.
[[ $out == '"{\"v\":1,\"ok\":true,\"result\":{\"room\":\"r1\",\"seq\":3,\"value\":null,\"changes\":[{\"seq\":3,'*'\"reason\":\"X plays cell 4\"'*'\"sum\":\"55f0d9999c0b296f\"}]}}"' ]] ||
    fail "move"

out=$($R --data '{"op":"snapshot","room":"r1"}')
echo "$out"
[[ $out == *'\"ok\":true'*'\"seq\":3'*'\"state\":{\"phase\":\"PLAYING\"'*'\"board\":[\"\",\"\",\"\",\"\",\"X\",\"\",\"\",\"\",\"\"],\"turn\":\"O\"'* ]] ||
    fail "snapshot"
# The checksum the doc prints is the state's, whatever the clock said.
[[ $out == *'\"sum\":\"55f0d9999c0b296f\"'* ]] || fail "snapshot sum"

out=$($R --data '{"op":"changes","room":"r1","since":2}')
echo "$out"
[[ $out == *'\"changes\":[{\"seq\":3,'*'\"reason\":\"X plays cell 4\"'* ]] ||
    fail "changes"

# The subscription received the three changes, one line per message.
for ((i = 0; i < 50; i++)); do
    grep -q '\\"seq\\":3,.*X plays cell 4' "$PC_TMP/sub.out" && break
    sleep 0.1
done
cat "$PC_TMP/sub.out"
grep -q '^"r1 {\\"v\\":1,\\"type\\":\\"changes\\",\\"room\\":\\"r1\\".*\\"seq\\":1,.*alice joins as X' \
    "$PC_TMP/sub.out" || fail "subscription: no seq 1"
grep -q '\\"seq\\":1,.*\\"sum\\":\\"ed45bac511abdd36\\"' "$PC_TMP/sub.out" ||
    fail "subscription: seq 1 does not carry the doc's sum"
grep -q '\\"type\\":\\"changes\\".*\\"seq\\":3,.*X plays cell 4' \
    "$PC_TMP/sub.out" || fail "subscription: no change after the action"
echo PASS
