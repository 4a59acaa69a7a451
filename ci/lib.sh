# Shared by ci/setup (sourced): messages, and apt-get that waits for the dpkg lock.
# Expects $SUDO ("" as root, "sudo" otherwise).

log() { printf '%s: %s\n' "${log_name:-ci/setup}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${log_name:-ci/setup}" "$*" >&2; exit 1; }

# apt-get that waits (up to 10 minutes) for another apt or dpkg to let go of its locks instead
# of failing at once: dpkg's lock through DPkg::Lock::Timeout, the package lists' lock (which
# that option does not cover) by trying again.
apt_get() {
    local deadline=$((SECONDS + 600)) out waited=""
    while :; do
        # env inside sudo: sudo's env_reset would drop a variable set before it.
        if out=$($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@" 2>&1 </dev/null); then
            return 0
        fi
        if [[ "$out" == *"Could not get lock"* || "$out" == *"Unable to lock"* ]] && [ $SECONDS -lt $deadline ]; then
            [ -n "${waited:-}" ] || log "waiting for another apt-get or dpkg to finish (it holds the lock)"
            waited=1
            sleep 5
            continue
        fi
        printf '%s\n' "$out" | tail -n 20 >&2
        return 1
    done
}
