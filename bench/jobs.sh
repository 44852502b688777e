#!/usr/bin/env bash
# jobs.sh: the default study run by the local executor serially and with --jobs 2, in
# alternating rounds (BenchmarkRunJobs of cmd/sgdprior), with the median of each.
#   bench/jobs.sh [ROUNDS] [quick|full]     (default: 3 quick)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
mode=${2:-quick}
case $mode in
  quick) export SGDPRIOR_BENCH_FULL=0 ;;
  full) export SGDPRIOR_BENCH_FULL=1 ;;
  *) echo "jobs.sh: mode $mode is not quick or full" >&2; exit 2 ;;
esac
bin=$(mktemp -d)/cmd.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./cmd/sgdprior
for r in $(seq "$rounds"); do
  for jobs in 1 2; do
    "$bin" -test.run '^$' -test.bench "RunJobs/jobs=$jobs\$" -test.benchtime 1x | grep '^BenchmarkRunJobs' | tee -a "$(dirname "$bin")/all"
  done
done
echo "medians over $rounds rounds ($mode):"
for jobs in 1 2; do
  grep "jobs=$jobs-" "$(dirname "$bin")/all" | awk '{print $3}' | sort -n | awk -v j="$jobs" '{v[NR]=$1} END {m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "  --jobs %s: %.1f s\n", j, m/1e9}'
done
