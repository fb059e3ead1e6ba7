"""Stage functions: what each workflow script calls, one module per rule.

Each reads its inputs, calls the concept module (datasets, splits, generators, metrics) and
writes a parquet table plus a JSON sidecar. They take explicit file paths and plain dicts, so
tests and notebooks can run a stage without Snakemake. One module per stage, because a job's
code fingerprint is the hash of its stage module and everything in ``synthrisk`` that module
imports (:mod:`synthrisk.fingerprint`): editing one stage reruns only that stage's jobs.
"""
