#!/bin/sh
# A lane screen or operator kiosk on Debian/Raspberry Pi OS: Chromium and the CJK fonts the pages
# name (product names are Chinese; without a CJK font they render as boxes).
#
#   sudo ./install-kiosk.sh
#
# The pages' CSS asks for "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
# "Microsoft YaHei", then sans-serif: fonts-noto-cjk provides the first on Debian.
set -eu
apt-get update
apt-get install -y --no-install-recommends chromium fonts-noto-cjk
fc-cache -f >/dev/null 2>&1 || true
if fc-list :lang=zh-cn family | grep -qi "Noto Sans CJK SC"; then
  echo "Noto Sans CJK SC installed."
else
  echo "warning: no Noto Sans CJK SC font found after install" >&2
  exit 1
fi
