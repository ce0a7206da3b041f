#!/usr/bin/env bash
# The install steps of docs/operations.md, scripted. Run as root from a checkout:
#
#   sudo deploy/install.sh            # user, venv, directories, settings, env file, unit
#
# Every path can be moved for a trial run (tests/test_deploy.py runs it in a temp dir):
#   PREFIX (/opt/pengaduan)  CONFIG_DIR (/etc/pengaduan)  DATA_DIR (/var/lib/pengaduan)
#   SERVICE_USER (pengaduan)  UNIT_DIR (/etc/systemd/system)  PYTHON (python3)
#   --no-user: do not create the system user   --no-systemd: do not install or enable the unit
# Re-running upgrades the code and keeps settings, secrets and data.
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${PREFIX:-/opt/pengaduan}"
CONFIG_DIR="${CONFIG_DIR:-/etc/pengaduan}"
DATA_DIR="${DATA_DIR:-/var/lib/pengaduan}"
SERVICE_USER="${SERVICE_USER:-pengaduan}"
UNIT_DIR="${UNIT_DIR:-/etc/systemd/system}"
PYTHON="${PYTHON:-python3}"
make_user=1 systemd=1
for arg in "$@"; do
    case "$arg" in
        --no-user) make_user=0 ;;
        --no-systemd) systemd=0 ;;
        *) echo "usage: $0 [--no-user] [--no-systemd]" >&2; exit 2 ;;
    esac
done

# 1. a system user with no login and no home of its own
if [ "$make_user" -eq 1 ] && ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    useradd --system --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin \
        --user-group "$SERVICE_USER"
fi
owner=()
[ "$make_user" -eq 1 ] && owner=(-o "$SERVICE_USER" -g "$SERVICE_USER")

# 2. the code in its own virtualenv
mkdir -p "$PREFIX"
[ -x "$PREFIX/venv/bin/python" ] || "$PYTHON" -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/pip" install --quiet --upgrade "$SRC[postgresql]"
mkdir -p "$PREFIX/docs" && cp "$SRC/docs/operations.md" "$PREFIX/docs/"

# 3. directories: data writable by the service only; settings readable by it
install -d -m 0750 "${owner[@]}" "$DATA_DIR"
install -d -m 0755 "$CONFIG_DIR"
[ -e "$CONFIG_DIR/settings.toml" ] || install -m 0644 "$SRC/deploy/settings.example.toml" "$CONFIG_DIR/settings.toml"
# 4. secrets: an environment file only root can read (systemd reads it before dropping privileges)
if [ ! -e "$CONFIG_DIR/env" ]; then
    (umask 077 && printf '# NAME=value, one a line: PENGADUAN_IMAP_PASSWORD=...\n' > "$CONFIG_DIR/env")
fi
chmod 0600 "$CONFIG_DIR/env"

# 5. the schema, then the unit
"$PREFIX/venv/bin/pengaduan" --config "$CONFIG_DIR/settings.toml" db upgrade
if [ "$systemd" -eq 1 ]; then
    install -m 0644 "$SRC/deploy/pengaduan.service" "$UNIT_DIR/pengaduan.service"
    systemctl daemon-reload
    systemctl enable --now pengaduan.service
fi
