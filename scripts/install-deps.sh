#!/usr/bin/env bash
# Installs what citygrid needs on Debian 12 when it is missing: the
# PostgreSQL 15 server and PostGIS 3 for it, and, with --browser, Chromium
# (and CJK fonts) for the browser tests, poppler-utils for the printed
# bulletin's test and HAProxy for the cluster test, and, with --gdal, GDAL's command line tools (gdal-bin:
# ogrinfo, ogr2ogr) for the OGC API test. Idempotent; runs no apt-get at all
# when everything is there. As non-root it uses sudo when available, else
# prints what to install and fails.
set -euo pipefail

want_browser=0
want_gdal=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --gdal) want_gdal=1 ;;
    -h|--help) echo "usage: $0 [--browser] [--gdal]"; exit 0 ;;
    *) echo "usage: $0 [--browser] [--gdal]" >&2; exit 2 ;;
  esac
done

packages=()

if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  echo "ok: PostgreSQL server binaries present"
else
  echo "missing: PostgreSQL server binaries (initdb, pg_ctl, postgres)"
  packages+=(postgresql-15)
fi

have_postgis=0
for dir in $(pg_config --sharedir 2>/dev/null || true) /usr/share/postgresql/*; do
  if [ -f "$dir/extension/postgis.control" ]; then
    have_postgis=1
    echo "ok: PostGIS present ($dir/extension/postgis.control)"
    break
  fi
done
if [ "$have_postgis" = 0 ]; then
  echo "missing: PostGIS (no postgis.control)"
  packages+=(postgresql-15-postgis-3)
fi

if [ "$want_browser" = 1 ]; then
  if [ -x /usr/bin/chromium ]; then
    echo "ok: chromium present"
  else
    echo "missing: /usr/bin/chromium"
    packages+=(chromium fonts-noto-cjk)
  fi
  # The cluster test puts three serve processes behind a real load balancer.
  if command -v haproxy >/dev/null 2>&1; then
    echo "ok: haproxy present"
  else
    echo "missing: haproxy"
    packages+=(haproxy)
  fi
  # The printed bulletins (issue 18): a CJK font with TrueType outlines,
  # which Chromium embeds in a PDF as a font (Noto CJK's CFF outlines
  # become nameless Type 3 glyphs), and poppler-utils to read the PDF.
  if [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then
    echo "ok: WenQuanYi Micro Hei present"
  else
    echo "missing: fonts-wqy-microhei"
    packages+=(fonts-wqy-microhei)
  fi
  if command -v pdftotext >/dev/null 2>&1; then
    echo "ok: poppler-utils present"
  else
    echo "missing: pdftotext (poppler-utils)"
    packages+=(poppler-utils)
  fi
fi

if [ "$want_gdal" = 1 ]; then
  if command -v ogr2ogr >/dev/null 2>&1; then
    echo "ok: GDAL (ogr2ogr) present"
  else
    echo "missing: ogr2ogr"
    packages+=(gdal-bin)
  fi
fi

if [ ${#packages[@]} -eq 0 ]; then
  echo "nothing to install"
  exit 0
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "not root and no sudo: as root, run" >&2
    echo "  apt-get update && apt-get install -y ${packages[*]}" >&2
    exit 1
  fi
fi

echo "installing: ${packages[*]}"
echo "+ apt-get update"
"${sudo[@]}" apt-get update -q
echo "+ apt-get install -y ${packages[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
echo "installed: ${packages[*]}"
