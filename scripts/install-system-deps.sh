#!/usr/bin/env bash
# Installs the Debian packages Order Desk needs, only those missing (apt is slow: skip it when all are there).
#   base:       slapd + ldap-utils (demo/test directory), libldap2-dev + libsasl2-dev (to build python-ldap),
#               patch (applies patches/ to the embedded server), nodejs + npm (runs the embedded PouchDB Server) when no node is on PATH
#   --browser:  chromium + chromium-driver for the end-to-end tests (never a downloaded browser)
set -euo pipefail
# libpango*, harfbuzz-subset and a font: what WeasyPrint needs to draw the printed documents as PDF
want=(slapd ldap-utils libldap2-dev libsasl2-dev patch libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
command -v node >/dev/null || want+=(nodejs npm)
[ "${1:-}" = "--browser" ] && want=(chromium chromium-driver)

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q "${missing[@]}"
