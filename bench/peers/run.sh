#!/usr/bin/env bash
# Runs the peer comparison. For each size it generates the zero-trust
# workload and checks that Verdict, Cedar (cedar-wasm), node-casbin and Go
# Casbin return the expected decision for every request. It then times
# single decisions of each engine over the same request list and prints a
# table with the ratio of each peer's per-decision time to Verdict's.
# Results go to OUT/results.json and OUT/results.csv. Run
# bench/peers/setup.sh once first.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/peers/run.sh [options]
  --sizes LIST          comma-separated rule counts (default 10,100,1000)
  --requests N          requests per workload; each engine is checked on all
                        of them, then timed over repeated passes (default 1000)
  --seed S              workload seed (default 42)
  --time-limit SECONDS  timed seconds per engine and size, at most (default 10)
  --max-decisions N     timed decisions per engine and size, at most
                        (default 200000)
  --workload DIR        use this existing workload directory (workload.json
                        and verdict/policies) in place of generating --sizes
  --build-dir DIR       Verdict build directory with bench/workload_gen and
                        bench/peers/verdict_peer (default build)
  --out DIR             output directory (default BUILD_DIR/peers)
USAGE
}

repo=$(cd "$(dirname "$0")/../.." && pwd)
peers="$repo/bench/peers"
sizes=10,100,1000
requests=1000
seed=42
time_limit=10
max_decisions=200000
build_dir="$repo/build"
out=""
workload=""

while (($# > 0)); do
  case "$1" in
    --sizes | --requests | --seed | --time-limit | --max-decisions | --build-dir | --out | --workload)
      if (($# < 2)); then
        echo "run.sh: missing value after $1" >&2
        exit 2
      fi
      case "$1" in
        --sizes) sizes=$2 ;;
        --requests) requests=$2 ;;
        --seed) seed=$2 ;;
        --time-limit) time_limit=$2 ;;
        --max-decisions) max_decisions=$2 ;;
        --build-dir) build_dir=$(cd "$2" && pwd) ;;
        --out) out=$2 ;;
        --workload) workload=$(cd "$2" && pwd) ;;
      esac
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "run.sh: unknown option $1" >&2
      usage >&2
      exit 2
      ;;
  esac
done
out=${out:-$build_dir/peers}

if ! [[ $sizes =~ ^[0-9]+(,[0-9]+)*$ ]]; then
  echo "run.sh: invalid --sizes '$sizes': expected comma-separated rule counts such as 10,100,1000" >&2
  exit 2
fi
for value in "$requests" "$seed" "$max_decisions"; do
  if ! [[ $value =~ ^[0-9]+$ ]]; then
    echo "run.sh: invalid count '$value': expected a non-negative integer" >&2
    exit 2
  fi
done

workload_gen="$build_dir/bench/workload_gen"
verdict_peer="$build_dir/bench/peers/verdict_peer"
binaries=("$verdict_peer")
[[ -z $workload ]] && binaries+=("$workload_gen")
for binary in "${binaries[@]}"; do
  if [[ ! -x $binary ]]; then
    echo "run.sh: $binary not found; build it with: ninja -C $build_dir $(basename "$binary")" >&2
    exit 1
  fi
done
if [[ ! -d $peers/node_modules/@cedar-policy/cedar-wasm || ! -d $peers/node_modules/casbin ]]; then
  echo "run.sh: the Node.js peers are not installed; run bench/peers/setup.sh" >&2
  exit 1
fi
casbin_src=/usr/share/gocode/src/github.com/casbin/casbin
if ! command -v go >/dev/null || [[ ! -d $casbin_src ]]; then
  echo "run.sh: Go or Debian's Go Casbin sources are missing; run bench/peers/setup.sh" >&2
  exit 1
fi

mkdir -p "$out/raw" "$out/workloads" "$out/bin"
out=$(cd "$out" && pwd)
rm -f "$out"/raw/*.json

# Debian installs Go Casbin under its import path without the /v2 suffix of
# its module path. A GOPATH entry with that suffix lets GOPATH mode resolve
# the imports offline.
gopath="$out/gopath"
mkdir -p "$gopath/src/github.com/casbin/casbin"
ln -sfn "$casbin_src" "$gopath/src/github.com/casbin/casbin/v2"
casbin_go_version=$(dpkg-query -W -f='${Version}' golang-github-casbin-casbin-dev)
(cd "$peers/casbin-go" &&
  GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$out/go-cache" \
    go build -ldflags "-X main.casbinVersion=$casbin_go_version" -o "$out/bin/casbin-go" .)

# The commit of the scripts' checkout. The binaries come from --build-dir,
# which may have been built from another tree.
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "not a git checkout")
if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
  commit="$commit (with uncommitted changes)"
fi
cat >"$out/meta.json" <<META
{"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "commit": "$commit",
 "machine": "$(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME"), load average $(cut -d' ' -f1-3 /proc/loadavg)",
 "node": "$(node --version)", "go": "$(go env GOVERSION)", "seed": $seed, "requests": $requests,
 "time_limit_seconds": $time_limit, "max_decisions": $max_decisions}
META

# Runs one engine; its result line goes to raw/SIZE-ENGINE.json. The outer
# timeout covers the check pass, which is not bounded by --time-limit.
run_engine() {
  local size=$1 engine=$2
  shift 2
  local result="$out/raw/$size-$engine.json"
  echo "run.sh: $engine, $size rules" >&2
  if ! timeout 900 "$@" --time-limit "$time_limit" --max-decisions "$max_decisions" >"$result"; then
    echo "run.sh: $engine failed on the workload with $size rules (see the message above)" >&2
    rm -f "$result"
    exit 1
  fi
}

# Runs every engine on the workload in directory $2, labelled with size $1.
run_workload() {
  local size=$1 dir=$2
  local data=()
  [[ -d $dir/verdict/data ]] && data=(--data "$dir/verdict/data")
  run_engine "$size" verdict "$verdict_peer" --workload "$dir/workload.json" \
    --policies "$dir/verdict/policies" "${data[@]}"
  run_engine "$size" cedar node "$peers/cedar.mjs" --workload "$dir/workload.json"
  run_engine "$size" casbin-node node "$peers/casbin.mjs" --workload "$dir/workload.json"
  run_engine "$size" casbin-go "$out/bin/casbin-go" --workload "$dir/workload.json" \
    --model "$peers/casbin_model.conf"
}

if [[ -n $workload ]]; then
  run_workload "$(node -e 'console.log(require(process.argv[1]).rules.length)' \
    "$workload/workload.json")" "$workload"
else
  IFS=, read -ra size_list <<<"$sizes"
  for size in "${size_list[@]}"; do
    dir="$out/workloads/$size"
    rm -rf "$dir"
    "$workload_gen" --size "$size" --seed "$seed" --requests "$requests" --out "$dir" >/dev/null
    run_workload "$size" "$dir"
  done
fi

node "$peers/report.mjs" "$out"
