#!/usr/bin/env bash
# Compares the scan stage of two fluxfleet-bench builds on a shared, noisy machine.
#
# usage: Benchmarks/compare-scan.sh PAIRS BENCH_A BENCH_B INVENTORY [POLICIES]
#
# Runs the two builds back to back PAIRS times, alternating which goes first, and prints every pair and the
# median of the ratios B/A. A VM's speed drifts by a third within the hour as other tenants come and go; the two
# runs of a pair see about the same machine, so the ratio is what says which build is faster, and the times
# themselves say how busy the host was.
set -euo pipefail
pairs=${1:?pairs}
a=${2:?bench A}
b=${3:?bench B}
inventory=${4:?inventory}
policies=${5:-policies}
seconds() {
  "$1" --stage scan --inventory "$inventory" --policies "$policies" | sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p'
}
results=""
for round in $(seq 1 "$pairs"); do
  if [ $((round % 2)) -eq 1 ]; then x=$(seconds "$a"); y=$(seconds "$b"); else y=$(seconds "$b"); x=$(seconds "$a"); fi
  echo "pair $round: A $x s, B $y s"
  results="$results $x,$y"
done
echo "$results" | tr ' ' '\n' | awk -F, 'BEGIN { n = 0; within = 0 }
NF == 2 {
  ratio[n] = $2 / $1; a[n] = $1; b[n] = $2; n++
  if ($2 <= 1) within++
}
function median(v, count,   i, j, t) {
  for (i = 0; i < count; i++) for (j = i + 1; j < count; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
  return count % 2 ? v[int(count / 2)] : (v[count / 2 - 1] + v[count / 2]) / 2
}
END {
  printf "median A %.3f s, median B %.3f s, B within 1 s in %d of %d runs; B/A: median %.3f\n",
    median(a, n), median(b, n), within, n, median(ratio, n)
}'
