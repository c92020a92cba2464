#!/usr/bin/env bash
# Call-handling benchmark (issues 2 and 6): SIPp callers who press 1 and are
# transferred (tests/sipp/bench_caller_dtmf_transfer.xml), against the release
# binary on loopback, at rising call rates. For each rate it reports: calls
# placed, completed, refused with 503 (limits.max_calls), failed; the most
# calls up at once (SIPp's view); the attendant's peak RSS and the RSS per call
# up; and, after the last step, whether RSS returned to its baseline.
#
# Usage: scripts/bench-calls.sh [RATES...]     (default: 10 20 50 100 200)
# Env:   SECONDS_PER_RATE (default 10)  MAX_CALLS (default 100, limits.max_calls)
#        CARGO_TARGET_DIR as for cargo.
# Output: a table on stdout; work files in $BENCH_DIR (default: a temp dir, kept).
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(10 20 50 100 200)
seconds=${SECONDS_PER_RATE:-10}
max_calls=${MAX_CALLS:-100}
target=${CARGO_TARGET_DIR:-target}
for tool in sipp espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "bench-calls: $tool not found (run make setup)" >&2; exit 1; }
done

cargo build --release --bin attendant >&2
attendant="$target/release/attendant"
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
echo "bench-calls: work files in $work" >&2

# A free loopback port for SIP (UDP and TCP), from the kernel.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sip_port=$(free_port)
cat >"$work/attendant.toml" <<TOML
[sip]
udp_listen = "127.0.0.1:$sip_port"
tcp_listen = "127.0.0.1:$sip_port"
[rtp]
port_min = 40000
port_max = 49998
[database]
url = "sqlite://$work/attendant.db"
[paths]
data_dir = "$work"
prompts_dir = "$work/prompts"
[pbx]
address = "pbx.example"
[limits]
max_calls = $max_calls
drain_timeout = 5000
[log]
# Only the start-up line and warnings: a log line per call event would be
# part of what is measured.
level = "warn,attendant::runtime=info,attendant::runtime::call=warn"
TOML
"$attendant" demo-seed --config "$work/attendant.toml" >&2
ATTENDANT="$attendant" scripts/make-prompts.sh --config "$work/attendant.toml" >&2

"$attendant" run --config "$work/attendant.toml" 2>"$work/attendant.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q "attendant answering calls" "$work/attendant.log" && break
    kill -0 $pid || { cat "$work/attendant.log" >&2; exit 1; }
    sleep 0.2
done

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
baseline=$(rss_kib)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
echo "max_calls=$max_calls, ${seconds}s per rate, baseline RSS ${baseline} KiB"
printf '%6s %7s %9s %6s %6s %8s %10s %12s\n' cps placed completed 503 failed max_up peak_KiB KiB_per_call

# Two passes over the rates: memory the allocator and the SQLite pool keep
# after the first pass is a plateau if the second pass ends at the same level,
# a leak if it keeps growing.
for pass in 1 2; do
for rate in "${rates[@]}"; do
    calls=$((rate * seconds))
    dir="$work/pass-$pass-rate-$rate"
    mkdir -p "$dir"
    (
        cd "$dir"
        sipp -sf "$repo/tests/sipp/bench_caller_dtmf_transfer.xml" -s 1000 \
            -i 127.0.0.1 -mi 127.0.0.1 -m "$calls" -r "$rate" -l $((max_calls * 3)) \
            -timeout $((seconds + 60))s -nostdin \
            -trace_stat -fd 1 -stf stats.csv -trace_logs -log_file rejected.log \
            -trace_err -error_file errors.log \
            "127.0.0.1:$sip_port" >/dev/null 2>&1
    ) &
    sipp_pid=$!
    peak=$baseline
    while kill -0 $sipp_pid 2>/dev/null; do
        now=$(rss_kib); [ "$now" -gt "$peak" ] && peak=$now
        sleep 0.2
    done
    wait $sipp_pid || true
    read -r completed failed max_up < <(awk -F';' '
        NR==1 { for (i=1;i<=NF;i++) col[$i]=i; next }
        { s=$col["SuccessfulCall(C)"]; f=$col["FailedCall(C)"]; c=$col["CurrentCall"]; if (c>m) m=c }
        END { print s, f, m }' "$dir/stats.csv")
    refused=$(grep -c REJECTED503 "$dir/rejected.log" 2>/dev/null || true)
    answered=$((completed - refused))
    per_call=$(( max_up > 0 ? (peak - baseline) / max_up : 0 ))
    printf '%6s %7s %9s %6s %6s %8s %10s %12s\n' "$rate" "$calls" "$answered" "$refused" "$failed" "$max_up" "$peak" "$per_call"
done

sleep 35   # finished UDP transactions are kept for Timer J/K (32 s)
after=$(rss_kib)
echo "pass $pass: RSS once idle ${after} KiB (baseline before any call ${baseline} KiB)"
done
kill -TERM $pid
wait $pid && echo "attendant exited 0 after SIGTERM"
trap - EXIT
