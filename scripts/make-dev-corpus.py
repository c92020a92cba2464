#!/usr/bin/env python3
"""Generates the development corpus for calibration and the recognition benchmark
(stdlib, sox, espeak-ng, pico2wave, MBROLA; see docs/dev-corpus.md).

Two splits, each with its own directory and its own voices, so that figures
measured on one split after tuning on the other show generality, not tuning:

- `dev`: a 300+ entry English store directory and its requests, spoken by
  espeak-ng (en-us, en-us+f3, en-029), MBROLA us1 and us3, and Pico en-US;
  plus a Korean store (espeak-ng ko voices) for the Vosk path.
- `heldout`: another English directory (other people, other sound-alike and
  namesake pairs, other departments), spoken by voices the dev split never
  uses: MBROLA us2 and en1, Pico en-GB, espeak-ng en-gb-x-rp+f4; and a
  smaller Korean part.

Each directory holds true namesakes (same name, two departments), sound-alike
pairs (Jon Smith / John Smyth), names of French and Breton origin, department
entries, staff with departments, two disabled entries. Requests are made as
callers make them: full name, first name, "Mr/Mrs + last name", carrier
phrases, hesitations ("uh, ..."); department requests; and out-of-directory
requests (names not in the directory, disabled entries, sentences that name
nobody, line noise, a cough). The channel: speed and level varied, telephone
band 300-3400 Hz, pink or white noise at 30/20/10 dB SNR (some clean), G.711
mu-law or A-law, 20 ms packets lost at 0-5 %.

Every recording has its own seed (derived from the split seed and its index),
every sox call has -D, voices are deterministic: two runs write the same bytes,
and any recording can be regenerated alone.

Output:
- the full corpus under var/corpus/<split>/<lang>/ (manifest.json, directory.json,
  WAVs), not committed;
- a stratified subset under fixtures/audio/dev/<split>-<lang>/ (committed, what
  CI replays).

    scripts/make-dev-corpus.py              # full corpus into var/ and the subset
    scripts/make-dev-corpus.py --subset     # only the committed subset
    scripts/make-dev-corpus.py --check      # regenerate the subset in a temp dir, compare bytes
    scripts/make-dev-corpus.py --jobs 2     # parallel synthesis

Voices beyond espeak-ng come from Debian contrib/non-free: scripts/install-voices.sh
(run by `make setup`) installs them; this script runs it when they are missing.
"""
import array
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import wave
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL_OUT = ROOT / "var" / "corpus"
SUBSET_OUT = ROOT / "fixtures" / "audio" / "dev"
RATE = 8000
FRAME = 160  # 20 ms at 8 kHz: one RTP packet
SEED = 20261203

# ---------------------------------------------------------------------------
# Name pools. (first name, gender) and last names; English, French, Breton.
# ---------------------------------------------------------------------------
EN_M = ("James John Robert Michael William David Richard Thomas Charles Daniel Matthew Anthony Mark Paul "
        "Andrew Joshua Kevin Brian George Edward Ronald Timothy Jason Jeffrey Ryan Gary Nicholas Eric Peter "
        "Frank Raymond Gregory Samuel Patrick Henry Arthur Oliver Harry Jack Simon Neil Colin Graham Ian "
        "Stuart Keith Derek Philip Victor").split()
EN_F = ("Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Margaret "
        "Sandra Ashley Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie Rebecca Laura Helen "
        "Sharon Cynthia Kathleen Amy Angela Ruth Brenda Pamela Nicole Emma Olivia Grace Lucy Hannah Rachel "
        "Julia Alice Fiona Joanne Wendy Diane Judith Megan Victoria").split()
FR_M = ("Jean Pierre Michel André Philippe Alain Jacques Bernard Thierry Laurent Olivier Christophe "
        "Sébastien Julien Guillaume Benoît François Hervé Didier Gérard Rémi Lucas Hugo Théo Antoine "
        "Baptiste Cédric Xavier").split()
FR_F = ("Marie Nathalie Isabelle Sylvie Françoise Valérie Sandrine Céline Aurélie Camille Chloé Manon "
        "Léa Élodie Mathilde Juliette Margaux Hélène Brigitte Monique Agnès Delphine Géraldine Odile").split()
BR_M = "Yann Erwan Ronan Maël Tugdual Corentin Goulven Yannick Brieuc Gurvan Killian Malo Riwal Alan".split()
BR_F = "Nolwenn Soizic Maïwenn Anaïg Enora Rozenn Katell Morgane Armelle Youna Gaïd Azilis".split()
EN_LAST = ("Johnson Williams Jones Miller Davis Wilson Anderson Taylor Moore Jackson White Harris Lewis "
           "Robinson Walker Young King Wright Scott Hill Green Adams Baker Nelson Carter Mitchell Roberts "
           "Turner Campbell Parker Evans Edwards Collins Stewart Morris Rogers Cook Morgan Bell Murphy Bailey "
           "Cooper Richardson Cox Howard Ward Peterson Watson Brooks Kelly Sanders Price Bennett Barnes Ross "
           "Henderson Coleman Jenkins Perry Powell Patterson Hughes Butler Simmons Foster Bryant Russell "
           "Griffin Ellis Owens Harrison Gibson Wallace Holmes Palmer Mills Knight Lawrence Fletcher Hunt "
           "Spencer Webb Dixon Hudson Chapman Lloyd Pearson Barker Hamilton Shaw Thornton Burton").split()
FR_LAST = ("Bernard Dubois Robert Richard Durand Leroy Moreau Laurent Lefebvre Michel Bertrand Roux "
           "Vincent Fournier Girard André Mercier Dupont Lambert Bonnet Legrand Garnier Rousseau Blanc "
           "Guérin Roussel Perrin Morin Mathieu Clément Gauthier Dumont Fontaine Chevalier Robin Prodhomme "
           "Beaulieu Delacroix Lemaire Marchand Duval Boucher Lacroix Renard Gaillard Brunet Carpentier").split()
BR_LAST = ["Le Goff", "Le Bihan", "Le Floch", "Le Guen", "Le Corre", "Le Meur", "Kerouac", "Kergoat",
           "Quéméner", "Morvan", "Guivarc'h", "Prigent", "Jaouen", "Cadiou", "Le Bris", "Madec", "Quéré",
           "Gourvennec", "Pennec", "Kervella", "Le Hir", "Abgrall", "Guéguen", "Le Roux", "Le Du",
           "Kerjean", "Le Cam", "Coadou", "Lozac'h", "Tréguer"]
NICKNAMES = {"Robert": "Bob", "William": "Bill", "Richard": "Dick", "Elizabeth": "Liz", "Margaret": "Maggie",
             "Michael": "Mike", "Thomas": "Tom", "Anthony": "Tony", "Kathleen": "Kathy", "Patricia": "Pat"}

# Per split: sound-alike pairs (spoken alike or nearly, spelt apart) and true namesakes.
SPLITS = {
    "dev": {
        "seed": SEED,
        "store": {"id": 11, "name": "Dev Hypermarket", "number": "0500000011"},
        "sound_alike": [("Jon", "Smith", "John", "Smyth"), ("Katherine", "Reid", "Catherine", "Reed"),
                        ("Stephen", "Gray", "Steven", "Grey"), ("Ann", "Marshall", "Anne", "Marshal"),
                        ("Sean", "Brown", "Shawn", "Browne"), ("Alan", "Clark", "Allan", "Clarke"),
                        ("Mark", "Phillips", "Marc", "Philips"), ("Erwan", "Le Gall", "Erwann", "Le Gal"),
                        ("Nicolas", "Morel", "Nicolas", "Morelle"), ("Claire", "Petit", "Clair", "Petit")],
        "namesakes": [("Sophie", "Martin", "F"), ("David", "Thomas", "M"), ("Yann", "Le Goff", "M"),
                      ("Emma", "Simon", "F")],
        "departments": [("Bakery", ["the bakery", "bread"]), ("Butchery", ["the butcher", "meat counter"]),
                        ("Dairy", ["the dairy"]), ("Fish counter", ["fishmonger", "seafood"]),
                        ("Produce", ["fruit and vegetables"]), ("Pharmacy", ["the pharmacy", "chemist"]),
                        ("Security", ["the security desk"]), ("Customer service", ["customer care"]),
                        ("Accounting", ["accounts"]), ("Human resources", ["personnel"]),
                        ("Delivery", ["home delivery"]), ("Garden centre", ["the garden centre"]),
                        ("Electronics", []), ("Cheese counter", ["cheese"]), ("Wine cellar", ["wines"]),
                        ("Warehouse", ["the warehouse"]), ("Maintenance", []), ("Marketing", []),
                        ("Hardware", ["do it yourself"]), ("Florist", ["flowers"]), ("Optician", []),
                        ("Toys", ["the toy shop"]), ("Clothing", ["clothes"]), ("Travel agency", ["travel"])],
        "staff": 290,
        "en_voices": [("espeak", "en-us", 165), ("espeak", "en-us+f3", 150), ("espeak", "en-029", 160),
                      ("mbrola", "mb-us1", 150), ("mbrola", "mb-us3", 160), ("pico", "en-US", 100)],
        "ko_voices": [("espeak", "ko", 140), ("espeak", "ko+f3", 125)],
        "counts": {"name": 420, "department": 60, "ood_name": 30, "ood_sentence": 16, "ood_noise": 8,
                   "disabled": 4, "ko_name": 50, "ko_ood": 10},
        "subset": {"en": 64, "ko": 10},
    },
    "heldout": {
        "seed": SEED + 1,
        "store": {"id": 12, "name": "Held-out Superstore", "number": "0500000012"},
        "sound_alike": [("Geoff", "Wood", "Jeff", "Woods"), ("Philip", "Hayes", "Phillip", "Hays"),
                        ("Carl", "Fisher", "Karl", "Fischer"), ("Teresa", "Dean", "Theresa", "Deane"),
                        ("Loïc", "Riou", "Loïc", "Rioux"), ("Matthew", "Ford", "Mathew", "Forde"),
                        ("Eric", "Allen", "Erik", "Allan"), ("Lois", "Lane", "Louise", "Laine")],
        "namesakes": [("Julie", "Bernard", "F"), ("Michael", "Scott", "M"), ("Ronan", "Morvan", "M")],
        "departments": [("Deli", ["delicatessen"]), ("Bakery", ["the bakery"]), ("Frozen foods", ["frozen"]),
                        ("Household", ["cleaning products"]), ("Pet supplies", ["the pet shop"]),
                        ("Payroll", []), ("Returns", ["refunds"]), ("Photo lab", ["photos"]),
                        ("Stationery", []), ("Sports", ["sporting goods"]), ("Books", ["the bookshop"]),
                        ("Customer service", ["customer care"]), ("IT support", ["computer support"]),
                        ("Car park", ["parking"]), ("Kitchenware", ["kitchen"]), ("Jewellery", ["watches"]),
                        ("Tyre centre", ["tyres"]), ("Music", ["records"])],
        "staff": 300,
        "en_voices": [("mbrola", "mb-us2", 155), ("mbrola", "mb-en1", 150), ("pico", "en-GB", 100),
                      ("espeak", "en-gb-x-rp+f4", 160)],
        "ko_voices": [("espeak", "ko+m3", 150)],
        "counts": {"name": 210, "department": 30, "ood_name": 15, "ood_sentence": 10, "ood_noise": 4,
                   "disabled": 2, "ko_name": 24, "ko_ood": 6},
        "subset": {"en": 32, "ko": 0},
    },
}

OOD_SENTENCES = [
    "what time do you close tonight", "is the store open on Sunday", "I have a question about my order",
    "hello is anybody there", "sorry I think I have the wrong number", "can you hear me",
    "I want to make a complaint", "I left my umbrella in your shop yesterday",
    "how much is the parking", "do you have any job openings", "my card was charged twice",
    "I'm just calling to check your address", "the weather is terrible today",
    "could you tell me how to get there from the station", "do you sell garden furniture",
    "I found a wallet near the entrance", "where is the nearest bus stop", "hello hello",
    "I'd like to cancel my subscription", "this is a recorded message from your bank",
]

KO_SURNAMES = ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오"]
KO_GIVEN = ["민준", "서연", "지훈", "지우", "하은", "도윤", "서준", "예은", "시우", "수아", "지민", "현우",
            "유진", "동현", "수빈", "준호", "민서", "은지", "성민", "혜진"]
KO_DEPARTMENTS = [("빵집", []), ("정육점", []), ("고객 센터", []), ("안내 데스크", []), ("약국", []),
                  ("수산물 코너", []), ("주차장", []), ("배송", [])]
KO_CARRIERS = ["{} 부탁드립니다", "{} 바꿔 주세요", "음, {}", "{} 좀 연결해 주세요", "{}"]
KO_OOD = ["홍길동", "몇 시에 문을 닫아요", "주문 문의가 있어요", "여보세요", "이순신 부탁드립니다",
          "세종대왕 바꿔 주세요", "잘못 걸었습니다", "영업시간이 어떻게 되나요"]

EN_CARRIERS = ["{} please", "can I talk to {}", "I'd like to speak to {}", "can I speak to {} please",
               "I'm looking for {}", "could you put me through to {}", "{}, please", "hi, {} please"]
HESITATIONS = ["uh, {}", "um, {}", "er, {} please", "uh, can I talk to, um, {}", "hello, uh, {}"]
DEPT_FORMS = ["{}", "the {} please", "can I talk to the {}", "I'd like to speak to someone in {}",
              "{} please", "uh, {}"]

# Channel conditions, drawn per recording from its seed (repeats weight the
# draw: most calls are on fair lines, some on bad ones).
SNRS = [None, None, None, 30, 30, 30, 20, 20, 10, 10]  # None: no added noise (the codec's own noise only)
NOISES = ["pink", "pink", "white"]
CODECS = ["u-law", "a-law"]
LOSSES = [0.0, 0.0, 0.01, 0.03, 0.05]
TEMPOS = [0.9, 1.0, 1.0, 1.1]
GAINS_DB = [0, -3, -6, -10]


# ---------------------------------------------------------------------------
# Directories
# ---------------------------------------------------------------------------
def ext(e):
    return {"kind": "extension", "value": e}


def entry(i, name, aliases, dept, enabled=True):
    extension = str(1000 + i)
    return {"id": i, "display_name": name, "aliases": aliases, "department": dept, "extension": extension,
            "target": ext(extension), "fallback": None, "enabled": enabled}


def fold(text):
    """Lower case without accents or punctuation: to compare names as spoken."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower().replace("'", "")
    return " ".join("".join(c if c.isalnum() else " " for c in t).split())


def first_pool(rng, gender):
    """A first name of the given gender, English (55 %), French (30 %) or Breton (15 %)."""
    x = rng.random()
    if x < 0.55:
        return rng.choice(EN_M if gender == "M" else EN_F)
    if x < 0.85:
        return rng.choice(FR_M if gender == "M" else FR_F)
    return rng.choice(BR_M if gender == "M" else BR_F)


def last_pool(rng):
    x = rng.random()
    if x < 0.5:
        return rng.choice(EN_LAST)
    if x < 0.8:
        return rng.choice(FR_LAST)
    return rng.choice(BR_LAST)


def gender_of(first):
    return "F" if first in EN_F + FR_F + BR_F or first in ("Ann", "Anne", "Katherine", "Catherine", "Claire",
                                                           "Clair", "Teresa", "Theresa", "Lois", "Louise") else "M"


def make_directory(split, cfg):
    """The split's English directory: department entries, then staff (with the
    sound-alike pairs and namesakes among them), two disabled entries. Returns
    (directory JSON, staff metadata by id)."""
    rng = random.Random(cfg["seed"])
    entries, meta = [], {}
    depts = [d for d, _ in cfg["departments"]]
    for d, aliases in cfg["departments"]:
        i = len(entries) + 1
        entries.append(entry(i, d, aliases, d))
        meta[i] = {"kind": "department", "name": d}
    used = {fold(d) for d in depts}

    def add_person(first, last, dept, tag, enabled=True, aliases=()):
        i = len(entries) + 1
        name = f"{first} {last}"
        entries.append(entry(i, name, list(aliases), dept, enabled))
        meta[i] = {"kind": "person", "first": first, "last": last, "gender": gender_of(first), "tag": tag,
                   "dept": dept, "enabled": enabled}
        used.add(fold(name))
        return i

    for a_first, a_last, b_first, b_last in cfg["sound_alike"]:
        d1, d2 = rng.sample(depts, 2)
        ia = add_person(a_first, a_last, d1, "sound_alike")
        ib = add_person(b_first, b_last, d2, "sound_alike")
        meta[ia]["pair"], meta[ib]["pair"] = ib, ia
    for first, last, _g in cfg["namesakes"]:
        d1, d2 = rng.sample(depts, 2)
        ia = add_person(first, last, d1, "namesake")
        ib = add_person(first, last, d2, "namesake")
        meta[ia]["pair"], meta[ib]["pair"] = ib, ia
    sounds = {fold(f"{a} {b}") for a, b, *_ in cfg["sound_alike"]} | {fold(f"{c} {d}") for _, _, c, d in
                                                                      cfg["sound_alike"]}
    while sum(1 for m in meta.values() if m["kind"] == "person") < cfg["staff"]:
        gender = rng.choice("MF")
        first, last = first_pool(rng, gender), last_pool(rng)
        name = fold(f"{first} {last}")
        if name in used or name in sounds:
            continue
        aliases = []
        if first in NICKNAMES and rng.random() < 0.5:
            aliases.append(f"{NICKNAMES[first]} {last}")
        add_person(first, last, rng.choice(depts), "staff", aliases=aliases)
    # Two people who left: still listed, disabled (a request for them must be rejected).
    disabled = []
    while len(disabled) < 2:
        first, last = first_pool(rng, rng.choice("MF")), last_pool(rng)
        if fold(f"{first} {last}") in used:
            continue
        disabled.append(add_person(first, last, rng.choice(depts), "disabled", enabled=False))
    store = dict(cfg["store"], language="en", operator=ext("100"))
    return {"store": store, "version": 1, "entries": entries, "menu": []}, meta


def make_ko_directory(split, cfg):
    rng = random.Random(cfg["seed"] + 100)
    entries, meta = [], {}
    for d, aliases in KO_DEPARTMENTS:
        i = len(entries) + 1
        entries.append(entry(i, d, aliases, d))
        meta[i] = {"kind": "department", "name": d}
    names = set()
    while len(entries) < 8 + 24:
        name = rng.choice(KO_SURNAMES) + rng.choice(KO_GIVEN)
        if name in names:
            continue
        names.add(name)
        i = len(entries) + 1
        entries.append(entry(i, name, [], rng.choice([d for d, _ in KO_DEPARTMENTS])))
        meta[i] = {"kind": "person", "name": name}
    store = {"id": cfg["store"]["id"] + 100, "name": cfg["store"]["name"] + " (Korean)",
             "number": cfg["store"]["number"][:-3] + "1" + cfg["store"]["number"][-2:], "language": "ko",
             "operator": ext("9")}
    return {"store": store, "version": 1, "entries": entries, "menu": []}, meta


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------
def requests_en(split, cfg, directory, meta):
    """(spoken, category, form, expected ids, target id or None, notes) for the split."""
    rng = random.Random(cfg["seed"] + 7)
    counts = cfg["counts"]
    people = [i for i, m in meta.items() if m["kind"] == "person" and m["enabled"]]
    depts = [i for i, m in meta.items() if m["kind"] == "department"]
    firsts, lasts = {}, {}
    for i in people:
        firsts.setdefault(fold(meta[i]["first"]), []).append(i)
        lasts.setdefault(fold(meta[i]["last"]), []).append(i)
    out = []
    # Every sound-alike and namesake entry is asked for at least twice; the rest at random.
    special = [i for i in people if meta[i]["tag"] in ("sound_alike", "namesake")]
    targets = special * 2
    while len(targets) < counts["name"]:
        targets.append(rng.choice(people))
    rng.shuffle(targets)
    for i in targets:
        m = meta[i]
        full = f"{m['first']} {m['last']}"
        x = rng.random()
        # A first name or a last name alone is asked for when at most three
        # people share it (a menu of three can still find the caller's person).
        unique_first = len(firsts[fold(m["first"])]) <= 3
        unique_last = len(lasts[fold(m["last"])]) <= 3
        if x < 0.35:
            form, said = "full", full
        elif x < 0.62:
            form, said = "carrier", rng.choice(EN_CARRIERS).format(full)
        elif x < 0.77:
            form, said = "hesitation", rng.choice(HESITATIONS).format(full)
        elif x < 0.88 and unique_first:
            form, said = "first_name", rng.choice(["{}", "{} please", "can I talk to {}"]).format(m["first"])
        elif unique_last:
            title = "Mrs" if m["gender"] == "F" else "Mr"
            form, said = "title", rng.choice(["{} {}", "{} {} please", "can I speak to {} {}"]).format(
                title, m["last"])
        else:
            form, said = "full", full
        out.append({"spoken": said, "category": "name", "form": form, "expected_entries": [i], "target": i,
                    "tag": m["tag"]})
    for n in range(counts["department"]):
        i = depts[n % len(depts)]
        e = directory["entries"][i - 1]
        forms = [e["display_name"].lower()] + e["aliases"]
        name = forms[n // len(depts) % len(forms)] if n >= len(depts) else forms[0]
        alias = name != forms[0]
        said = rng.choice(["{}", "{} please", "can I talk to {}"] if alias else DEPT_FORMS).format(name)
        out.append({"spoken": said, "category": "department", "form": "department", "expected_entries": [i],
                    "target": i, "tag": "department"})
    # Out of the directory: names nobody in it has (often a known last name with
    # another first name, as callers ask for people who left), disabled entries,
    # sentences, line noise.
    taken = {fold(e["display_name"]) for e in directory["entries"]}
    taken |= {fold(a) for e in directory["entries"] for a in e["aliases"]}
    ood = 0
    while ood < counts["ood_name"]:
        first, last = first_pool(rng, rng.choice("MF")), last_pool(rng)
        if fold(f"{first} {last}") in taken:
            continue
        said = f"{first} {last}" if rng.random() < 0.5 else rng.choice(EN_CARRIERS).format(f"{first} {last}")
        out.append({"spoken": said, "category": "out_of_directory", "form": "unknown_name",
                    "expected_entries": [], "target": None, "tag": "ood"})
        ood += 1
    words = set()
    for e in directory["entries"]:
        for form in [e["display_name"]] + e["aliases"]:
            words |= set(fold(form).split())
    sentences = [s for s in OOD_SENTENCES if not (set(fold(s).split()) & words)]
    rng.shuffle(sentences)
    for n in range(counts["ood_sentence"]):
        out.append({"spoken": sentences[n % len(sentences)], "category": "out_of_directory",
                    "form": "sentence", "expected_entries": [], "target": None, "tag": "ood"})
    for i in [i for i, m in meta.items() if m.get("tag") == "disabled"] * counts["disabled"]:
        if sum(1 for r in out if r["form"] == "disabled") >= counts["disabled"]:
            break
        m = meta[i]
        out.append({"spoken": rng.choice(EN_CARRIERS).format(f"{m['first']} {m['last']}"),
                    "category": "out_of_directory", "form": "disabled", "expected_entries": [], "target": None,
                    "tag": "disabled"})
    for n in range(counts["ood_noise"]):
        kind = ["noise", "cough", "silence", "noise"][n % 4]
        out.append({"spoken": "", "category": "out_of_directory", "form": kind, "expected_entries": [],
                    "target": None, "tag": "ood"})
    return out


def requests_ko(split, cfg, directory, meta):
    rng = random.Random(cfg["seed"] + 11)
    counts = cfg["counts"]
    ids = sorted(meta)
    out = []
    for n in range(counts["ko_name"]):
        i = ids[n % len(ids)]
        name = directory["entries"][i - 1]["display_name"]
        form = rng.choice(KO_CARRIERS)
        category = "department" if meta[i]["kind"] == "department" else "name"
        out.append({"spoken": form.format(name), "category": category,
                    "form": "full" if form == "{}" else "carrier", "expected_entries": [i], "target": i,
                    "tag": "ko"})
    for n in range(counts["ko_ood"]):
        if n % 5 == 4:
            out.append({"spoken": "", "category": "out_of_directory", "form": "noise", "expected_entries": [],
                        "target": None, "tag": "ood"})
        else:
            out.append({"spoken": KO_OOD[n % len(KO_OOD)], "category": "out_of_directory", "form": "sentence",
                        "expected_entries": [], "target": None, "tag": "ood"})
    return out


# ---------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------
def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


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


def synthesize(tmp, engine, voice, speed, text, tempo, gain_db):
    """Speech at 8 kHz, 16 bit, peak at gain_db - 3 dBFS, tempo applied."""
    raw, out = tmp / "raw.wav", tmp / "speech.wav"
    if engine == "pico":
        run(["pico2wave", "-l", voice, "-w", str(raw), text])
    else:  # espeak-ng, or MBROLA through espeak-ng's mb-* voices
        run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text])
    effects = ["remix", "-", "rate", "-h", "8000"]
    if tempo != 1.0:
        effects += ["tempo", "-s", str(tempo)]
    effects += ["norm", str(gain_db - 3)]
    run(["sox", "-D", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out)] + effects)
    return list(read_pcm(out))


def pink(rng, n):
    """Pink noise (Paul Kellet's economy filter), unit-ish RMS."""
    b0 = b1 = b2 = 0.0
    out = []
    for _ in range(n):
        w = rng.uniform(-1, 1)
        b0 = 0.99765 * b0 + w * 0.0990460
        b1 = 0.96300 * b1 + w * 0.2965164
        b2 = 0.57000 * b2 + w * 1.0526913
        out.append(b0 + b1 + b2 + w * 0.1848)
    level = rms(out) or 1.0
    return [x / level for x in out]


def white(rng, n):
    return [rng.uniform(-1, 1) * math.sqrt(3) for _ in range(n)]


def cough(rng):
    """A cough-like burst: band-passed noise, sharp attack, 250 ms decay."""
    n = int(0.25 * RATE)
    out, low = [], 0.0
    for i in range(n):
        low = 0.7 * low + 0.3 * rng.uniform(-1, 1)
        env = min(1.0, i / 40) * math.exp(-i / (0.08 * RATE))
        out.append(int(14000 * low * env))
    return out


def channel(tmp, speech, rng, cond, dest):
    """The caller's line: pads, noise at the SNR (relative to the speech), the
    telephone band, G.711 (quantisation kept in a 16-bit WAV), lost packets."""
    lead, tail = [0] * int(0.5 * RATE), [0] * int(0.6 * RATE)
    pcm = lead + speech + tail
    active = [s for s in speech if s]
    level = rms(active) if active else 300.0
    if cond["snr_db"] is not None:
        noise = (pink if cond["noise"] == "pink" else white)(rng, len(pcm))
        scale = level / (10 ** (cond["snr_db"] / 20))
        pcm = [s + x * scale for s, x in zip(pcm, noise)]
    pcm = [max(-32768, min(32767, int(round(s)))) for s in pcm]
    mixed, coded = tmp / "mixed.wav", tmp / "coded.wav"
    write_pcm(mixed, pcm)
    run(["sox", "-D", str(mixed), "-e", cond["codec"], str(coded), "sinc", "300-3400"])
    decoded = tmp / "decoded.wav"
    run(["sox", "-D", str(coded), "-e", "signed-integer", "-b", "16", str(decoded)])
    pcm = list(read_pcm(decoded))
    for start in range(0, len(pcm), FRAME):
        if rng.random() < cond["packet_loss"]:
            pcm[start:start + FRAME] = [0] * len(pcm[start:start + FRAME])
    write_pcm(dest, pcm)


def slug(text):
    t = fold(text).replace(" ", "-")[:40].strip("-")
    digest = hashlib.sha1(text.encode()).hexdigest()[:6]
    return f"{t}-{digest}" if t else digest


def render(job):
    """Makes one recording (a job from plan()); returns its manifest line."""
    dest = Path(job["dest"])
    rng = random.Random(job["seed"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        form = job["line"]["form"]
        if form in ("noise", "silence"):
            speech = [0] * int(1.5 * RATE)
            if form == "noise":  # line noise alone: force some noise even if the condition is clean
                job["line"]["snr_db"] = job["line"]["snr_db"] or 10
        elif form == "cough":
            speech = [0] * 2000 + cough(rng) + [0] * 2000
        else:
            v = job["line"]
            speech = synthesize(tmp, v["tts"], v["voice"], v["speed"], v["spoken"], v["tempo"], v["gain_db"])
        dest.parent.mkdir(parents=True, exist_ok=True)
        if form == "silence":
            job["line"]["snr_db"] = None
        channel(tmp, speech, rng, job["line"], dest)
    return job["line"]


def plan(split, lang, cfg, requests, voices):
    """Jobs for every request of a split and language: voice and channel chosen
    by the request's own seeded RNG."""
    jobs = []
    engine = "sphinx" if lang == "en" else "vosk"
    for n, req in enumerate(requests):
        seed = int(hashlib.sha256(f"{cfg['seed']}/{lang}/{n}".encode()).hexdigest()[:12], 16)
        rng = random.Random(seed)
        tts, voice, speed = voices[n % len(voices)]
        cond = {"snr_db": rng.choice(SNRS), "noise": rng.choice(NOISES), "codec": rng.choice(CODECS),
                "packet_loss": rng.choice(LOSSES), "tempo": rng.choice(TEMPOS), "gain_db": rng.choice(GAINS_DB)}
        said = req["spoken"] or f"({req['form']})"
        file = f"{slug(said)}.{voice.replace('+', '_')}.{n:04d}.wav" if req["spoken"] else \
            f"{req['form']}.{n:04d}.wav"
        line = {"file": file, "engine": engine, "directory": "directory.json", "spoken": req["spoken"] or
                f"({req['form']})", "category": req["category"], "form": req["form"], "tag": req["tag"],
                "expected_entries": req["expected_entries"],
                "tts": tts if req["spoken"] else None, "voice": voice if req["spoken"] else None,
                "speed": speed if req["spoken"] else None, **cond}
        jobs.append({"seed": seed + 1, "line": line, "n": n})
    return jobs


def stratified(jobs, k, seed):
    """k jobs keeping the shares of (category, form) and every voice, deterministic."""
    if k <= 0:
        return []
    rng = random.Random(seed)
    groups = {}
    for j in jobs:
        groups.setdefault((j["line"]["category"], j["line"]["form"]), []).append(j)
    chosen = []
    total = len(jobs)
    for key in sorted(groups):
        g = groups[key]
        share = max(1, round(k * len(g) / total))
        chosen += rng.sample(g, min(share, len(g)))
    chosen.sort(key=lambda j: j["n"])
    return chosen


def build(out_root, subset_root, jobs_count, full=True):
    """Writes the corpus (full: var/corpus) and the subset. Returns (full count, subset count)."""
    tasks, manifests = [], []
    n_full = n_subset = 0
    for split, cfg in SPLITS.items():
        en_dir, en_meta = make_directory(split, cfg)
        ko_dir, ko_meta = make_ko_directory(split, cfg)
        for lang, directory, reqs, voices in (
            ("en", en_dir, requests_en(split, cfg, en_dir, en_meta), cfg["en_voices"]),
            ("ko", ko_dir, requests_ko(split, cfg, ko_dir, ko_meta), cfg["ko_voices"]),
        ):
            jobs = plan(split, lang, cfg, reqs, voices)
            subset = stratified(jobs, cfg["subset"][lang], cfg["seed"] + 3)
            targets = []
            if full and out_root is not None:
                targets.append((out_root / split / lang, jobs))
                n_full += len(jobs)
            if subset and subset_root is not None:
                targets.append((subset_root / f"{split}-{lang}", subset))
                n_subset += len(subset)
            for folder, js in targets:
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "directory.json").write_text(json.dumps(directory, ensure_ascii=False, indent=1) + "\n",
                                                       encoding="utf-8")
                for j in js:
                    tasks.append({"seed": j["seed"], "line": dict(j["line"]), "dest": str(folder / j["line"]["file"])})
                manifests.append((folder / "manifest.json", [j["line"]["file"] for j in js]))
    with ProcessPoolExecutor(max_workers=jobs_count) as pool:
        lines = list(pool.map(render, tasks, chunksize=4))
    by_dest = {t["dest"]: l for t, l in zip(tasks, lines)}
    for path, files in manifests:
        rows = [by_dest[str(path.parent / f)] for f in files]
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return n_full, n_subset


def digest_tree(d):
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*"))
            if p.is_file()}


def voices_present():
    return shutil.which("pico2wave") is not None and Path("/usr/share/mbrola/us1").exists()


def main():
    args = sys.argv[1:]
    jobs = int(args[args.index("--jobs") + 1]) if "--jobs" in args else max(1, (os.cpu_count() or 2) // 2)
    if not voices_present():
        subprocess.run([str(ROOT / "scripts" / "install-voices.sh")], check=True)
    if "--check" in args:
        with tempfile.TemporaryDirectory() as tmp:
            build(None, Path(tmp), jobs, full=False)
            fresh, committed = digest_tree(Path(tmp)), digest_tree(SUBSET_OUT)
        if fresh == committed:
            print("dev corpus subset is up to date")
            return 0
        diff = sorted(set(fresh) ^ set(committed) | {k for k in fresh if committed.get(k) != fresh[k]})
        print(f"dev corpus subset differs from a fresh generation ({len(diff)} files), e.g. {diff[:3]}")
        return 1
    subset_only = "--subset" in args
    shutil.rmtree(SUBSET_OUT, ignore_errors=True)
    if not subset_only:
        shutil.rmtree(FULL_OUT, ignore_errors=True)
    n_full, n_subset = build(None if subset_only else FULL_OUT, SUBSET_OUT, jobs, full=not subset_only)
    if not subset_only:
        print(f"wrote {n_full} recordings under {FULL_OUT.relative_to(ROOT)}")
    print(f"wrote {n_subset} recordings under {SUBSET_OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
