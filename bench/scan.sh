#!/usr/bin/env bash
# muslcheck scan, side by side with scanelf and auditwheel, in one run.
#
#   1. A large tree (system libraries, the Swift toolchain, a Python site-packages, /usr/bin):
#      `muslcheck scan --format json` (full analysis against alpine:3.22) vs
#      `scanelf -qRy -F '%F %i %n %S %r'` (interpreter, needed, soname, rpath only).
#   2. Real wheels: `muslcheck scan` on all of them vs `auditwheel show` on each.
#   3. Memory: muslcheck's peak RSS on 1, 4 and 16 copies of the same set of libraries
#      (flat memory: the peak must not grow with the number of files).
#
# Usage: bench/scan.sh [RUNS]   (default 5 runs per tool; best and median are printed)
#   MUSLCHECK_BIN=PATH        time that binary instead of building one
#   MUSLCHECK_BASELINE=PATH   another muslcheck (an earlier build) takes turns too, for a
#                             before/after comparison in one run
# Needs: ci/setup done (scanelf from pax-utils), network to PyPI for the wheels and auditwheel
# the first time (cached under .build-bench/).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
work=.build-bench
mkdir -p "$work"

command -v scanelf >/dev/null || { echo "bench: scanelf missing (Debian pax-utils; ci/setup installs it)" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. bench/lib.sh
if [ -n "${MUSLCHECK_BIN:-}" ]; then mc=$MUSLCHECK_BIN; else build_muslcheck; fi
old=${MUSLCHECK_BASELINE:-}

peak_kb() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n1; }

site=$(python3 -c 'import site; print(site.getsitepackages()[0])')
tree=(/usr/lib/x86_64-linux-gnu /opt/swift/usr/lib "$site" /usr/bin)
for d in "${tree[@]}"; do [ -d "$d" ] || { echo "bench: $d missing" >&2; exit 1; }; done
files=$(find "${tree[@]}" -type f 2>/dev/null | wc -l)

# Warm the page cache for both tools.
"$mc" scan --format json --fail-on never "${tree[@]}" >"$work/scan.json" 2>/dev/null
scanelf -qRy -F '%F %i %n %S %r' "${tree[@]}" >"$work/scanelf.txt" 2>/dev/null || true
elf=$(python3 -c "import json; print(json.load(open('$work/scan.json'))['counts']['elfFiles'])")

echo "bench: tree: $files files, $elf ELF ($runs runs each)" >&2
# The two tools take turns, so that a slower or faster spell of the machine touches both.
mc_times=()
se_times=()
old_times=()
for _ in $(seq 1 "$runs"); do
    mc_times+=("$(time1 "$mc" scan --format json --fail-on never "${tree[@]}")")
    se_times+=("$(time1 scanelf -qRy -F '%F %i %n %S %r' "${tree[@]}")")
    [ -n "$old" ] && old_times+=("$(time1 "$old" scan --format json --fail-on never "${tree[@]}")")
done
read -r mc_best mc_median < <(best_median "${mc_times[@]}")
read -r se_best se_median < <(best_median "${se_times[@]}")
old_line=""
if [ -n "$old" ]; then
    read -r old_best old_median < <(best_median "${old_times[@]}")
    old_line="   baseline $old: $old_best s best, $old_median s median; baseline / scanelf: $(ratio "$old_best" "$se_best")x (best), $(ratio "$old_median" "$se_median")x (median)"
fi
mc_peak=$(peak_kb "$mc" scan --format json --fail-on never "${tree[@]}")

# Wheels: the same twelve as the tests (manylinux and musllinux of six projects).
wheels="$work/wheels"
mkdir -p "$wheels"
if [ -z "$(ls "$wheels"/*.whl 2>/dev/null)" ]; then
    echo "bench: downloading wheels" >&2
    for spec in numpy==2.1.3 grpcio==1.66.1 pillow==11.0.0 cryptography==43.0.3 psycopg2-binary==2.9.10 orjson==3.10.11; do
        pip download -q --only-binary=:all: --no-deps --python-version 3.11 -d "$wheels" \
            --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 "$spec" || true
        pip download -q --only-binary=:all: --no-deps --python-version 3.11 -d "$wheels" \
            --platform musllinux_1_2_x86_64 --platform musllinux_1_1_x86_64 "$spec" || true
    done
fi
venv="$work/auditwheel-venv"
if [ ! -x "$venv/bin/auditwheel" ]; then
    echo "bench: installing auditwheel into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q auditwheel
fi
aw_version=$("$venv/bin/auditwheel" --version 2>&1 | head -n1)
wheel_list=("$wheels"/*.whl)
show_all() { for w in "${wheel_list[@]}"; do "$venv/bin/auditwheel" show "$w"; done; }
read -r aw_best aw_median < <(timeit show_all)
read -r mw_best mw_median < <(timeit "$mc" scan --format json --fail-on never "${wheel_list[@]}")

# Flat memory: K copies of the same 200 libraries.
base="$work/flat/base"
if [ ! -d "$base" ]; then
    mkdir -p "$base"
    find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -name '*.so*' -size -2M | sort | head -n 200 |
        while read -r f; do cp "$f" "$base/"; done
fi
flat=()
for k in 1 4 16; do
    dir="$work/flat/x$k"
    if [ ! -d "$dir" ]; then
        mkdir -p "$dir"
        for i in $(seq 1 "$k"); do cp -r "$base" "$dir/copy$i"; done
    fi
    flat+=("$k:$(find "$dir" -type f | wc -l):$(peak_kb "$mc" scan --format json --fail-on never "$dir")")
done

cat <<EOF

muslcheck bench ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores)

1. Large tree: ${tree[*]}
   $files files, $elf ELF
   tool                                      best s   median s
   muslcheck scan --format json (full)       $mc_best    $mc_median
   scanelf -qRy -F '%F %i %n %S %r'          $se_best    $se_median
   muslcheck / scanelf: $(ratio "$mc_best" "$se_best")x (best), $(ratio "$mc_median" "$se_median")x (median)   muslcheck peak RSS: $((mc_peak / 1024)) MiB
$old_line

2. Wheels: ${#wheel_list[@]} wheels ($aw_version)
   auditwheel show, each wheel               $aw_best    $aw_median
   muslcheck scan, all wheels                $mw_best    $mw_median
   auditwheel / muslcheck (best): $(ratio "$aw_best" "$mw_best")x faster

3. Peak memory on K copies of 200 libraries (K:files:peak KiB)
   ${flat[*]}
EOF
