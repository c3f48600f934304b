#!/usr/bin/env bash
# Debian tools the tests use for real: the GitHub CLI (gh). Needs root on a fresh machine.
set -euo pipefail
if ! command -v gh >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq gh
fi
