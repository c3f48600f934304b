#!/usr/bin/env bash
# Stop the server scripts/start-postgres.sh started (uses NAVI_TEST_PG_DIR and NAVI_TEST_PG_CTL).
set -u
[ -n "${NAVI_TEST_PG_DIR:-}" ] && [ -n "${NAVI_TEST_PG_CTL:-}" ] || exit 0
if [ "$(id -u)" = 0 ]; then
  runuser -u postgres -- "$NAVI_TEST_PG_CTL" -D "$NAVI_TEST_PG_DIR" stop -m fast >/dev/null 2>&1
else
  "$NAVI_TEST_PG_CTL" -D "$NAVI_TEST_PG_DIR" stop -m fast >/dev/null 2>&1
fi
rm -rf "$(dirname "$NAVI_TEST_PG_DIR")"
