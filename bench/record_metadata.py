"""Write the metadata a finished Snakemake run leaves, for every job of the DAG, without running
any job: a cheap stand-in for a finished study-sized tree (bench/bench_dag.py's no-op rerun).

    python bench/record_metadata.py <snakemake arguments>

Runs Snakemake's own command line with the given arguments; once the DAG is built, calls
Snakemake's own ``persistence.finished(job)`` for every job in it (the call that follows a job's
success in a real run: rule, code, input list and checksums, params, software-stack hash), then
exits without scheduling anything. Every output must already exist (the bench creates them,
input-first, so that mtimes are consistent). ``snakemake --touch`` does the same through the
scheduler and took over 20 minutes for 54,000 outputs; this takes seconds to a few minutes.
"""
from __future__ import annotations

import sys

from snakemake.cli import main  # first: it imports snakemake.workflow in the order that module needs
import snakemake.workflow as sm_workflow  # noqa: E402


class _Recorded(SystemExit):
    pass


def _build_dag_and_record(self) -> None:
    _build_dag(self)

    async def record() -> int:
        jobs = list(self.dag.jobs)
        for job in jobs:
            await self.persistence.finished(job)
        return len(jobs)

    n = self.async_run(record())
    print(f"record_metadata: wrote the finished-job records of {n} jobs", file=sys.stderr)
    raise _Recorded(0)


_build_dag = sm_workflow.Workflow._build_dag

if __name__ == "__main__":
    sm_workflow.Workflow._build_dag = _build_dag_and_record
    try:
        main(sys.argv[1:])
    except _Recorded:
        sys.exit(0)
