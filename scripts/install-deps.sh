#!/usr/bin/env bash
# Installs what citygrid needs on Debian 12 when it is missing: PostGIS for
# PostgreSQL 15 (and, with --browser, Chromium for the browser tests).
# Idempotent, and silent about apt when everything is already there.
set -euo pipefail

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "usage: $0 [--browser]" >&2; exit 2 ;;
  esac
done

packages=()
have_postgis=0
for dir in $(pg_config --sharedir 2>/dev/null) /usr/share/postgresql/*; do
  [ -f "$dir/extension/postgis.control" ] && have_postgis=1
done
[ "$have_postgis" = 1 ] || packages+=(postgresql-15-postgis-3)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  packages+=(postgresql-15)
fi
if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  packages+=(chromium fonts-noto-cjk)
fi

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then
    sudo="sudo"
  else
    echo "citygrid needs: ${packages[*]}" >&2
    echo "install them as root: apt-get install -y ${packages[*]}" >&2
    exit 1
  fi
fi
echo "installing ${packages[*]} ..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
echo "installed ${packages[*]}"
