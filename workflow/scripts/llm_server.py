# Thin adapter: rule llm_server (a service job) -> synthrisk.llm.server.serve
# Runs on Snakemake's own interpreter (a `shell: python -m ...` would take whatever python is on PATH).
import json
import sys

from synthrisk.llm.server import serve

sys.exit(serve(json.loads(snakemake.params.spec), snakemake.output[0], snakemake.log[0]))
