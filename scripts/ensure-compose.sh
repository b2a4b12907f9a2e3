#!/usr/bin/env bash
# Makes a compose tool available for the deployment-file test: Docker's
# `docker compose` or Debian's docker-compose, installed when missing and
# apt-get can (as root). Without one the test skips only its compose check,
# except under CI, where it fails.
set -uo pipefail
if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's docker-compose for the deployment-file test" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q docker-compose >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q docker-compose >/dev/null 2>&1; } ||
    echo "could not install docker-compose" >&2
fi
exit 0
