#!/usr/bin/env bash
# muslcheck probe, side by side with bare docker runs, in one run.
#
#   1. The whole built-in catalog on one image vs `docker run --rm IMG true`.
#   2. N images with --jobs N vs one image (N = 2 and 4), next to N bare runs started together.
#
# Usage: bench/probe.sh [RUNS] [IMAGE]   (defaults: 5 runs, muslcheck-test/musl:latest from ci/setup)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
image=${2:-muslcheck-test/musl:latest}

docker image inspect "$image" >/dev/null 2>&1 || { echo "bench: $image missing (ci/setup builds it)" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. bench/lib.sh
build_muslcheck


# Distinct tags of the image for the matrix (same content, separate containers).
tags=()
for i in 1 2 3 4; do
    docker tag "$image" "muslcheck-bench/probe:$i"
    tags+=("muslcheck-bench/probe:$i")
done
trap 'for t in "${tags[@]}"; do docker rmi "$t" >/dev/null 2>&1 || true; done' EXIT

# Warm: build the probes into the cache, start the daemon's caches.
"$mc" probe --image "$image" --pull never >/dev/null 2>&1 || true
docker run --rm "$image" true >/dev/null

bare_n() { local n=$1; for t in "${tags[@]:0:$n}"; do docker run --rm "$t" true >/dev/null & done; wait; }
matrix() { local n=$1; local args=(); for t in "${tags[@]:0:$n}"; do args+=(--image "$t"); done; "$mc" probe --jobs "$n" --pull never "${args[@]}"; }

read -r bare1_best bare1_med < <(timeit docker run --rm "$image" true)
read -r cat_best cat_med < <(timeit "$mc" probe --image "$image" --pull never)
read -r one_best one_med < <(timeit matrix 1)
read -r two_best two_med < <(timeit matrix 2)
read -r four_best four_med < <(timeit matrix 4)
read -r bare2_best bare2_med < <(timeit bare_n 2)
read -r bare4_best bare4_med < <(timeit bare_n 4)
probes=$("$mc" probe --list | wc -l)

cat <<EOF

muslcheck probe bench ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $runs runs each, image $image)

1. Whole catalog ($probes probes, built probes cached) vs a bare container
                                                best s   median s
   docker run --rm IMG true                     $bare1_best    $bare1_med
   muslcheck probe --image IMG                  $cat_best    $cat_med
   catalog / bare (best): $(ratio "$cat_best" "$bare1_best")x

2. Images in parallel (--jobs N) vs one
                                                best s   median s
   1 image                                      $one_best    $one_med
   2 images, --jobs 2                           $two_best    $two_med     $(ratio "$two_best" "$one_best")x one image
   4 images, --jobs 4                           $four_best    $four_med     $(ratio "$four_best" "$one_best")x one image
   for reference, bare runs started together:
   2 x docker run --rm IMG true                 $bare2_best    $bare2_med     $(ratio "$bare2_best" "$bare1_best")x one bare run
   4 x docker run --rm IMG true                 $bare4_best    $bare4_med     $(ratio "$bare4_best" "$bare1_best")x one bare run
EOF
