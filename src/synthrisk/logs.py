"""Logging for workflow jobs: everything (our logger, library warnings, tqdm bars) goes to the
job's log file given by Snakemake, so a failed job's log says why. A job also ends when the
Snakemake process it runs under is gone (``kill -9`` of a run leaves no orphan jobs)."""
from __future__ import annotations

import contextlib
import logging
import sys
import warnings


@contextlib.contextmanager
def job_logging(path: str | None):
    """Send the root logger, warnings and stderr (tqdm progress) to ``path`` for the block."""
    from synthrisk.procs import die_with_run, run_owner

    die_with_run(run_owner(fallback_parent=False))  # a job whose Snakemake was killed exits
    if not path:
        yield
        return
    with open(path, "a", buffering=1) as fh:
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        warnings.simplefilter("default")
        try:
            with contextlib.redirect_stderr(fh):
                yield
        except BaseException:
            logging.getLogger("synthrisk").exception("job failed")
            raise
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            logging.captureWarnings(False)
            sys.stderr.flush()
