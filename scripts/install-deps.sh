#!/usr/bin/env bash
# Installs the Debian 12 packages that Verdict's build, tests and benchmarks
# need. Idempotent: when every package is present it installs nothing and
# does not touch the package index.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git curl
  antlr4 libantlr4-runtime-dev
  libabsl-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libre2-dev libssl-dev nlohmann-json3-dev
  # The AuthZEN HTTP listener of `verdict serve`.
  libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3
  graphviz
  # tests/playground: the headless browser that Playwright drives.
  chromium
  # fuzz/run.sh: clang 14 with its libFuzzer and sanitizer runtimes.
  clang libclang-rt-14-dev
)
# tests/grpc-js: Node.js and npm for the @grpc/grpc-js client test. A
# Node.js installed another way, with its own npm, is used as it is.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages are present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
else
  sudo_cmd=()
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
