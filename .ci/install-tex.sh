#!/usr/bin/env bash
# Install the TeX tools that build the report (results/paper/main.pdf):
# pdflatex with the standard LaTeX packages, BibTeX, latexmk, and poppler-utils
# (pdfinfo, pdftotext), which the report test uses to read the PDF.
#
# Usage: .ci/install-tex.sh
#
# Needs root (or sudo) and a Debian-like system with apt-get. Tested on Debian
# bookworm (TeX Live 2022, latexmk 4.79).
set -euo pipefail

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
else
    SUDO="sudo"
fi

$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends \
    texlive-latex-base \
    texlive-latex-recommended \
    texlive-fonts-recommended \
    latexmk \
    poppler-utils

latexmk -v | head -n 1
pdflatex --version | head -n 1
