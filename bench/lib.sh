# Shared by the bench/ scripts (sourced, with $runs set): build muslcheck, time commands.

# Builds muslcheck the way it is installed (release, Swift runtime linked in: the CI templates
# in ci/github and ci/gitlab build it so), in its own scratch path; sets $mc to the binary.
build_muslcheck() {
    echo "bench: building muslcheck (release, --static-swift-stdlib)" >&2
    local flags=(-c release --static-swift-stdlib --scratch-path .build-static) log
    log=$(mktemp)
    if ! swift build "${flags[@]}" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        echo "bench: the build failed" >&2
        exit 1
    fi
    rm -f "$log"
    mc=$(swift build "${flags[@]}" --show-bin-path)/muslcheck
}

# Wall seconds of one run of a command (output discarded).
time1() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}

# "best median" of the seconds given as arguments.
best_median() {
    printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.3f %.3f\n", a[1], a[int((NR+1)/2)]}'
}

# Runs a command $runs times; prints "best median" wall seconds. Output is discarded.
timeit() {
    local times=()
    for _ in $(seq 1 "$runs"); do times+=("$(time1 "$@")"); done
    best_median "${times[@]}"
}

ratio() { echo "scale=2; $1 / $2" | bc; }
