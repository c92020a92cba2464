#!/usr/bin/env bash
# Synthesises the prompt WAVs (8 kHz, mono, 16-bit PCM) with espeak-ng and sox:
#   <prompts_dir>/default/<lang>/<prompt>.wav  for each prompts/texts/<lang>.toml
#   <prompts_dir>/default/<lang>/{ask_name,...,disambiguation_option_<key>}.wav (speech)
#   <prompts_dir>/default/<lang>/{spell_name,no_name_match,names_match,too_many_names}.wav
#                                              (keypad name search)
#   <prompts_dir>/stores/<number>/menu.wav     for each store with a menu or a spell key
#   <prompts_dir>/stores/<number>/closed.wav   each store whose after-hours route is a
#                                              closed message: that message
#   <prompts_dir>/names/<lang>/<hash>.wav      each enabled entry's spoken name (the
#                                              attendant also makes missing ones when
#                                              it compiles a directory: same commands,
#                                              directory::prompts::synthesize)
# The list of files, voices and texts comes from `attendant prompt-plan` (so the
# stores' menus are read from the configured database: seed it first).
#
# Deterministic and idempotent: the same texts give the same bytes (sox -D: no
# dither), and a file whose bytes would not change is not rewritten.
#
# Usage: scripts/make-prompts.sh [attendant config flags, e.g. --config FILE]
# Env:   ATTENDANT  the attendant binary (default: $CARGO_TARGET_DIR/debug/attendant)
set -euo pipefail

cd "$(dirname "$0")/.."
attendant=${ATTENDANT:-${CARGO_TARGET_DIR:-target}/debug/attendant}
for tool in espeak-ng sox "$attendant"; do
    command -v "$tool" >/dev/null || { echo "make-prompts: $tool not found (run make setup / cargo build)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$attendant" prompt-plan --texts prompts/texts "$@" >"$work/plan.tsv"

total=0
written=0
while IFS=$'\t' read -r file voice text; do
    total=$((total + 1))
    mkdir -p "$(dirname "$file")"
    # -s 150: a little slower than the default 175 words/min, clearer on a phone line.
    espeak-ng -v "$voice" -s 150 -w "$work/speech.wav" "$text"
    # -D: no dither, so two runs give identical bytes. norm -1: use the range.
    sox -D -V1 "$work/speech.wav" -r 8000 -c 1 -b 16 -e signed-integer "$work/prompt.wav" norm -1
    if ! cmp -s "$work/prompt.wav" "$file"; then
        mv "$work/prompt.wav" "$file"
        written=$((written + 1))
    fi
done <"$work/plan.tsv"

echo "make-prompts: $total prompts, $written written, $((total - written)) unchanged"
