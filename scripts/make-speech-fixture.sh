#!/bin/sh
# Regenerates fixtures/audio/speech/*.wav: a few seconds of synthetic speech, 8 kHz mono
# 16-bit PCM, band-limited like a phone line. Used to prove the in-band DTMF detector
# gives no digit on speech. Deterministic: espeak-ng is, and sox runs with -D (no dither).
# Needs espeak-ng and sox (Debian packages of the same names).
set -eu
out="$(dirname "$0")/../fixtures/audio/speech"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

speak() { # voice, file stem, text
    espeak-ng -v "$1" -s 150 -w "$tmp/$2.raw.wav" "$3"
    sox -D "$tmp/$2.raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out/$2.wav" \
        sinc 300-3400 norm -3 pad 0.2 0.2
}

speak en-us en-directory \
    "Hello, I would like to speak to Martin in the bakery department, or maybe Sophie at the fish counter, please. Nine, five, one."
speak fr fr-directory \
    "Bonjour, je voudrais parler à Monsieur Dupont, au rayon boucherie, ou bien à Madame Lefèvre à l'accueil. Merci beaucoup, au revoir."
