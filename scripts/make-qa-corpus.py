#!/usr/bin/env python3
"""Generates the QA replay corpus under fixtures/audio/qa/ (stdlib, sox, espeak-ng).

Each utterance is a caller asking for someone, as `attendant replay` expects a
recording: silence, speech, silence, at 8 kHz. What varies, deterministically:
- the voice (several espeak-ng voices and speeds per language);
- carrier phrases and hesitations ("um", "euh" before the name);
- the telephone channel: band limit 300-3400 Hz, G.711 u-law, background noise
  at 30, 20 or 10 dB SNR, and packet loss (20 ms frames zeroed, 0-3 %).
Negatives, whose right answer is a rejection: line noise only, a cough-like
burst, out-of-directory names, a disabled entry.

manifest.json (and en/manifest.json, ko/manifest.json) lists each file with its directory snapshot (the demo store "1000"
for English/PocketSphinx, a Korean test store for Vosk, as in tests/asr_common)
and the expected entry ids (empty: rejection). Noise and loss come from a seeded
PRNG and every sox call has -D, so two runs write the same bytes.

    scripts/make-qa-corpus.py            # (re)generate
    scripts/make-qa-corpus.py --check    # regenerate into a temp dir, compare bytes
"""
import array
import hashlib
import json
import math
import random
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "audio" / "qa"
RATE = 8000
FRAME = 160  # 20 ms at 8 kHz: one RTP packet


def ext(e):
    return {"kind": "extension", "value": e}


def entry(i, name, aliases, dept, extension, enabled=True):
    return {"id": i, "display_name": name, "aliases": aliases, "department": dept, "extension": extension,
            "target": ext(extension), "enabled": enabled}


# The English demo store "1000" (src/directory/demo.rs) as a fresh database numbers it.
EN_DIRECTORY = {
    "store": {"id": 1, "name": "Demo Market (English)", "number": "1000", "language": "en", "operator": ext("100")},
    "version": 1,
    "entries": [
        entry(1, "Sophie Martin", [], "Accounting", "201"),
        entry(2, "Hervé Prodhomme", ["Herve Prodhomme"], "Management", "202"),
        entry(3, "Paul Martin", [], "Butchery", "203"),
        entry(4, "Claire Petit", [], "Accounting", "204", enabled=False),
        entry(5, "Bakery", ["the bakery", "boulangerie", "bread"], "Bakery", "301"),
        entry(6, "Butchery", ["the butcher", "meat counter"], "Butchery", "302"),
        entry(7, "Fish counter", ["fishmonger", "seafood"], "Fish counter", "303"),
        entry(8, "Customer service", ["reception", "help desk"], "Customer service", "310"),
    ],
    "menu": [],
}
# The Korean test store of tests/asr_common (the registries' only Vosk model is Korean).
KO_DIRECTORY = {
    "store": {"id": 7, "name": "test store", "number": "0400000000", "language": "ko", "operator": ext("9")},
    "version": 1,
    "entries": [entry(i, n, [], None, str(200 + i)) for i, n in enumerate(
        ["김민준", "이서연", "박지훈", "최지우", "빵집", "정육점", "고객 센터", "안내 데스크"], start=1)],
    "menu": [],
}

EN_VOICES = [("en-us", 160), ("en-us+f3", 140), ("en-gb-x-rp+m3", 175)]
KO_VOICES = [("ko", 140), ("ko+f3", 120), ("ko+m3", 160)]
SNRS = [30, 20, 10]
LOSS = [0.0, 0.01, 0.03]

# (spoken, expected entry ids). The department "Butchery" also names Paul Martin's
# department, hence both ids.
EN_NAMES = [
    ("Sophie Martin", [1]),
    ("Hervé Prodhomme", [2]),
    ("Paul Martin", [3]),
    ("the bakery", [5]),
    ("the butcher", [6]),
    ("fish counter", [7]),
    ("customer service", [8]),
]
EN_CARRIED = [
    ("um, Sophie Martin", [1]),
    ("can I speak to Paul Martin", [3]),
    ("I would like to speak to customer service", [8]),
    ("euh, the bakery please", [5]),
]
EN_NEGATIVE = ["Michael Jordan", "the pharmacy", "Claire Petit", "what time do you close"]
KO_NAMES = [("김민준", [1]), ("이서연", [2]), ("박지훈", [3]), ("최지우", [4]), ("빵집", [5]), ("정육점", [6]),
            ("고객 센터", [7]), ("안내 데스크", [8])]
KO_CARRIED = [("음, 김민준 부탁드립니다", [1]), ("빵집 바꿔 주세요", [5])]
KO_NEGATIVE = ["홍길동", "약국"]


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def read_pcm(path):
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2), path
        return array.array("h", w.readframes(w.getnframes()))


def write_pcm(path, samples):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(array.array("h", samples).tobytes())


def rms(xs):
    return math.sqrt(sum(x * x for x in xs) / max(1, len(xs)))


def speak(tmp, voice, speed, text):
    """espeak-ng, then 8 kHz band-limited speech at -3 dBFS peak."""
    raw, band = tmp / "raw.wav", tmp / "band.wav"
    run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text])
    run(["sox", "-D", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(band),
         "remix", "-", "sinc", "300-3400", "norm", "-3"])
    return list(read_pcm(band))


def cough(rng):
    """A cough-like burst: band-passed noise, sharp attack, 250 ms decay."""
    n = int(0.25 * RATE)
    out, low = [], 0.0
    for i in range(n):
        low = 0.7 * low + 0.3 * rng.uniform(-1, 1)
        env = min(1.0, i / 40) * math.exp(-i / (0.08 * RATE))
        out.append(int(14000 * low * env))
    return out


def channel(tmp, speech, rng, snr_db, loss, name):
    """Caller's line: pads, noise at snr_db (relative to the speech), lost 20 ms
    packets, then G.711 u-law (quantisation kept in a 16-bit WAV)."""
    lead, tail = [0] * int(0.6 * RATE), [0] * int(1.0 * RATE)
    pcm = lead + speech + tail
    level = rms([s for s in speech if s]) if any(speech) else 300.0
    noise_rms = level / (10 ** (snr_db / 20))
    # Uniform noise of amplitude a has RMS a / sqrt(3).
    amp = noise_rms * math.sqrt(3)
    pcm = [max(-32768, min(32767, int(s + rng.uniform(-amp, amp)))) for s in pcm]
    for start in range(0, len(pcm), FRAME):
        if rng.random() < loss:
            pcm[start:start + FRAME] = [0] * len(pcm[start:start + FRAME])
    mixed, ulaw = tmp / "mixed.wav", tmp / "ulaw.wav"
    write_pcm(mixed, pcm)
    run(["sox", "-D", str(mixed), "-e", "u-law", str(ulaw)])
    run(["sox", "-D", str(ulaw), "-e", "signed-integer", "-b", "16", str(name)])


def slug(text):
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    ascii_part = "".join(c if c.isascii() and c.isalnum() else "-" for c in text.lower()).strip("-")
    while "--" in ascii_part:
        ascii_part = ascii_part.replace("--", "-")
    return f"{ascii_part}-{digest}" if ascii_part else digest


def make(out):
    lines = []
    rng = random.Random(20261128)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for lang, directory, engine, voices, names, carried, negative in (
            ("en", EN_DIRECTORY, "sphinx", EN_VOICES, EN_NAMES, EN_CARRIED, EN_NEGATIVE),
            ("ko", KO_DIRECTORY, "vosk", KO_VOICES, KO_NAMES, KO_CARRIED, KO_NEGATIVE),
        ):
            (out / lang).mkdir(parents=True, exist_ok=True)
            (out / lang / "directory.json").write_text(
                json.dumps(directory, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            jobs = []  # (spoken, expected, voice, speed, kind)
            for i, (spoken, ids) in enumerate(names):
                for voice, speed in voices:
                    jobs.append((spoken, ids, voice, speed, "name"))
            for i, (spoken, ids) in enumerate(carried):
                voice, speed = voices[i % len(voices)]
                jobs.append((spoken, ids, voice, speed, "carrier"))
            for i, spoken in enumerate(negative):
                voice, speed = voices[i % len(voices)]
                jobs.append((spoken, [], voice, speed, "out-of-directory"))
            jobs.append(("", [], "", 0, "noise"))
            jobs.append(("", [], "", 0, "cough"))
            for n, (spoken, ids, voice, speed, kind) in enumerate(jobs):
                snr, loss = SNRS[n % len(SNRS)], LOSS[(n // len(SNRS)) % len(LOSS)]
                if kind == "noise":
                    speech = [0] * int(1.5 * RATE)
                elif kind == "cough":
                    speech = [0] * 2000 + cough(rng) + [0] * 2000
                else:
                    speech = speak(tmp, voice, speed, spoken)
                tag = voice.replace("+", "_") or kind
                file = f"{lang}/{slug(spoken or kind)}.{tag}.snr{snr}.loss{int(loss * 100)}.wav"
                channel(tmp, speech, rng, snr, loss, out / file)
                lines.append({"file": file, "engine": engine, "directory": f"{lang}/directory.json",
                              "spoken": spoken or f"({kind})", "kind": kind, "expected_entries": ids,
                              "voice": voice or None, "speed": speed or None, "snr_db": snr, "packet_loss": loss})
    dump = lambda path, xs: path.write_text(json.dumps(xs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    dump(out / "manifest.json", lines)
    # One manifest per language too (paths relative to its folder): one engine per
    # gate, each at its own level.
    for lang in ("en", "ko"):
        prefix = f"{lang}/"
        dump(out / lang / "manifest.json",
             [dict(l, file=l["file"][len(prefix):], directory="directory.json") for l in lines if l["file"].startswith(prefix)])
    return lines


def digest_tree(d):
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


def main():
    if "--check" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            make(Path(tmp))
            same = digest_tree(Path(tmp)) == digest_tree(OUT)
        print("QA corpus is up to date" if same else "QA corpus differs from a fresh generation")
        return 0 if same else 1
    shutil.rmtree(OUT, ignore_errors=True)
    lines = make(OUT)
    print(f"wrote {len(lines)} recordings and manifest.json under {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
