"""LLM servers are owned by their run (issue 13, case 2), on real processes (``sleep`` stands in
for the server process; the llama.cpp path is tests/test_llm_kill_resume.py):

* stopping an instance terminates only its own process and leaves a newer run's server file;
* a PID whose start time differs from the recorded one (a reused PID) is never signalled;
* the next start reaps servers whose run is dead and leaves live runs' servers alone;
* a job dies with its run (the watchdog every job and every ``serve`` runs).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from synthrisk import procs
from synthrisk.llm import server


@pytest.fixture
def sleeper():
    started = []

    def make():
        p = subprocess.Popen(["sleep", "300"])
        started.append(p)
        return p

    yield make
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait()


def dead_identity() -> dict:
    p = subprocess.Popen(["sleep", "0.2"])
    ident = procs.identity(p.pid)
    p.wait()
    assert ident and not procs.same_process(ident)
    return ident


def instance(proc, launcher) -> dict:
    return {"pid": proc.pid, "server_start": procs.start_time(proc.pid), "launcher": launcher,
            "owner": launcher, "base_url": "http://127.0.0.1:9/v1"}


def test_stop_touches_only_its_own_process_and_file(tmp_path, sleeper):
    out = tmp_path / "srv.json"
    old_srv, new_srv = sleeper(), sleeper()
    old = instance(old_srv, dead_identity())  # the orphan of a killed run
    new = instance(new_srv, procs.identity())  # the next run's server, now in the shared file
    out.write_text(json.dumps(new))
    assert server.stop_own(out, old, grace=2) is True
    assert old_srv.wait(timeout=5) is not None
    assert new_srv.poll() is None, "the orphan's stop killed the new run's server"
    assert json.loads(out.read_text())["pid"] == new_srv.pid, "the orphan's stop removed the new run's file"


def test_a_reused_pid_is_never_signalled(tmp_path, sleeper):
    out = tmp_path / "srv.json"
    other = sleeper()  # a process that happens to have the recorded PID, started at another time
    rec = instance(other, procs.identity())
    rec["server_start"] = procs.start_time(other.pid) - 1
    out.write_text(json.dumps(rec))
    assert server.stop(out) is False
    time.sleep(0.3)
    assert other.poll() is None


def test_next_start_reaps_servers_of_dead_runs_only(tmp_path, sleeper):
    runs = tmp_path / server.RUNS_DIR
    runs.mkdir()
    stale, live = sleeper(), sleeper()
    dead = dead_identity()
    (runs / "a.1-1.json").write_text(json.dumps({**instance(stale, dead), "server_file": str(tmp_path / "a.json")}))
    (tmp_path / "a.json").write_text(json.dumps(instance(stale, dead)))
    (runs / "b.2-2.json").write_text(json.dumps({**instance(live, procs.identity()), "server_file": str(tmp_path / "b.json")}))
    reaped = server.reap_stale(tmp_path, grace=2)
    assert [r["pid"] for r in reaped] == [stale.pid]
    assert stale.wait(timeout=5) is not None and live.poll() is None
    assert not (runs / "a.1-1.json").exists() and not (tmp_path / "a.json").exists()
    assert (runs / "b.2-2.json").exists()


def test_a_job_dies_with_its_run(sleeper):
    run = sleeper()  # stands in for the Snakemake process
    code = ("import time; from synthrisk import procs; "
            f"procs.die_with_run({{'pid': {run.pid}, 'start': {procs.start_time(run.pid)}}}, interval=0.2); "
            "time.sleep(60)")
    job = subprocess.Popen([sys.executable, "-c", code])
    time.sleep(1.0)
    assert job.poll() is None
    run.kill()
    run.wait()
    t0 = time.monotonic()
    assert job.wait(timeout=10) == 70
    assert time.monotonic() - t0 < 3
