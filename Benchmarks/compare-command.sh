#!/usr/bin/env bash
# Compares two fluxfleet builds running the same command on a shared, noisy machine.
#
# usage: Benchmarks/compare-command.sh PAIRS FLUXFLEET_A FLUXFLEET_B ARGUMENTS...
#   e.g. Benchmarks/compare-command.sh 3 /tmp/old/fluxfleet .build/release/fluxfleet \
#          scan --inventory /tmp/fleet-100k.json --policies /tmp/tenant-policies --no-record --output json
#
# Runs the two builds back to back PAIRS times, alternating which goes first (standard output to /dev/null), and
# prints each run's wall, user and system seconds and peak RSS, then the medians. As with compare-scan.sh, the
# two runs of a pair see about the same machine.
#
# A generated fleet's random subscriptions are outside the assignments of policies/: make a copy whose
# enforced assignment covers the whole tenant with Benchmarks/tenant-policies.sh.
set -euo pipefail
pairs=${1:?pairs}
a=${2:?fluxfleet A}
b=${3:?fluxfleet B}
shift 3
one() {
  /usr/bin/time -f "%e %U %S %M" "$1" "${@:2}" 2>&1 >/dev/null | tail -1
}
results=""
for round in $(seq 1 "$pairs"); do
  if [ $((round % 2)) -eq 1 ]; then x=$(one "$a" "$@"); y=$(one "$b" "$@"); else y=$(one "$b" "$@"); x=$(one "$a" "$@"); fi
  echo "pair $round: A $x | B $y   (wall s, user s, system s, peak RSS KiB)"
  results="$results ${x// /,},${y// /,}"
done
echo "$results" | tr ' ' '\n' | awk -F, 'BEGIN { n = 0 }
NF == 8 { for (k = 1; k <= 8; k++) v[k, n] = $k; n++ }
function median(k,   i, j, t, c) {
  for (i = 0; i < n; i++) c[i] = v[k, i]
  for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (c[j] < c[i]) { t = c[i]; c[i] = c[j]; c[j] = t }
  return n % 2 ? c[int(n / 2)] : (c[n / 2 - 1] + c[n / 2]) / 2
}
END {
  printf "median A: %.2f s wall, %.2f s user, %.2f s system, %.0f MiB\n", median(1), median(2), median(3), median(4) / 1024
  printf "median B: %.2f s wall, %.2f s user, %.2f s system, %.0f MiB\n", median(5), median(6), median(7), median(8) / 1024
}'
