#!/usr/bin/env bash
# Make sure Debian's Chromium is installed at /usr/bin/chromium (used by the frontend e2e test).
# Playwright's own browser download does not work on these machines; see TOOLCHAIN.md.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "ensure-chromium: $CHROMIUM is missing and this script is not running as root." >&2
  echo "ensure-chromium: run as root: apt-get update && apt-get install -y chromium" >&2
  exit 1
fi

echo "ensure-chromium: $CHROMIUM missing; installing Debian's chromium package..." >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update; then
  echo "ensure-chromium: apt-get update FAILED" >&2
  exit 1
fi
if ! apt-get install -y chromium; then
  echo "ensure-chromium: apt-get install chromium FAILED" >&2
  exit 1
fi

if [[ ! -x "$CHROMIUM" ]]; then
  echo "ensure-chromium: chromium package installed but $CHROMIUM still missing" >&2
  exit 1
fi
echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)" >&2
