#!/usr/bin/env bash
# Debian tools the tests use for real: the GitHub CLI (gh), and chromium for the settings
# page's end-to-end test (Playwright drives /usr/bin/chromium). Needs root on a fresh machine.
set -euo pipefail
missing=()
command -v gh >/dev/null || missing+=(gh)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
