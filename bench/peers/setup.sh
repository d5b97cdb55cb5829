#!/usr/bin/env bash
# Installs the peer engines that bench/peers/run.sh compares Verdict with:
# Go and Debian's Go Casbin sources (apt), Node.js if missing (apt), and
# the pinned npm packages of package-lock.json into bench/peers/node_modules.
# Idempotent. The Verdict build itself needs scripts/install-deps.sh.
set -euo pipefail

peers=$(cd "$(dirname "$0")" && pwd)
packages=(golang-go golang-github-casbin-casbin-dev)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} > 0)); then
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

(cd "$peers" && npm ci --no-audit --no-fund)
