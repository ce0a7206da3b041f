#!/usr/bin/env bash
# Validate deploy/pengaduan.service: `systemd-analyze verify` where systemd is installed, and
# always the keys the operations guide relies on. Exit 0 when it holds.
#   deploy/check-unit.sh [UNIT_FILE]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${PYTHON:-python3}" "$here/unit_check.py" "${1:-$here/pengaduan.service}"
