#!/usr/bin/env bash
# tests/cli/http.sh - the HTTP bridge and phasecast-inspect --http as real
# processes, driven by curl: a browser-like SSE reader (curl -N) follows a
# room while two bots play tictactoe over nng; its last event id is the
# room's final seq. The routes answer with their statuses; the inspector
# credential opens /history and nothing else; phasecast-inspect --http
# over the room's change log serves the same history (same seqs, same
# patches) as the live server; phasecast-status reads the bridge's
# /metrics; SIGTERM stops both servers cleanly.
#
# Needs PC_SERVE, PC_PLAY, PC_INSPECT, PC_STATUS and curl.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

mkdir -p "$PC_TMP/logs"
cred="$PC_TMP/credential"
umask 077
echo "cli-http-credential-$RANDOM$RANDOM-0123456789" >"$cred"
pc_serve --room r1 --seed 5 --log-dir "$PC_TMP/logs" \
    --inspector-credential-file "$cred" --http 127.0.0.1:0
http=$(sed -n 's/^http //p' "$PC_TMP/serve.out")
[[ $http == http://127.0.0.1:* ]] || fail "serve printed no http URL"

# status CODE METHOD PATH [CURL ARGS...] - fail unless the status is CODE.
status() {
    local want=$1 method=$2 path=$3
    shift 3
    local got
    got=$(curl -s -o "$PC_TMP/body.out" -w '%{http_code}' -X "$method" \
        "$@" "$http$path")
    [[ $got == "$want" ]] || fail "$method $path: $got, want $want"
}

status 200 GET /rooms
grep -q '"room":"r1"' "$PC_TMP/body.out" || fail "/rooms lacks r1"
status 404 GET /rooms/nope
grep -q '"code":"unknown_room"' "$PC_TMP/body.out" || fail "no unknown_room"
status 405 PUT /rooms/r1
status 403 GET /rooms/r1/history
status 415 POST /rooms/r1/join -d '{"role":"spectator"}'
status 200 POST /rooms/r1/join -H 'Content-Type: application/json' \
    -d '{"role":"spectator"}'
status 302 GET /
status 200 GET /ui/

# A reader from the start (HTTP/1.1, chunked) and one over HTTP/1.0.
curl -s -N "$http/rooms/r1/events" >"$PC_TMP/sse11.out" &
pc_pids+=($!)
curl -s -N -0 "$http/rooms/r1/events" >"$PC_TMP/sse10.out" &
pc_pids+=($!)
sleep 0.5
for name in alice bob; do
    timeout 90 "$PC_PLAY" --pub "$PC_PUB" --req "$PC_REQ" --room r1 \
        --name "$name" --bot --seed 3 >"$PC_TMP/$name.out" &
    pc_pids+=($!)
done
wait "${pc_pids[3]}" || fail "alice's bot failed"
wait "${pc_pids[4]}" || fail "bob's bot failed"

status 200 GET /rooms/r1
seq=$(grep -o '"seq":[0-9]*' "$PC_TMP/body.out" | head -1 | cut -d: -f2)
[[ $seq -gt 4 ]] || fail "the game made only $seq changes"
for f in sse11 sse10; do
    for ((i = 0; i < 50; i++)); do
        last=$(sed -n 's/^id: //p' "$PC_TMP/$f.out" | tail -1)
        [[ $last == "$seq" ]] && break
        sleep 0.1
    done
    [[ $last == "$seq" ]] || fail "$f: last event id $last, room seq $seq"
    n=$(grep -c '^event: changes' "$PC_TMP/$f.out")
    [[ $n == "$seq" ]] || fail "$f: $n change events for seq $seq"
done

auth=(-H "Authorization: Bearer $(cat "$cred")")
status 200 GET /rooms/r1/history "${auth[@]}"
cp "$PC_TMP/body.out" "$PC_TMP/hist.out"
grep -o '"seq":[0-9]*,"time":[0-9]*' "$PC_TMP/hist.out" | cut -d, -f1 \
    >"$PC_TMP/live-seqs"
[[ $(wc -l <"$PC_TMP/live-seqs") == "$seq" ]] || fail "history lacks changes"
status 401 GET /rooms/r1/changes?since=0 "${auth[@]}"

# The same history from the change log, through phasecast-inspect --http.
: >"$PC_TMP/insp.out"
"$PC_INSPECT" --log "$PC_TMP/logs/r1.pclog" --http 127.0.0.1:0 \
    >"$PC_TMP/insp.out" 2>"$PC_TMP/insp.err" &
ipid=$!
pc_pids+=($ipid)
for ((i = 0; i < 100; i++)); do
    ihttp=$(sed -n 's/^http //p' "$PC_TMP/insp.out")
    [[ -n $ihttp ]] && break
    sleep 0.1
done
[[ -n $ihttp ]] || fail "phasecast-inspect --http printed no URL"
curl -s "$ihttp/rooms/r1/history" >"$PC_TMP/ihist.out"
grep -o '"seq":[0-9]*,"time":[0-9]*' "$PC_TMP/ihist.out" | cut -d, -f1 \
    >"$PC_TMP/log-seqs"
diff "$PC_TMP/live-seqs" "$PC_TMP/log-seqs" || fail "log and server differ"
# Every patch of the server's history is in the log's, byte for byte.
grep -o '"patch":{[^}]*}' "$PC_TMP/hist.out" >"$PC_TMP/live-patches"
[[ -s $PC_TMP/live-patches ]] || fail "no patches in the server's history"
while read -r p; do
    grep -qF -- "$p" "$PC_TMP/ihist.out" || fail "the log lacks $p"
done <"$PC_TMP/live-patches"
curl -s -o /dev/null -w '%{http_code}' "$ihttp/ui/" |
    grep -q 200 || fail "inspect --http serves no pages"
kill -TERM "$ipid"
wait "$ipid" || fail "phasecast-inspect --http did not stop cleanly"

"$PC_STATUS" "$http" >"$PC_TMP/status.out" || fail "phasecast-status failed"
grep -q 'phasecast_sse_connections' "$PC_TMP/status.out" ||
    fail "status shows no SSE connections"
kill -TERM "${pc_pids[0]}"
wait "${pc_pids[0]}" || fail "phasecast-serve did not stop cleanly"
echo "ok: $seq changes followed over SSE (HTTP/1.1 and 1.0); log and server agree"
