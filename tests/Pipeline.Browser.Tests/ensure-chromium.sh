#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (/usr/bin/chromium) through playwright-core, which never
# downloads a browser of its own. Installs the package when it is missing (as root, or with sudo).
set -euo pipefail
if [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then exit 0; fi
echo "== installing Debian's chromium for the browser tests"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq chromium >/dev/null
[ -x /usr/bin/chromium ] || { echo "error: chromium did not install"; exit 1; }
