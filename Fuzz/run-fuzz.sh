#!/usr/bin/env bash
# Builds the libFuzzer harness and fuzzes each data reader for a while.
#
#   Fuzz/run-fuzz.sh [SECONDS_PER_TARGET] [TARGETS...]
#   Fuzz/run-fuzz.sh 300 zip nmnist
#
# New corpus entries go to fuzz-work/<target>/ (ignored by git); the seeds in
# Fuzz/corpus/<target>/ are read only. Crashing inputs are saved as
# fuzz-work/<target>-crash-*; replay one with
#   SNN_FUZZ_TARGET=<target> .build-fuzz/release/snn-fuzz fuzz-work/<target>-crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-180}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(deflate gzip idx nmnist zip); fi
swift build -c release --product snn-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DSNN_FUZZ
for target in "${targets[@]}"; do
  mkdir -p "fuzz-work/$target"
  echo "== $target: $seconds s"
  SNN_FUZZ_TARGET="$target" .build-fuzz/release/snn-fuzz "fuzz-work/$target" "Fuzz/corpus/$target" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="fuzz-work/$target-"
done
