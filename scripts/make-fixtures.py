#!/usr/bin/env python3
"""Generates the spoken-name test audio under fixtures/audio/names/ (stdlib only).

Each phrase is spoken by espeak-ng with several voices and speeds, passed
through a telephone channel (8 kHz, 300-3400 Hz band, G.711 u-law, as in
FIELD-NOTES), then stored as 16-bit PCM WAV so that tests read it with `hound`
while keeping the u-law quantisation. Every sox call gets -D (no dither), so two
runs write the same bytes. manifest.json lists file, engine, language, spoken
text, the grammar phrase expected back (null for speech outside the store's
grammar), and the voice. decisions/ and decisions.json: the requests of the
end-to-end decision tests ("operator").

    scripts/make-fixtures.py            # (re)generate everything
    scripts/make-fixtures.py --check    # regenerate into a temp dir, compare bytes

Needs espeak-ng and sox (Debian main).
"""
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "audio" / "names"

# (voice, words per minute): several speakers and speeds per phrase.
EN_VOICES = [("en-us", 160), ("en-us+f3", 140), ("en-gb-x-rp+m3", 175)]
KO_VOICES = [("ko", 140), ("ko+f3", 120), ("ko+m3", 160)]

# (spoken text, expected grammar phrase). English: the demo store, for Sphinx.
EN_PHRASES = [
    ("Sophie Martin", "sophie martin"),
    ("Hervé Prodhomme", "hervé prodhomme"),
    ("Paul Martin", "paul martin"),
    ("Julie Dubois", "julie dubois"),
    ("the bakery", "the bakery"),
    ("the hardware department", "the hardware department"),
    ("customer service", "customer service"),
    ("can I speak to Paul Martin", "can i speak to paul martin"),
    ("yes", "yes"),
    ("no", "no"),
    # Out of the store's grammar (expected None): what a forced grammar does with them.
    ("Michael Jordan", None),
    ("the pharmacy", None),
    ("what time do you close", None),
]
# Korean test store, for Vosk (the only Vosk model in a registry).
KO_PHRASES = [
    ("김민준", "김민준"),
    ("이서연", "이서연"),
    ("박지훈", "박지훈"),
    ("최지우", "최지우"),
    ("빵집", "빵집"),
    ("정육점", "정육점"),
    ("고객 센터", "고객 센터"),
    ("안내 데스크", "안내 데스크"),
    ("김민준 부탁드립니다", "김민준 부탁드립니다"),
    ("빵집 바꿔 주세요", "빵집 바꿔 주세요"),
    ("네", "네"),
    ("아니요", "아니요"),
    # Out of the store's grammar (expected None).
    ("홍길동", None),
    ("약국", None),
    ("몇 시에 문을 닫아요", None),
]
ENGINES = {"en": "sphinx", "ko": "vosk"}
# Requests of the end-to-end decision tests (tests/e2e_speech_decisions.rs),
# one voice each, under decisions/ with their own decisions.json (not in
# manifest.json: the ASR tests decode every fixture there against the demo
# store's grammar and its expectations). The sound-alike test uses the
# "Sophie Martin" of manifest.json: espeak-ng's "Jon Smith" loses its "th" in
# the telephone band and PocketSphinx hears "john please" or "the operator".
DECISION_PHRASES = ["operator"]
DECISION_VOICE = ("en-us", 160)


def slug(text: str) -> str:
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    ascii_part = "".join(c if c.isascii() and c.isalnum() else "-" for c in text.lower()).strip("-")
    while "--" in ascii_part:
        ascii_part = ascii_part.replace("--", "-")
    return f"{ascii_part}-{digest}" if ascii_part else digest


def run(cmd: list) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def say(tmp: Path, voice: str, speed: int, spoken: str, dest: Path) -> None:
    """espeak-ng, then the telephone channel, then 16-bit PCM at `dest`."""
    raw, ulaw = tmp / "raw.wav", tmp / "ulaw.wav"
    run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), spoken])
    run(["sox", "-D", str(raw), "-t", "wav", "-r", "8000", "-c", "1", "-e", "u-law", str(ulaw),
         "remix", "-", "sinc", "300-3400", "norm", "-3", "pad", "0.3", "0.3"])
    run(["sox", "-D", str(ulaw), "-e", "signed-integer", "-b", "16", str(dest)])


def make(out_dir: Path) -> list:
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        decisions = []
        (out_dir / "decisions").mkdir(parents=True, exist_ok=True)
        voice, speed = DECISION_VOICE
        for spoken in DECISION_PHRASES:
            name = f"decisions/{slug(spoken)}.{voice.replace('+', '_')}.{speed}.wav"
            say(tmp, voice, speed, spoken, out_dir / name)
            decisions.append({"file": name, "spoken": spoken, "voice": voice, "speed": speed})
        (out_dir / "decisions.json").write_text(json.dumps(decisions, indent=1) + "\n", encoding="utf-8")
        for lang, phrases, voices in (("en", EN_PHRASES, EN_VOICES), ("ko", KO_PHRASES, KO_VOICES)):
            (out_dir / lang).mkdir(parents=True, exist_ok=True)
            for spoken, expected in phrases:
                for voice, speed in voices:
                    name = f"{lang}/{slug(spoken)}.{voice.replace('+', '_')}.{speed}.wav"
                    say(tmp, voice, speed, spoken, out_dir / name)
                    entries.append({"file": name, "engine": ENGINES[lang], "language": lang, "spoken": spoken,
                                    "expected": expected, "voice": voice, "speed": speed})
    (out_dir / "manifest.json").write_text(json.dumps(entries, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return entries


def digest_tree(d: Path) -> dict:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


def main() -> int:
    if "--check" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            make(Path(tmp))
            same = digest_tree(Path(tmp)) == digest_tree(OUT)
        print("fixtures are up to date" if same else "fixtures differ from a fresh generation")
        return 0 if same else 1
    shutil.rmtree(OUT, ignore_errors=True)
    entries = make(OUT)
    print(f"wrote {len(entries)} files and manifest.json under {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
