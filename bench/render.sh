#!/usr/bin/env bash
# Re-rendering a saved report, side by side with the check that wrote it, for every format, in
# one run.
#
# Two reports: about 1,000 artifacts (/usr/lib/x86_64-linux-gnu) and about 10,000 (copies of
# its ELF files under 2 MiB, made once under .build-bench/render/). Each round runs, in turn:
#   check TREE --format json=R.json                   the check that produced the report
#   check TREE --format json=R.json --format F=OUT    the same check writing F too
#   report R.json --format F=OUT                      F rendered again from the saved report
# for every format F. Printed per format and size: the median seconds, the ratio of report to
# the check that produced the JSON (target: at most 1.0), and what rendering F adds to check
# (check with F minus check without).
#
# Usage: bench/render.sh [RUNS]   (default 5 rounds; medians are printed)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
work=.build-bench/render
mkdir -p "$work"
# shellcheck source=bench/lib.sh
. bench/lib.sh
build_muslcheck

formats=(text json markdown junit sarif github html)
small=/usr/lib/x86_64-linux-gnu
[ -d "$small" ] || { echo "bench: $small missing" >&2; exit 1; }

# The large tree: copies of the small tree's ELF files under 2 MiB, until 10,000 or more.
large="$work/tree-10k"
if [ ! -f "$large/.complete" ]; then
    echo "bench: copying libraries into $large" >&2
    rm -rf "$large"
    mkdir -p "$large"
    list="$work/elf-files"
    find "$small" -type f -size -2M -print0 | sort -z |
        while IFS= read -r -d '' f; do
            [ "$(head -c 4 "$f" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ] && printf '%s\n' "$f"
        done >"$list"
    per=$(wc -l <"$list")
    copies=$(( (10000 + per - 1) / per ))
    for i in $(seq -w 1 "$copies"); do
        while read -r f; do
            rel=${f#"$small"/}
            mkdir -p "$large/copy-$i/$(dirname "$rel")"
            cp "$f" "$large/copy-$i/$rel"
        done <"$list"
    done
    touch "$large/.complete"
fi

check_args=(--static-only --target alpine:3.22 --fail-on never)
median() { best_median "$@" | cut -d' ' -f2; }

report_size() {  # label tree
    local label=$1 tree=$2 json="$work/$1.json"
    "$mc" check "$tree" "${check_args[@]}" --format "json=$json" >/dev/null 2>&1
    local artifacts
    artifacts=$(python3 -c "import json; print(json.load(open('$json'))['counts']['artifacts'])")
    echo "bench: $label: $artifacts artifacts, $(du -h "$json" | cut -f1) of JSON ($runs rounds)" >&2
    local base=() f
    declare -A with report
    for f in "${formats[@]}"; do with[$f]=""; report[$f]=""; done
    for _ in $(seq 1 "$runs"); do
        base+=("$(time1 "$mc" check "$tree" "${check_args[@]}" --format "json=$json")")
        for f in "${formats[@]}"; do
            with[$f]+=" $(time1 "$mc" check "$tree" "${check_args[@]}" --format "json=$json" --format "$f=$work/check.$f")"
            report[$f]+=" $(time1 "$mc" report "$json" --fail-on never --format "$f=$work/report.$f")"
        done
    done
    local b
    b=$(median "${base[@]}")
    printf '\n%s (%s artifacts): check --format json %.3f s\n' "$label" "$artifacts" "$b"
    printf '| format | report | ratio to check | check with it | rendering in check |\n|---|---|---|---|---|\n'
    for f in "${formats[@]}"; do
        # shellcheck disable=SC2086
        local r w
        r=$(median ${report[$f]})
        w=$(median ${with[$f]})
        printf '| %s | %.3f s | %.2f | %.3f s | %.3f s |\n' "$f" "$r" "$(ratio "$r" "$b")" "$w" "$(echo "$w - $b" | bc)"
    done
}

echo "bench: muslcheck $("$mc" --version), $(nproc) cores" >&2
report_size "1k" "$small"
report_size "10k" "$large"
