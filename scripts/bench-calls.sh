#!/usr/bin/env bash
# Call-handling benchmark (issues 2, 6 and 11), one run, on loopback, against
# the release binary, with SIPp callers. Reports:
#
#   1. complete calls per second: SIPp callers who answer, hear the prompt,
#      press 1 (RFC 4733), get a REFER, send 202, NOTIFY and take the BYE
#      (tests/sipp/bench_caller_dtmf_transfer.xml), CPS_RATE a second for
#      CPS_SECONDS; and the CPU each call took;
#   2. calls up at once with RTP both ways: HOLD_CALLS callers
#      (tests/sipp/bench_caller_hold.xml, PCMA) who stay HOLD_MS, sending
#      SIPp's g711a.pcap while the attendant plays its prompts; the most up at
#      once, the CPU per call up, and the memory per call up (RSS at the peak
#      less the RSS before any call, over the calls up);
#   3. RSS once idle: IDLE_SECONDS after the load, against the RSS before;
#   4. the reference: the same hold load against a SIPp UAS that plays the same
#      pcap (tests/sipp/bench_uas_play.xml), side by side with the attendant.
#
# Usage: scripts/bench-calls.sh
# Env:   CPS_RATE (100) CPS_SECONDS (10) HOLD_CALLS (1000) HOLD_RATE (100)
#        HOLD_MS (8000, at most the 8.5 s of g711a.pcap) IDLE_SECONDS (60)
#        ATTENDANT: the binary (default: cargo build --release, target/release/attendant)
#        BENCH_DIR: work files (default: a temp dir, kept)
#        ATTENDANT_ENV: extra environment for the attendant alone, e.g.
#          "GLIBC_TUNABLES=glibc.malloc.arena_max=2" to compare allocator settings
# The machine is shared: compare the columns of one run, not runs.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
cps_rate=${CPS_RATE:-100}
cps_seconds=${CPS_SECONDS:-10}
hold_calls=${HOLD_CALLS:-1000}
hold_rate=${HOLD_RATE:-100}
hold_ms=${HOLD_MS:-8000}
idle_seconds=${IDLE_SECONDS:-60}
for tool in sipp espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "bench-calls: $tool not found (run make setup)" >&2; exit 1; }
done
[ -r /usr/share/sip-tester/g711a.pcap ] || { echo "bench-calls: SIPp's g711a.pcap not found (Debian package sip-tester)" >&2; exit 1; }

if [ -z "${ATTENDANT:-}" ]; then
    cargo build --release --bin attendant >&2
    ATTENDANT=${CARGO_TARGET_DIR:-target}/release/attendant
fi
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
echo "bench-calls: work files in $work" >&2
tck=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Run SIPp (UAC) in the background, sampling the RSS of process $1 every
# 200 ms until SIPp ends. Sets: peak (KiB), elapsed (s, 3 decimals),
# completed, failed, max_up, refused.
run_sipp() {
    local watched=$1 dir=$2; shift 2
    mkdir -p "$dir"
    local start end sipp_pid now
    start=$(date +%s.%N)
    ( cd "$dir" && sipp "$@" -i 127.0.0.1 -mi 127.0.0.1 -nostdin \
        -trace_stat -fd 1 -stf stats.csv -trace_logs -log_file rejected.log \
        -trace_err -error_file errors.log >/dev/null 2>&1 ) &
    sipp_pid=$!
    peak=0
    while kill -0 $sipp_pid 2>/dev/null; do
        now=$(rss_kib "$watched"); [ "$now" -gt "$peak" ] && peak=$now
        sleep 0.2
    done
    wait $sipp_pid || true
    end=$(date +%s.%N)
    elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    read -r completed failed max_up < <(awk -F';' '
        NR==1 { for (i=1;i<=NF;i++) col[$i]=i; next }
        { s=$col["SuccessfulCall(C)"]; f=$col["FailedCall(C)"]; c=$col["CurrentCall"]; if (c>m) m=c }
        END { print s+0, f+0, m+0 }' "$dir/stats.csv")
    refused=$(grep -c REJECTED503 "$dir/rejected.log" 2>/dev/null || true)
}

# --- The attendant -----------------------------------------------------------
sip_port=$(free_port)
max_calls=$((hold_calls + 100))
cat >"$work/attendant.toml" <<TOML
[sip]
udp_listen = "127.0.0.1:$sip_port"
tcp_listen = "127.0.0.1:$sip_port"
[rtp]
port_min = 20000
port_max = 29998
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
"$ATTENDANT" demo-seed --config "$work/attendant.toml" >&2
ATTENDANT="$ATTENDANT" scripts/make-prompts.sh --config "$work/attendant.toml" >&2

# shellcheck disable=SC2086 # ATTENDANT_ENV is a list of VAR=value words.
env ${ATTENDANT_ENV:-} "$ATTENDANT" run --config "$work/attendant.toml" 2>"$work/attendant.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; [ -n "${uas_pid:-}" ] && kill $uas_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q "attendant answering calls" "$work/attendant.log" && break
    kill -0 $pid || { cat "$work/attendant.log" >&2; exit 1; }
    sleep 0.2
done
sleep 2
baseline=$(rss_kib $pid)
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), shared; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "binary: $ATTENDANT${ATTENDANT_ENV:+ with $ATTENDANT_ENV}; RSS before any call: ${baseline} KiB"

# 1. Complete calls per second.
cpu0=$(cpu_ticks $pid)
run_sipp $pid "$work/cps" -sf "$repo/tests/sipp/bench_caller_dtmf_transfer.xml" -s 1000 \
    -m $((cps_rate * cps_seconds)) -r "$cps_rate" -l $((cps_rate * 5)) -timeout $((cps_seconds + 60))s \
    "127.0.0.1:$sip_port"
cpu1=$(cpu_ticks $pid)
cps_completed=$((completed - refused))
cps_failed=$failed
cps=$(awk -v n="$cps_completed" -v t="$elapsed" 'BEGIN { printf "%.1f", n / t }')
cps_cpu_ms=$(awk -v c=$((cpu1 - cpu0)) -v k="$tck" -v n="$cps_completed" 'BEGIN { printf "%.2f", n ? c * 1000 / k / n : 0 }')
echo "complete calls: $cps_completed of $((cps_rate * cps_seconds)) completed ($cps_failed failed, $refused refused) in ${elapsed}s (SIPp's last call included) = $cps calls/s; CPU ${cps_cpu_ms} ms per call"

# 2. Calls up at once, RTP both ways.
hold() {
    local watched=$1 target=$2 dir=$3
    local c0 c1
    c0=$(cpu_ticks "$watched")
    run_sipp "$watched" "$dir" -sf "$repo/tests/sipp/bench_caller_hold.xml" -s 1000 \
        -m "$hold_calls" -r "$hold_rate" -l "$hold_calls" -d "$hold_ms" \
        -mp $((30000 + RANDOM % 1000 * 2)) -timeout $((hold_calls / hold_rate + hold_ms / 1000 + 60))s "$target"
    c1=$(cpu_ticks "$watched")
    hold_cpu_s=$(awk -v c=$((c1 - c0)) -v k="$tck" 'BEGIN { printf "%.3f", c / k }')
}
hold $pid "127.0.0.1:$sip_port" "$work/hold"
att_up=$max_up; att_done=$((completed - refused)); att_failed=$failed; att_peak=$peak
per_call_pct() { awk -v s="$1" -v n="$2" -v ms="$hold_ms" 'BEGIN { printf "%.3f", n ? 100 * s / (n * ms / 1000) : 0 }'; }
att_cpu_pct=$(per_call_pct "$hold_cpu_s" "$att_done")
att_kib=$(( att_up > 0 ? (att_peak - baseline) / att_up : 0 ))

# 3. RSS once idle.
sleep "$idle_seconds"
after=$(rss_kib $pid)
after_pct=$(( (after - baseline) * 100 / baseline ))

# 4. The reference peer: a SIPp UAS playing the same pcap, same load.
uas_port=$(free_port)
( cd "$work" && mkdir -p uas && cd uas && exec sipp -sf "$repo/tests/sipp/bench_uas_play.xml" \
    -i 127.0.0.1 -mi 127.0.0.1 -p "$uas_port" -mp $((32000 + RANDOM % 1000 * 2)) -nostdin \
    -trace_err -error_file errors.log >/dev/null 2>&1 ) &
uas_pid=$!
sleep 1
uas_base=$(rss_kib $uas_pid)
hold $uas_pid "127.0.0.1:$uas_port" "$work/hold-reference"
ref_up=$max_up; ref_done=$completed; ref_failed=$failed; ref_peak=$peak
ref_cpu_pct=$(per_call_pct "$hold_cpu_s" "$ref_done")
ref_kib=$(( ref_up > 0 ? (ref_peak - uas_base) / ref_up : 0 ))
kill $uas_pid 2>/dev/null || true; uas_pid=

printf '\n%-44s %14s %14s\n' "calls up at once (${hold_calls} at ${hold_rate}/s, ${hold_ms} ms each)" attendant "SIPp UAS (ref)"
printf '%-44s %14s %14s\n' "calls completed / failed" "$att_done / $att_failed" "$ref_done / $ref_failed"
printf '%-44s %14s %14s\n' "most calls up at once, RTP both ways" "$att_up" "$ref_up"
printf '%-44s %14s %14s\n' "CPU per call up (% of a core)" "$att_cpu_pct" "$ref_cpu_pct"
printf '%-44s %14s %14s\n' "RSS before / at peak (KiB)" "$baseline / $att_peak" "$uas_base / $ref_peak"
printf '%-44s %14s %14s\n' "memory per call up (KiB)" "$att_kib" "$ref_kib"
echo "attendant RSS ${idle_seconds}s after the load: ${after} KiB (${after_pct}% above the ${baseline} KiB before any call)"

kill -TERM $pid
wait $pid && echo "attendant exited 0 after SIGTERM"
trap - EXIT
