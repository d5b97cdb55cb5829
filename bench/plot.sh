#!/usr/bin/env bash
# Measures decision latency, compile time and memory against policy count and
# draws them as PNG plots with gnuplot (Debian: apt-get install gnuplot-nox).
#
#   bench/plot.sh BUILD_DIR OUT_DIR [SIZES]
#
# Each family and size runs in its own scale_bench process, so that resident
# memory and its peak belong to that size alone. SIZES defaults to
# "10 100 1000 10000 100000" for zero_trust and github. gdrive runs only the
# sizes up to 10,000 (GDRIVE_SIZES), because its hierarchy tests are not
# indexed: 100,000 of them take about a minute and 3 GiB to compile and
# a decision scans thousands of conditions (docs/benchmarks.md explains why). Writes OUT_DIR/<family>-<size>.json (raw
# Google Benchmark results), OUT_DIR/scale.tsv and OUT_DIR/*.png. With
# REPLOT=1 it skips the measurements and draws the plots from the JSON files
# already in OUT_DIR.
set -euo pipefail

if (($# < 2)); then
  echo "usage: bench/plot.sh BUILD_DIR OUT_DIR [SIZES]" >&2
  exit 2
fi
build=$1
out=$2
sizes=${3:-10 100 1000 10000 100000}
binary=$build/bench/scale_bench
here=$(cd "$(dirname "$0")" && pwd)

if [[ ! -x $binary ]]; then
  echo "plot.sh: $binary not found; build the scale_bench target first" >&2
  exit 2
fi
if ! command -v gnuplot > /dev/null; then
  echo "plot.sh: gnuplot not found; install it with apt-get install gnuplot-nox" >&2
  exit 2
fi
mkdir -p "$out"

gdrive_sizes=${GDRIVE_SIZES:-10 100 1000 10000}

for family in zero_trust gdrive github; do
  [[ ${REPLOT:-0} == 1 ]] && break
  family_sizes=$sizes
  [[ $family == gdrive ]] && family_sizes=$gdrive_sizes
  for size in $family_sizes; do
    echo "plot.sh: $family $size" >&2
    "$binary" \
      --benchmark_filter="^BM_(Compile|Evaluate|Latency|DecodeJson|SetAndJoin|SetAttributes)/$family/$size(/|\$)" \
      --benchmark_min_time=0.3 --benchmark_repetitions=3 \
      --benchmark_report_aggregates_only=true \
      --benchmark_out_format=json --benchmark_out="$out/$family-$size.json" \
      > /dev/null
  done
done

python3 "$here/plot_table.py" "$out" > "$out/scale.tsv"

gnuplot <<EOF
set terminal pngcairo size 900,560 noenhanced
set datafile separator "\t"
set logscale x 10
set key top left
set grid
set xlabel "policies"
set format x "%.0s%c"

set output "$out/latency.png"
set logscale y 10
set ylabel "ns per decision (median of 3 runs)"
set title "In-process decision time against policy count"
plot for [f in "zero_trust gdrive github"] "$out/scale.tsv" \
       using (strcol(1) eq f ? \$2 : 1/0):3 with linespoints title f." mean", \
     for [f in "zero_trust gdrive github"] "$out/scale.tsv" \
       using (strcol(1) eq f ? \$2 : 1/0):5 with linespoints dashtype 2 title f." p99"

set output "$out/compile.png"
set ylabel "seconds"
set title "Compile time against policy count"
plot for [f in "zero_trust gdrive github"] "$out/scale.tsv" \
       using (strcol(1) eq f ? \$2 : 1/0):6 with linespoints title f

set output "$out/memory.png"
set ylabel "MiB"
set title "Resident memory of the compiled program (RSS growth) and peak RSS"
plot for [f in "zero_trust gdrive github"] "$out/scale.tsv" \
       using (strcol(1) eq f ? \$2 : 1/0):(\$7 > 0 ? \$7 : 1/0) with linespoints title f." program", \
     for [f in "zero_trust gdrive github"] "$out/scale.tsv" \
       using (strcol(1) eq f ? \$2 : 1/0):8 with linespoints dashtype 2 title f." peak"
EOF
echo "plot.sh: wrote $out/scale.tsv, latency.png, compile.png, memory.png" >&2
