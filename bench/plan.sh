#!/usr/bin/env bash
# muslcheck plan, side by side with muslcheck scan against one target, in one run.
#
# The bench tree of bench/scan.sh (system libraries, the Swift toolchain, a Python
# site-packages, /usr/bin): `muslcheck scan --target alpine:3.22 --format json` vs
# `muslcheck plan --format json --index-url none` (every bundled candidate: the Alpine releases,
# plain and +gcompat, and the four Debian-based bases). The goal: plan costs at most 1.5x scan.
#
# Usage: bench/plan.sh [RUNS]   (default 5 runs each, taking turns; best and median are printed)
#   MUSLCHECK_BIN=PATH   time that binary instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
# shellcheck source=bench/lib.sh
. bench/lib.sh
if [ -n "${MUSLCHECK_BIN:-}" ]; then mc=$MUSLCHECK_BIN; else build_muslcheck; fi

site=$(python3 -c 'import site; print(site.getsitepackages()[0])')
tree=(/usr/lib/x86_64-linux-gnu /opt/swift/usr/lib "$site" /usr/bin)
for d in "${tree[@]}"; do [ -d "$d" ] || { echo "bench: $d missing" >&2; exit 1; }; done

# Warm the page cache.
"$mc" scan --format json --fail-on never --target alpine:3.22 "${tree[@]}" >/dev/null 2>&1 || true
"$mc" plan --format json --index-url none "${tree[@]}" >/dev/null 2>&1 || true

scan_times=()
plan_times=()
for _ in $(seq 1 "$runs"); do
    scan_times+=("$(time1 "$mc" scan --format json --fail-on never --target alpine:3.22 "${tree[@]}")")
    plan_times+=("$(time1 "$mc" plan --format json --index-url none "${tree[@]}")")
done
read -r scan_best scan_median < <(best_median "${scan_times[@]}")
read -r plan_best plan_median < <(best_median "${plan_times[@]}")
# plan exits 1 when no candidate runs everything (the bench tree has musl and glibc files).
plan_peak=$({ /usr/bin/time -f '%M' "$mc" plan --format json --index-url none "${tree[@]}" 2>&1 >/dev/null || true; } | tail -n1)
ratio_best=$(ratio "$plan_best" "$scan_best")
ratio_median=$(ratio "$plan_median" "$scan_median")
echo "scan --target alpine:3.22: $scan_best s best, $scan_median s median"
echo "plan (18 candidates):      $plan_best s best, $plan_median s median; peak RSS $plan_peak KB"
echo "plan / scan: ${ratio_best}x (best), ${ratio_median}x (median); goal: at most 1.5x"
if [ "$(echo "$ratio_median <= 1.5" | bc)" = 1 ]; then echo "goal: met"; else echo "goal: NOT met"; fi
