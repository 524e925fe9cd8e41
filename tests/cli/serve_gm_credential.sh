#!/usr/bin/env bash
# tests/cli/serve_gm_credential.sh - phasecast-serve's game-master
# credential for encounter rooms: without --gm-credential-file an
# encounter room is refused (exit 2); a file that is missing, empty, that
# other users may read, or that holds a malformed credential stops the
# server (exit 1) with a clear message; with a good file a "gm" join
# carrying it is accepted (nngcat) and one with another credential is
# forbidden; a durable encounter room keeps its game master across a
# restart with the file, and the server warns when restarted without it;
# the secret is printed nowhere.
#
# Needs PC_SERVE and nngcat.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

secret="cli-gm-credential-$RANDOM$RANDOM-abcdef"
umask 077
echo "$secret" >"$PC_TMP/gm"

# refused STATUS FILE WORDS - serve with an encounter room and FILE exits
# STATUS and says WORDS, never the secret.
refused() {
    local st=0
    local file=()
    [[ -z $2 ]] || file=(--gm-credential-file "$2")
    "$PC_SERVE" --pub tcp://127.0.0.1:0 --rep tcp://127.0.0.1:0 \
        --room e1:encounter "${file[@]}" >"$PC_TMP/x.out" 2>"$PC_TMP/x.err" ||
        st=$?
    [[ $st -eq $1 ]] || fail "${2:-no file}: serve exited $st"
    grep -q -- "$3" "$PC_TMP/x.err" || fail "${2:-no file}: no '$3'"
    ! grep -q -F "$secret" "$PC_TMP/x.err" "$PC_TMP/x.out" ||
        fail "$2: the secret was printed"
}
refused 2 '' 'needs its game master.s credential: --gm-credential-file'
refused 1 "$PC_TMP/missing" 'cannot read'
: >"$PC_TMP/empty"
refused 1 "$PC_TMP/empty" 'holds no credential'
echo "$secret with spaces" >"$PC_TMP/spaces"
refused 1 "$PC_TMP/spaces" 'printable ASCII characters without spaces'
(umask 022 && echo "$secret" >"$PC_TMP/readable")
refused 1 "$PC_TMP/readable" 'other users may read or write'

pc_serve --room e1:encounter --gm-credential-file "$PC_TMP/gm"
R="nngcat --req0 --dial $PC_REQ --quoted --recv-timeout 5"
out=$($R --data '{"op":"join","room":"e1","role":"gm","name":"dm","credential":"'"$secret"'"}')
[[ $out == *'\"ok\":true'*'\"role\":\"gm\"'* ]] || fail "gm join: $out"
[[ $out != *"$secret"* ]] || fail "the reply holds the credential"
out=$($R --data '{"op":"join","room":"e1","role":"gm","name":"dm2","credential":"'"$secret"'x"}')
[[ $out == *'\"code\":\"forbidden\"'* ]] || fail "a wrong credential: $out"
grep -q -F "$secret" "$PC_TMP/serve.err" "$PC_TMP/serve.out" &&
    fail "serve printed the credential"

# A durable encounter room keeps its game master across a restart when
# the server is given the file again; without it, it says so.
kill "${pc_pids[0]}"
wait "${pc_pids[0]}" || true
pc_pids=()
mkdir "$PC_TMP/log"
pc_serve --room e2:encounter --gm-credential-file "$PC_TMP/gm" \
    --log-dir "$PC_TMP/log"
gm_join() { # gm_join NAME - the reply to a "gm" join of e2
    nngcat --req0 --dial "$PC_REQ" --quoted --recv-timeout 5 --data \
        '{"op":"join","room":"e2","role":"gm","name":"'"$1"'","credential":"'"$secret"'"}'
}
out=$(gm_join dm)
[[ $out == *'\"ok\":true'* ]] || fail "gm join before the restart: $out"
kill "${pc_pids[0]}"
wait "${pc_pids[0]}" || true
pc_pids=()
pc_serve --gm-credential-file "$PC_TMP/gm" --log-dir "$PC_TMP/log"
grep -q 'recovered room e2 (encounter)' "$PC_TMP/serve.err" ||
    fail "e2 was not recovered"
out=$(gm_join dm2)
[[ $out == *'\"ok\":true'*'\"role\":\"gm\"'* ]] ||
    fail "gm join after the restart: $out"
kill "${pc_pids[0]}"
wait "${pc_pids[0]}" || true
pc_pids=()
pc_serve --log-dir "$PC_TMP/log"
grep -q 'recovered encounter room e2 has no game master' "$PC_TMP/serve.err" ||
    fail "no warning for a recovered encounter without a credential"
out=$(gm_join dm3)
[[ $out == *'\"code\":\"forbidden\"'* ]] ||
    fail "gm join without a credential: $out"
grep -q -F "$secret" "$PC_TMP/serve.err" "$PC_TMP/serve.out" &&
    fail "serve printed the credential"
echo "serve_gm_credential: ok"
