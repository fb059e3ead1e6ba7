"""Process identity for run ownership (Linux ``/proc``): a PID plus its start time names one
process for good (PIDs are reused, start times are not), and the Snakemake process a job runs
under is the *run* that owns it.

Used by the LLM servers (:mod:`synthrisk.llm.server`: a server records its run, stops only its
own process, dies with its run, and reaps servers of dead runs) and by every job
(:func:`die_with_run`: a job whose Snakemake process was killed exits instead of running on).
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def start_time(pid: int) -> int | None:
    """The start time of ``pid`` (clock ticks since boot), or None if there is no such process."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    if fields and fields[0] == "Z":  # a zombie is dead
        return None
    return int(fields[19]) if len(fields) > 19 else None


def identity(pid: int | None = None) -> dict | None:
    pid = os.getpid() if pid is None else int(pid)
    t = start_time(pid)
    return None if t is None else {"pid": pid, "start": t}


def same_process(ident: dict | None) -> bool:
    """True while the process ``{"pid", "start"}`` is alive (and is still that process)."""
    if not ident or not ident.get("pid"):
        return False
    t = start_time(int(ident["pid"]))
    return t is not None and (ident.get("start") is None or t == int(ident["start"]))


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _ppid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def run_owner(fallback_parent: bool = True) -> dict | None:
    """Identity of the Snakemake process this process runs under: the nearest ancestor whose
    command line runs snakemake (a local run's main process, or the job step on a cluster node);
    when there is none, the parent (``fallback_parent``) or None."""
    pid = os.getppid()
    first = pid
    while pid and pid > 1:
        argv = _cmdline(pid)
        if any(os.path.basename(a) == "snakemake" or a == "snakemake" for a in argv[:3]) or \
                ("-m" in argv[:3] and "snakemake" in argv[:4]):
            return identity(pid)
        pid = _ppid(pid)
    return identity(first) if fallback_parent else None


def die_with_run(owner: dict | None = None, interval: float = 1.0, on_death=None) -> threading.Thread | None:
    """Start a daemon thread that ends this process (``on_death()``, default exit code 70) once
    the run ``owner`` (default :func:`run_owner`) is gone, e.g. after ``kill -9`` of Snakemake.
    Returns the thread, or None when there is no owner to watch."""
    owner = owner or run_owner()
    if not owner:
        return None

    def watch():
        while same_process(owner):
            time.sleep(interval)
        if on_death is not None:
            on_death()
        else:
            import sys

            sys.__stderr__.write(f"synthrisk: the run (pid {owner['pid']}) is gone; this job exits\n")
            sys.__stderr__.flush()
            os._exit(70)

    t = threading.Thread(target=watch, name="die-with-run", daemon=True)
    t.start()
    return t
