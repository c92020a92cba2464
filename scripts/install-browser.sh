#!/bin/sh
# Installs Debian's headless browser and its WebDriver server for the console
# browser tests (tests/admin_console.rs), if they are missing. Needs root (apt).
set -eu
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver
