#!/usr/bin/env bash
# Recognition benchmark of issue 10 on the development corpus (docs/dev-corpus.md):
# each engine replays its development split once and its held-out split once
# (`attendant calibrate`), then prints issue 10's figures under the default
# thresholds, under the thresholds calibration chose (held-out: never tuned on),
# and for the plain decoder (top hypothesis always taken), with the decode
# latency of the same run. Logs, JSON and HTML reports go to var/reports/.
#
#   scripts/bench-recognition.sh            # both engines
#   ENGINES=sphinx scripts/bench-recognition.sh
#   WRITE=1 scripts/bench-recognition.sh    # also write config/calibration/<engine>.toml
#
# The full corpus must exist (scripts/make-dev-corpus.py); release build used
# when present (ATTENDANT=... to choose), as latency figures should be.
set -euo pipefail
cd "$(dirname "$0")/.."
ATTENDANT=${ATTENDANT:-$( [ -x target/release/attendant ] && echo target/release/attendant || echo target/debug/attendant )}
ENGINES=${ENGINES:-"sphinx vosk"}
[ -f var/corpus/dev/en/manifest.json ] || scripts/make-dev-corpus.py
mkdir -p var/reports
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -m), $(basename "$ATTENDANT") build $("$ATTENDANT" --version 2>/dev/null || true)"
echo "# git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
for engine in $ENGINES; do
    case $engine in
        sphinx) lang=en ;;
        vosk) lang=ko ;;
        *) echo "unknown engine $engine" >&2; exit 2 ;;
    esac
    out=()
    [ -n "${WRITE:-}" ] && out=(--out "config/calibration/$engine.toml")
    echo "## $engine on var/corpus/dev/$lang (held-out: var/corpus/heldout/$lang)"
    nice -n 10 "$ATTENDANT" calibrate "var/corpus/dev/$lang" --heldout "var/corpus/heldout/$lang" \
        --engine "$engine" "${out[@]}" \
        --json "var/reports/bench-$engine.json" --html "var/reports/bench-$engine.html" \
        | tee "var/reports/bench-$engine.log"
done
