#!/usr/bin/env bash
# tests/cli/serve_credential.sh - phasecast-serve's inspector credential:
# from PHASECAST_INSPECTOR_CREDENTIAL it turns the inspect request on (an
# nngcat request with it gets the history, one without it is forbidden);
# a credential file that other users may read, that is empty, too long or
# malformed stops the server at start; the secret is printed nowhere.
#
# Needs PC_SERVE and nngcat.
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/cli/lib.sh
source "$here/lib.sh"

secret="cli-env-credential-$RANDOM$RANDOM-abcdef"
PHASECAST_INSPECTOR_CREDENTIAL=$secret pc_serve --room r1
grep -q 'inspector on (credential from the environment)' "$PC_TMP/serve.err" ||
    fail "serve did not say inspector on"
R="nngcat --req0 --dial $PC_REQ --quoted --recv-timeout 5"
out=$($R --data '{"op":"inspect","room":"r1","credential":"'"$secret"'"}')
[[ $out == *'\"ok\":true'*'\"game\":\"tictactoe\"'*'\"records\":['* ]] ||
    fail "inspect with the credential: $out"
[[ $out != *"$secret"* ]] || fail "the reply holds the credential"
out=$($R --data '{"op":"inspect","room":"r1","credential":"'"$secret"'x"}')
[[ $out == *'\"code\":\"forbidden\"'*'wrong inspector credential'* ]] ||
    fail "a wrong credential: $out"
grep -q -F "$secret" "$PC_TMP/serve.err" "$PC_TMP/serve.out" &&
    fail "serve printed the credential"

# Files serve refuses before it starts; none of its messages holds the
# secret.
refused() { # refused FILE WORDS - serve exits 1 and says WORDS
    local st=0
    "$PC_SERVE" --pub tcp://127.0.0.1:0 --rep tcp://127.0.0.1:0 \
        --inspector-credential-file "$1" >"$PC_TMP/x.out" 2>"$PC_TMP/x.err" ||
        st=$?
    [[ $st -eq 1 ]] || fail "$1: serve exited $st"
    grep -q -- "$2" "$PC_TMP/x.err" || fail "$1: no '$2'"
    ! grep -q -F "$secret" "$PC_TMP/x.err" "$PC_TMP/x.out" ||
        fail "$1: the secret was printed"
}
umask 022
echo "$secret" >"$PC_TMP/readable"
refused "$PC_TMP/readable" 'other users may read or write'
umask 077
: >"$PC_TMP/empty"
refused "$PC_TMP/empty" 'holds no credential'
printf '%s%0120d\n' "$secret" 0 >"$PC_TMP/long"
refused "$PC_TMP/long" 'longer than 128 characters'
echo "$secret with spaces" >"$PC_TMP/spaces"
refused "$PC_TMP/spaces" 'printable ASCII characters without spaces'
refused "$PC_TMP" 'not a regular file'
echo "serve_credential: ok"
