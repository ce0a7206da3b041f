# Shared bootstrap for bin/test and bin/pengaduan; sourced, not run.
#
# Provides:
#   REPO_ROOT                         absolute path of the repository (the `pengaduan` package)
#   pengaduan_venv TAG SPEC           make sure $REPO_ROOT/.venv exists and has SPEC installed
#                                     (pip install -e SPEC); TAG names the stamp ("base", "test")
#   pengaduan_apt_install "A|B" ...   apt-get install each package (first alternative that
#                                     apt knows); needs root or password-less sudo
#   pengaduan_say MESSAGE             progress message on stderr (stdout stays the program's)
#
# Environment: PENGADUAN_PYTHON (default python3) is the interpreter the venv is made with.

REPO_ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd -P)"
PENGADUAN_MIN_PYTHON="3.11"

pengaduan_say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
pengaduan_die() { pengaduan_say "error: $*"; exit 1; }

# -- Debian packages ---------------------------------------------------------------------------

pengaduan_apt_install() {
    local as_root=() choice alternative alternatives log
    local chosen=()
    if ! command -v apt-get >/dev/null 2>&1; then
        pengaduan_say "apt-get not found; install these yourself: $*"
        return 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            as_root=(sudo -n)
        else
            pengaduan_say "not root (and no password-less sudo); install these yourself: $*"
            return 1
        fi
    fi
    log="$(mktemp)"
    pengaduan_say "installing Debian packages ($*) with apt-get ..."
    if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update >"$log" 2>&1; then
        tail -n 30 "$log" >&2; rm -f "$log"; return 1
    fi
    for choice in "$@"; do
        IFS='|' read -r -a alternatives <<<"$choice"
        for alternative in "${alternatives[@]}"; do
            if apt-cache show "$alternative" >/dev/null 2>&1; then
                chosen+=("$alternative"); continue 2
            fi
        done
        pengaduan_say "no Debian package among: $choice"; rm -f "$log"; return 1
    done
    if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y \
            -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 \
            install --no-install-recommends "${chosen[@]}" >"$log" 2>&1; then
        tail -n 30 "$log" >&2; rm -f "$log"; return 1
    fi
    rm -f "$log"
    pengaduan_say "installed ${chosen[*]}"
}

# -- the virtualenv ----------------------------------------------------------------------------

_pengaduan_python() {
    local py="${PENGADUAN_PYTHON:-python3}"
    command -v "$py" >/dev/null 2>&1 \
        || pengaduan_die "$py not found on PATH; pengaduan needs Python >= $PENGADUAN_MIN_PYTHON"
    "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || pengaduan_die "$(command -v "$py") is $("$py" -V 2>&1); pengaduan needs Python >= $PENGADUAN_MIN_PYTHON (set PENGADUAN_PYTHON to another interpreter)"
    "$py" -c 'import venv, ensurepip' 2>/dev/null \
        || pengaduan_die "$py cannot create virtualenvs (no venv/ensurepip module); on Debian: apt-get install python3-venv"
    printf '%s\n' "$py"
}

_pengaduan_venv_locked() {
    local tag=$1 spec=$2 venv="$REPO_ROOT/.venv" sha py stamp log
    sha="$(sha256sum "$REPO_ROOT/pyproject.toml" | cut -c1-64)"

    if ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        py="$(_pengaduan_python)"
        [ -e "$venv" ] && pengaduan_say "recreating $venv (its Python is missing or too old)"
        rm -rf "$venv"
        pengaduan_say "creating $venv with $("$py" -V 2>&1) ..."
        "$py" -m venv "$venv"
    fi

    # Up to date: the stamp for this pyproject.toml (a "test" install includes "base").
    for stamp in "$venv/.installed-$tag-$sha" "$venv/.installed-test-$sha"; do
        if [ -e "$stamp" ] && { [ "$tag" = base ] || [ "$stamp" = "$venv/.installed-$tag-$sha" ]; }; then
            return 0
        fi
    done

    pengaduan_say "installing pengaduan ($spec) into $venv ..."
    # pip's and the build backend's chatter goes to a log, shown only when the install fails.
    log="$(mktemp)"
    if ! (export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
          cd "$REPO_ROOT" \
          && "$venv/bin/python" -m pip install -q --upgrade pip \
          && "$venv/bin/python" -m pip install -q -e "$spec") >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        rm -f "$log"
        pengaduan_die "pip install -e '$spec' failed (output above)"
    fi
    rm -f "$log"
    for stamp in "$venv"/.installed-*; do
        [ -e "$stamp" ] && [ "${stamp%-"$sha"}" = "$stamp" ] && rm -f "$stamp"
    done
    touch "$venv/.installed-$tag-$sha"
}

pengaduan_venv() {
    # Two commands bootstrapping at once would fight over .venv: take turns (lock this file).
    # Call it unconditionally (not in `if`/`||`), so that `set -e` stops at the first failure.
    if command -v flock >/dev/null 2>&1; then
        exec 9<"$REPO_ROOT/bin/_venv.sh"
        flock 9
    fi
    _pengaduan_venv_locked "$1" "$2"
    exec 9<&-
}
