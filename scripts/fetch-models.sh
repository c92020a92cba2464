#!/usr/bin/env bash
# Installs the speech engines' native library and models into .deps/ from the
# manifests under models/*.toml (see models/README.md for the format).
#
#   scripts/fetch-models.sh [--verify] [--deps DIR] [--models DIR] [NAME...]
#   scripts/fetch-models.sh --pin NAME [--deps DIR] [--models DIR]
#
# NAME restricts the run to some manifests (their `name`). --verify re-hashes
# every installed file instead of trusting the install stamp and sizes.
# --models reads the manifests from DIR instead of models/.
#
# --pin is for a URL item whose publisher gives no checksum (the French Vosk
# model): run it once on a machine that reaches the URL. It downloads the
# archive, checks that it holds the files the manifest's [[check]] entries
# name, prints its sha256 and size, and writes them into the manifest, which
# must still have `sha256 = ""`. Review and commit that diff: from then on
# every install is verified against it. A manifest already pinned is refused.
# Idempotent: an installed, intact item is left alone. Every archive is checked
# against the sha256 and size in its manifest before anything is extracted; an
# item without a published sha256 is refused. A missing or corrupt required
# item makes the script exit non-zero with the reason; an optional one that
# cannot be fetched (e.g. no route to its URL) is reported and skipped.
#
# Needs: python3 (>= 3.11, for tomllib), python3-pip for PyPI items, apt-get
# (run as root or with sudo) for Debian items. Called by `make setup-asr`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec python3 - "$ROOT" "$@" <<'PY'
import base64, csv, hashlib, io, os, re, shutil, subprocess, sys, tomllib, urllib.request, zipfile
from pathlib import Path

root = Path(sys.argv[1])
args = sys.argv[2:]
verify = "--verify" in args
deps = Path(os.environ.get("ATTENDANT_DEPS", root / ".deps"))
if "--deps" in args:
    deps = Path(args[args.index("--deps") + 1]).resolve()
    del args[args.index("--deps"):args.index("--deps") + 2]
models_dir = root / "models"
if "--models" in args:
    models_dir = Path(args[args.index("--models") + 1]).resolve()
    del args[args.index("--models"):args.index("--models") + 2]
pin = "--pin" in args
wanted = [a for a in args if not a.startswith("--")]
cache = deps / "cache"
STAMP = ".installed"


class Failure(Exception):
    """An item could not be installed; the message says why and what to do."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_files(m: dict, target: Path, full: bool) -> None:
    """Raises Failure when a declared file is missing, of the wrong size or hash."""
    for c in m.get("check", []):
        p = target / c["path"]
        if not p.is_file():
            raise Failure(f"{p} is missing")
        if "size" in c and p.stat().st_size != c["size"]:
            raise Failure(f"{p} has {p.stat().st_size} bytes, manifest says {c['size']}: corrupt")
        if "sha256" in c and (full or m.get("kind") == "library" or "debian" in m["source"]):
            got = sha256_file(p)
            if got != c["sha256"]:
                raise Failure(f"{p} has sha256 {got}, manifest says {c['sha256']}: corrupt")


def download(url: str, archive: Path) -> None:
    """Downloads `url` to `archive` through a `.part` file (never a partial archive)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_suffix(".part")
    try:
        with urllib.request.urlopen(url, timeout=30) as resp, open(tmp, "wb") as out:
            shutil.copyfileobj(resp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise Failure(f"cannot download {url}: {e}")
    tmp.rename(archive)


def pin_manifest(m: dict) -> str:
    """Downloads an unpinned URL item, checks its contents, writes sha256 and size."""
    src, path = m["source"], models_dir / m["_file"]
    if "url" not in src:
        raise Failure(f"models/{m['_file']}: --pin is for URL items; registry items carry their own hash")
    if src.get("sha256"):
        raise Failure(f"models/{m['_file']} is already pinned to {src['sha256']}: "
                      f"clear sha256 first if the publisher really changed the archive")
    archive = cache / src["file"]
    download(src["url"], archive)
    # The archive must hold what the manifest says a model holds, or it is not
    # the model: extract into a throw-away directory and run the file checks.
    probe = deps / (m["install_dir"] + ".pin-probe")
    try:
        extract({**m, "source": {**src, "sha256": "unpinned"}}, archive, probe)
    except Failure:
        archive.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    size, digest = archive.stat().st_size, sha256_file(archive)
    text = path.read_text()
    pinned, n = re.subn(r'(?m)^sha256 = ""$', f'sha256 = "{digest}"', text, count=1)
    pinned, k = re.subn(r"(?m)^size = [0-9]+$", f"size = {size}", pinned, count=1)
    if n != 1:
        raise Failure(f"models/{m['_file']}: no `sha256 = \"\"` line to fill")
    if k != 1:
        pinned = pinned.replace(f'sha256 = "{digest}"', f'sha256 = "{digest}"\nsize = {size}', 1)
    path.write_text(pinned)
    return f"pinned: sha256 {digest}, {size} bytes, written to {path} (review and commit it)"


def fetch_archive(m: dict) -> Path:
    src = m["source"]
    if not src.get("sha256"):
        raise Failure(f"no sha256 declared in models/{m['_file']}: refusing to install an "
                      f"unverified archive; check a download out-of-band and fill sha256/size")
    archive = cache / src["file"]
    if archive.is_file() and sha256_file(archive) == src["sha256"]:
        return archive
    cache.mkdir(parents=True, exist_ok=True)
    if "pypi" in src:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", str(cache), src["pypi"]]
        if "platform" in src:
            cmd[5:5] = ["--platform", src["platform"], "--python-version", src["python_version"]]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise Failure(f"pip download {src['pypi']} failed (is python3-pip installed?): "
                          f"{r.stderr.strip().splitlines()[-1:]}")
    elif "url" in src:
        download(src["url"], archive)
    else:
        raise Failure(f"models/{m['_file']}: source has neither pypi, url nor debian")
    if not archive.is_file():
        raise Failure(f"download did not produce {archive}")
    size, got = archive.stat().st_size, sha256_file(archive)
    if got != src["sha256"] or ("size" in src and size != src["size"]):
        archive.unlink()
        raise Failure(f"{src['file']}: sha256 {got} / {size} bytes, manifest says "
                      f"{src['sha256']} / {src.get('size')}: download rejected and deleted")
    return archive


def wheel_record(z: zipfile.ZipFile) -> dict:
    """Member name -> sha256 hex from a wheel's RECORD (empty for plain zips)."""
    names = [n for n in z.namelist() if n.endswith(".dist-info/RECORD")]
    if not names:
        return {}
    out = {}
    for row in csv.reader(io.TextIOWrapper(z.open(names[0]), encoding="utf-8")):
        if len(row) >= 2 and row[1].startswith("sha256="):
            b = row[1][len("sha256="):]
            out[row[0]] = base64.urlsafe_b64decode(b + "=" * (-len(b) % 4)).hex()
    return out


def extract(m: dict, archive: Path, target: Path) -> None:
    ex = m.get("extract", {})
    strip, only = ex.get("strip", ""), set(ex.get("only", []))
    staging = target.with_name(target.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with zipfile.ZipFile(archive) as z:
        record = wheel_record(z)
        count = 0
        for info in z.infolist():
            name = info.filename
            if info.is_dir() or not name.startswith(strip) or (only and name not in only):
                continue
            rel = Path(name[len(strip):])
            if rel.is_absolute() or ".." in rel.parts:
                raise Failure(f"{archive.name}: unsafe member path {name}")
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
            if name in record and sha256_file(dest) != record[name]:
                raise Failure(f"{archive.name}: {name} does not match the wheel's RECORD")
            count += 1
    if count == 0:
        raise Failure(f"{archive.name}: nothing under '{strip}' to extract")
    check_files(m, staging, full=True)
    (staging / STAMP).write_text(m["source"]["sha256"] + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def install_debian(m: dict, target: Path) -> None:
    src = m["source"]
    pkgs = [src["debian"]] + list(src.get("build_debian", []))
    missing = []
    for p in pkgs:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
        if "install ok installed" not in r.stdout:
            missing.append(p)
    if missing:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        print(f"  apt-get install {' '.join(missing)}")
        r = subprocess.run(sudo + ["apt-get", "install", "-y", "--no-install-recommends", *missing])
        if r.returncode != 0:
            raise Failure(f"apt-get install {' '.join(missing)} failed")
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", src["debian"]], capture_output=True, text=True)
    if r.stdout != src["version"]:
        print(f"  note: {src['debian']} is {r.stdout}, manifest was written for {src['version']}; "
              f"file checks decide")
    real = Path(src["path"])
    check_files(m, real, full=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        if target.is_symlink() and Path(os.readlink(target)) == real:
            return
        if target.is_symlink():
            target.unlink()
        else:
            shutil.rmtree(target)
    target.symlink_to(real)


def install(m: dict) -> str:
    target = deps / m["install_dir"]
    if "debian" in m["source"]:
        install_debian(m, target)
        return f"ok ({target} -> {m['source']['path']})"
    stamp = target / STAMP
    if stamp.is_file() and stamp.read_text().strip() == m["source"].get("sha256"):
        try:
            check_files(m, target, full=verify)
        except Failure as e:
            raise Failure(f"{e}; remove {target} and run this script again to reinstall")
        return f"ok (already installed in {target})"
    archive = fetch_archive(m)
    extract(m, archive, target)
    return f"installed into {target}"


manifests = []
for f in sorted(models_dir.glob("*.toml")):
    m = tomllib.loads(f.read_text())
    m["_file"] = f.name
    if not wanted or m["name"] in wanted:
        manifests.append(m)
unknown = set(wanted) - {m["name"] for m in manifests}
if unknown:
    sys.exit(f"fetch-models: no manifest named {', '.join(sorted(unknown))} under models/")

if pin:
    if len(wanted) != 1:
        sys.exit("fetch-models: --pin takes exactly one manifest name")
    try:
        print(f"{manifests[0]['name']}: {pin_manifest(manifests[0])}")
    except Failure as e:
        sys.exit(f"{manifests[0]['name']}: ERROR: {e}")
    sys.exit(0)

failed = False
for m in manifests:
    try:
        print(f"{m['name']}: {install(m)}")
    except Failure as e:
        if m.get("required", True):
            failed = True
            print(f"{m['name']}: ERROR: {e}", file=sys.stderr)
        else:
            print(f"{m['name']}: skipped (optional): {e}", file=sys.stderr)
sys.exit(1 if failed else 0)
PY
