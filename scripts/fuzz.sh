#!/usr/bin/env bash
# Run every cargo-fuzz target for a bounded time, then minimise its corpus.
# Usage: scripts/fuzz.sh [seconds per target, default 120] [targets...]
# Prints "target executions" per target (libFuzzer's final stats): the figures
# of the README's "Hostile input" table. Needs `cargo install cargo-fuzz` and a
# nightly toolchain. Builds into fuzz/target (gitignored). No sanitizer (-s none):
# the targets are safe Rust parsers, where a panic, an abort on overflow or an
# out-of-memory is the finding; AddressSanitizer would only halve the executions.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-120}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(sip_message sdp rtp rfc4733 sip_info directory_csv directory_json admin_body)
fi
unset CARGO_TARGET_DIR
cargo +nightly fuzz build -O -s none --fuzz-dir . >/dev/null
mkdir -p logs
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    # -rss_limit_mb: the attendant library is large; the default 2 GB is fine,
    # but a leak-driven OOM must be reported as a finding, not hang the machine.
    cargo +nightly fuzz run -O -s none --fuzz-dir . "$target" "corpus/$target" seeds/"$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 >"logs/$target.log" 2>&1 || {
        echo "$target CRASHED: see fuzz/logs/$target.log and fuzz/artifacts/$target/"
        continue
    }
    executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$target.log" | grep -o '[0-9]*$')
    cargo +nightly fuzz cmin -O -s none --fuzz-dir . "$target" "corpus/$target" >"logs/$target.cmin.log" 2>&1
    echo "$target $executions"
done
