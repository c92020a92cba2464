#!/usr/bin/env bash
# Makes the endpointer's test audio: one spoken phrase through a telephone channel
# (espeak-ng, then sox: band-limited, mu-law round trip, 8 kHz), trimmed of silence.
# Deterministic: espeak-ng is, and sox runs without dither (-D).
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/fixtures/audio/endpoint"
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
espeak-ng -v en-us -s 150 -w "$tmp/raw.wav" "Sophie Martin, please"
sox -D "$tmp/raw.wav" -t wav -r 8000 -c 1 -e u-law "$tmp/ulaw.wav" remix - sinc 300-3400 norm -3
sox -D "$tmp/ulaw.wav" -t wav -e signed-integer -b 16 "$out/sophie-martin-please.wav" silence 1 0.02 1% reverse silence 1 0.02 1% reverse
