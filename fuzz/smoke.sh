#!/usr/bin/env bash
# The fuzz smoke run CI does: seed the corpora, build the targets, run each for SECONDS
# (default 30; five targets, so 150 s of fuzzing). Fails on the first crash, printing it.
# The run is reproducible: libFuzzer's random seed is fixed (FUZZ_SEED, default 1), so the same
# code meets the same inputs in the same order and a red run replays. Exploring with a new seed
# is a separate, longer run (FUZZ_SEED=0 lets libFuzzer pick one; see README.md).
#
#   [FUZZ_SEED=N] bash fuzz/smoke.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
seed="${FUZZ_SEED:-1}"
export RUSTC_BOOTSTRAP=1
./seed.sh
# No sanitizer: the crate has no unsafe code, and ASan would halve the executions.
cargo fuzz build --sanitizer none
mkdir -p artifacts
for target in wise_parse reg_parse wix_parse msi_parse pipeline; do
  log="artifacts/$target-smoke.log"
  if cargo fuzz run --sanitizer none "$target" -- \
    -seed="$seed" -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz $target: ${runs:-?} runs in ${seconds}s (seed $seed), no crash"
  else
    echo "fuzz $target: CRASH (full log in fuzz/$log)"
    grep -a -A20 -E 'panicked|ERROR: libFuzzer' "$log" | head -60
    exit 1
  fi
done
