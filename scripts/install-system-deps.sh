#!/usr/bin/env bash
# Installs the Debian packages the browser tests and the PDF page checks use, when they are
# missing and apt can be used (root, or passwordless sudo). PDFs themselves need no system
# package (Typst and pandoc come from pip). Prints what it did; never fails the build just
# because apt is unavailable: the tests that need these tools then say what is missing.
set -uo pipefail

packages=(chromium fonts-dejavu-core poppler-utils npm)
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v npm >/dev/null || missing+=(npm)  # installs axe-core (tests/axe) from the npm registry

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "system packages missing: ${missing[*]}"
if ! command -v apt-get >/dev/null; then
    echo "apt-get not available: install ${packages[*]} by hand for the browser test and PDF page images"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
        echo "not root and no passwordless sudo: install ${missing[*]} by hand"; exit 0; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null && \
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null && \
    echo "installed: ${missing[*]}" || echo "apt-get could not install: ${missing[*]}"
