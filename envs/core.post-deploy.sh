#!/usr/bin/env bash
# Snakemake runs this once after creating the conda env: install synthrisk itself (no deps: the env pins them).
set -euo pipefail
pip install --no-deps -e "${SYNTHRISK_REPO:-$PWD}"
