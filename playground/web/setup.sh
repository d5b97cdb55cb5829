#!/usr/bin/env bash
# Installs the pinned npm packages of package-lock.json into DIR/node_modules:
# CodeMirror and esbuild for the page bundle, playwright-core for the
# end-to-end test. The build runs it before bundling, and CTest runs it as
# the setup of the end-to-end test, both with DIR in the build tree, so
# source trees and build directories never share a node_modules. Skips npm,
# and so needs no network, when DIR already holds this lock file's
# packages. Node.js and npm come from scripts/install-deps.sh.
set -euo pipefail

if (($# != 1)); then
  echo "usage: setup.sh DIR" >&2
  exit 2
fi
source_dir=$(cd "$(dirname "$0")" && pwd)
target=$1

for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "setup.sh: $tool is not installed; run scripts/install-deps.sh" >&2
    exit 1
  fi
done

mkdir -p "$target"
stamp="$target/node_modules/.verdict-lock-sha256"
want=$(sha256sum "$source_dir/package-lock.json" | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$target/"
(cd "$target" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" > "$stamp"
