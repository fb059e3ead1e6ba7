"""Scale benchmark of the Snakemake DAG at study size (issue 8): dry-run time, no-op rerun time and
the number of Slurm submissions after grouping.

    .venv/bin/python bench/bench_dag.py [--seeds 10] [--noop] [--out bench/bench_dag_10seeds.json] [--profile-dag]

The config is config/study.yaml (35 OpenML-CTR23 tables, its generators and the LLaMA mitigation
factorial) with ``seeds`` 0..9. A dry run loads no data, so the OpenML tables are never fetched.
What is measured (wall clock, this machine, one run each after one warm-up parse):

* ``dry_run_s``: ``snakemake -n`` on an empty results/ (every job planned).
* ``noop_s``: ``snakemake -n`` after every planned output (a job's output is a cell's manifest,
  :mod:`synthrisk.cells`) and every item file the cells list was created empty, input-first, so that
  mtimes are consistent (the plan stats the items of every finished cell), and the metadata records a real run leaves (code, params, input
  checksums) were written by Snakemake's own ``persistence.finished`` for every job
  (bench/record_metadata.py; ``touch_s`` is its time): a simulated finished run ("Nothing to be
  done"), with ``--noop``.
* ``submissions``: what the Slurm executor would submit with profiles/slurm: one sbatch per
  ungrouped job plus one per group job (dry-run output with ``--profile profiles/slurm``).
* ``--profile-dag``: also cProfile the dry run and print the top functions (where the time goes).
Results go to bench/bench_dag_<seeds>seeds.json.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def python_of_snakemake() -> str:
    """The interpreter of the snakemake script (its shebang): the llm_server rule records the
    running interpreter in its params, so the metadata must be written by the same path."""
    return SNAKEMAKE.read_text().splitlines()[0].removeprefix("#!").strip()


def study_config(seeds: int) -> dict:
    cfg = yaml.safe_load((REPO / "config" / "study.yaml").read_text())
    cfg["splits"]["seeds"] = list(range(seeds))
    return cfg


def plan_env(wd: Path) -> dict:
    """The environment a dry run of the study config needs to plan every generator here: random
    stand-in TabPFN weights (the plan checks that weights exist) and a placeholder API key for the
    OpenAI entry (checked for presence only; a dry run sends no request). Nothing is written to
    the config, and the key is never written anywhere."""
    weights = wd / "tabpfn-standin"
    if not weights.exists():
        subprocess.run([sys.executable, "-m", "synthrisk.generators.tabpfn_ckpt", str(weights)], check=True,
                       capture_output=True)
    return {**os.environ, "TABPFN_MODEL_CACHE_DIR": str(weights),
            "OPENAI_API_KEY": os.environ.get("OPENAI_API_KEY", "placeholder-for-a-dry-run")}


def snakemake(wd: Path, *args: str, timeout: int = 1800, runner: list[str] | None = None) -> tuple[float, str]:
    cmd = [*(runner or [str(SNAKEMAKE)]), "-s", str(REPO / "Snakefile"), "--directory", str(wd), "--configfile",
           str(wd / "study.yaml"), "--profile", str(REPO / "profiles" / "slurm"),
           "--workflow-profile", "none", "--nolock", *args]
    t0 = time.perf_counter()
    r = subprocess.run(["timeout", "-s", "KILL", str(timeout), *cmd], capture_output=True, text=True, cwd=wd,
                       env=plan_env(wd))
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"snakemake failed ({r.returncode}):\n{(r.stdout + r.stderr)[-4000:]}")
    return dt, r.stdout + r.stderr


def job_stats(out: str) -> dict[str, int]:
    block = out.split("Job stats:", 1)[1]
    stats = {}
    for line in block.splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        stats[parts[0]] = int(parts[1])
    return stats


def submissions(out: str) -> dict:
    """sbatch calls of the planned run: one per group job (the dry run prints a 'Group job <id>
    (jobs in lexicogr. order):' header, its member jobs indented below it) plus one per job
    outside any group (a 'rule <name>:' line at the start of a line)."""
    headers = re.findall(r"Group job \S+ \(jobs in lexicogr", out)
    members = re.findall(r"^    rule (\w+):$", out, flags=re.M)
    # `all` has no body: Snakemake finishes it in the main process, nothing is submitted
    single = [r for r in re.findall(r"^rule (\w+):$", out, flags=re.M) if r != "all"]  # localrules print "localrule"
    per_rule: dict[str, int] = {}
    for r in single:
        per_rule[r] = per_rule.get(r, 0) + 1
    return {"group_jobs": len(headers), "jobs_in_groups": len(members), "ungrouped_jobs": len(single),
            "ungrouped_by_rule": per_rule, "sbatch_calls": len(headers) + len(single)}


def outputs(out: str) -> list[list[str]]:
    """Planned outputs per job, in the order the dry run prints them."""
    return [m.split(", ") for m in re.findall(r"^\s*output: (.+)$", out, flags=re.M)]


def cell_items(seeds: int) -> list[str]:
    """Every item file of every cell of the study config (synthrisk.plan.Plan.cell_items)."""
    sys.path.insert(0, str(REPO / "src"))
    from synthrisk.plan import Plan

    return [f for files in Plan.from_config(study_config(seeds), check_available=False).cell_items().values()
            for f in files]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--out", default=None, help="default bench/bench_dag_<seeds>seeds.json")
    ap.add_argument("--profile-dag", action="store_true", help="cProfile one dry run, print the top 25")
    ap.add_argument("--noop", action="store_true", help="also the no-op rerun (its --touch step: > 20 min at 10 seeds)")
    a = ap.parse_args()
    a.out = a.out or str(REPO / "bench" / f"bench_dag_{a.seeds}seeds.json")

    with tempfile.TemporaryDirectory(prefix="bench_dag_") as tmp:
        wd = Path(tmp)
        (wd / "study.yaml").write_text(yaml.safe_dump(study_config(a.seeds), sort_keys=False))
        snakemake(wd, "-n", "--quiet", "all")  # warm-up: imports, .pyc files
        quiet_s, _ = snakemake(wd, "-n", "-q")
        dry_s, out = snakemake(wd, "-n")
        stats = job_stats(out)
        subs = submissions(out)
        print(f"dry run: {dry_s:.1f} s, {stats.get('total')} jobs, {subs}", flush=True)

        files, touch_s, noop_s, nothing = [], None, None, None
        if not a.noop:
            print("no-op rerun skipped (use --noop)")
        # simulate a finished run: create every output, oldest first (data before splits before ...)
        order = ["results/data/", "results/splits/", "results/llm/", "results/synthetic/", "results/metrics/",
                 "results/reference/", "results/tables/", "results/figures/"]
        files = [] if not a.noop else sorted({f for job in outputs(out) for f in job} | set(cell_items(a.seeds)),
                       key=lambda f: next((i for i, p in enumerate(order) if f.startswith(p)), len(order)))
        # dated just before now, after any edit of the workflow's scripts (an output older than its
        # rule's script is 'Code has changed' to Snakemake)
        t0 = time.time() - 60 * (len(order) + 1)
        for i, f in enumerate(files):
            p = wd / f
            p.parent.mkdir(parents=True, exist_ok=True)
            p.touch()
            rank = next((k for k, pre in enumerate(order) if f.startswith(pre)), len(order))
            os.utime(p, (t0 + 60 * rank, t0 + 60 * rank))
        if a.noop:
            # record Snakemake's metadata (code, params, input checksums) as a real run would, with
            # Snakemake's own persistence.finished() per job (bench/record_metadata.py): `--touch`
            # does the same through the scheduler and ran > 20 min at 10 seeds
            touch_s, _ = snakemake(wd, "--executor", "local", "--cores", "1", "--quiet", "all", timeout=7200,
                                   runner=[python_of_snakemake(), str(REPO / "bench" / "record_metadata.py")])
            noop_s, out2 = snakemake(wd, "-n")
            nothing = "Nothing to be done" in out2
            if not nothing:
                reasons = sorted({r.split(":")[0] for r in re.findall(r"reason: (.+)", out2)})
                print(f"no-op rerun still plans {job_stats(out2).get('total')} jobs; reasons: {reasons}")
            print(f"no-op rerun (dry run over {len(files)} existing files, cell items included): {noop_s:.1f} s, nothing to do: {nothing}")

        prof = None
        if a.profile_dag:
            pstats = wd / "dag.prof"
            cmd = [sys.executable, "-m", "cProfile", "-o", str(pstats), str(SNAKEMAKE), "-s", str(REPO / "Snakefile"),
                   "--directory", str(wd / "p"), "--configfile", str(wd / "study.yaml"), "--profile",
                   str(REPO / "profiles" / "slurm"), "--workflow-profile", "none", "--nolock", "-n", "--quiet", "all"]
            (wd / "p").mkdir()
            subprocess.run(cmd, capture_output=True, text=True, check=True, env=plan_env(wd))
            import io
            import pstats as ps

            buf = io.StringIO()
            ps.Stats(str(pstats), stream=buf).sort_stats("cumulative").print_stats(25)
            prof = buf.getvalue()
            print(prof)

    result = {"seeds": a.seeds, "jobs": stats, "dry_run_s": round(dry_s, 1), "dry_run_quiet_s": round(quiet_s, 1), "noop_rerun_s": noop_s and round(noop_s, 1),
              "noop_nothing_to_do": nothing, "touch_s": touch_s and round(touch_s, 1), "outputs": len(files), **subs,
              "machine": f"{os.cpu_count()} CPUs", "note": "one run each; no-op = dry run over touched outputs"}
    Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
