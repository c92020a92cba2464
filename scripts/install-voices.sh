#!/usr/bin/env bash
# Installs the synthetic voices the development corpus uses beyond espeak-ng:
# Pico (libttspico-utils: pico2wave) and the MBROLA voices us1, us2, us3, en1
# (spoken through espeak-ng's mb-* voices). Both live in Debian's contrib and
# non-free components, which a stock Debian image lacks: this script adds them
# in a file of its own (the main sources are left untouched), then installs
# what is missing. Idempotent; a no-op when everything is present.
#
#   scripts/install-voices.sh           # add components if needed, install
#   scripts/install-voices.sh --check   # exit 1 if a voice is missing
set -euo pipefail

PACKAGES=(libttspico-utils mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1)
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-voices: all voices present"
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "install-voices: missing ${missing[*]}" >&2
    exit 1
fi

# Debian's contrib and non-free components (same mirrors and keyring as main).
LIST=/etc/apt/sources.list.d/attendant-contrib-non-free.sources
if ! apt-cache policy libttspico-utils 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    echo "install-voices: adding contrib non-free for $codename in $LIST"
    $SUDO tee "$LIST" >/dev/null <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    $SUDO apt-get update -o Dir::Etc::sourcelist="$LIST" -o Dir::Etc::sourceparts=- \
        -o APT::Get::List-Cleanup=0 >/dev/null
fi
echo "install-voices: installing ${missing[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
