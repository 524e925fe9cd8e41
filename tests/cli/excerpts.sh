#!/usr/bin/env bash
# tests/cli/excerpts.sh ROOT DOC... - check that every C excerpt a document
# quotes is copied verbatim from the file it names, so the code a reader
# copies is the code that compiles and is tested. Each ```c block must sit
# right after a marker line naming its source, relative to ROOT:
#
#   <!-- excerpt: games/piles/piles.c -->
#   ```c
#   ...lines that appear, in this order and contiguous, in that file...
#   ```
#
# DOC paths are taken as given, sources relative to ROOT. A block without a
# marker, a marker without a block, a missing source or a block that is not
# in its source fails, naming the document and line.
set -euo pipefail
root=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
for doc in "$@"; do
    # Split the document: block K goes to $tmp/K.c, and "K LINE PATH" to
    # the manifest (PATH "-" when no marker precedes the fence).
    awk -v dir="$tmp" '
        inblock && /^```[ \t]*$/ { inblock = 0; close(out); next }
        inblock { print > out; next }
        /^```c[ \t]*$/ {
            k++
            out = dir "/" k ".c"
            printf "" > out
            printf "%d %d %s\n", k, NR, (prev != "" ? prev : "-") > (dir "/manifest")
            inblock = 1
            prev = ""
            next
        }
        {
            if (prev != "") {
                printf "0 %d %s\n", NR - 1, prev > (dir "/manifest")
            }
            prev = ""
            if (match($0, /^<!-- excerpt: [^ ]+ -->$/)) {
                prev = substr($0, 15, length($0) - 18)
            }
        }
    ' "$doc"
    [[ -f $tmp/manifest ]] || { echo "$doc: no C excerpts"; status=1; continue; }
    checked=0
    while read -r k line path; do
        if [[ $k == 0 ]]; then
            echo "$doc:$line: marker for $path is not followed by a \`\`\`c block"
            status=1
        elif [[ $path == - ]]; then
            echo "$doc:$line: C block without an <!-- excerpt: PATH --> marker"
            status=1
        elif [[ ! -f $root/$path ]]; then
            echo "$doc:$line: no such source: $path"
            status=1
        elif ! awk 'FNR == NR { b = b $0 "\n"; next } { s = s $0 "\n" }
                    END { exit index(s, b) ? 0 : 1 }' "$tmp/$k.c" "$root/$path"; then
            echo "$doc:$line: excerpt is not in $path; it begins:"
            head -n 3 "$tmp/$k.c" | sed 's/^/    /'
            status=1
        else
            checked=$((checked + 1))
        fi
    done <"$tmp/manifest"
    rm -f "$tmp"/*
    echo "$doc: $checked excerpts match their sources"
done
exit "$status"
