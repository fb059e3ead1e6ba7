"""Code fingerprints computed from the imports, not listed by hand.

A job's code fingerprint is the hash of the modules it runs: its stage module and plugin
module and every module inside ``synthrisk`` they import, transitively, found by a static scan
of the source (:func:`closure`; imports inside functions count too), plus the package data
files its plugin declares (e.g. prompt templates). The rules pass it as a ``params`` value, so
editing a module reruns exactly the jobs whose code imports it (Snakemake's own code trigger
sees only the rule and its script).

Rules of the scan: ``import synthrisk.a.b`` and ``from synthrisk.a import b`` (``b`` a
submodule) count the module ``synthrisk.a.b``; ``from synthrisk.a import name`` (not a module)
counts ``synthrisk.a``; relative imports are resolved; a registry target string
(``"synthrisk.attacks.dcr:score"``) counts its module, so a registry's users (the privacy
family runs every attack of ``attacks/__init__.py``) include the modules it loads. A parent package's ``__init__`` counts only where it is imported by name, not
because a submodule of it is: the registries (``generators/__init__.py``, ``metrics/__init__.py``)
are then not part of every plugin's fingerprint, and registering a new kind reruns nothing of
the others. The stage modules load their plugin by its registry target instead.
"""
from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

PACKAGE = "synthrisk"
_TARGET = re.compile(r"^synthrisk(\.[A-Za-z_]\w*)+:[A-Za-z_]\w*$")
_SCANS: dict[Path, tuple[int, frozenset[str]]] = {}


def package_root() -> Path:
    """The folder holding the ``synthrisk`` package (``src/``)."""
    return Path(__file__).resolve().parent.parent


def module_path(module: str, root: Path | None = None) -> Path | None:
    """The source file of a ``synthrisk`` module under ``root``, or None if there is none."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    base = Path(root or package_root()).joinpath(*module.split("."))
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def imports_of(module: str, root: Path | None = None) -> frozenset[str]:
    """The ``synthrisk`` modules one module imports (anywhere in its source), by static scan."""
    path = module_path(module, root)
    if path is None:
        raise ModuleNotFoundError(f"module {module!r} not found under {root or package_root()}")
    mtime = path.stat().st_mtime_ns
    cached = _SCANS.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for a in node.names:  # a submodule by its own name, else the module the name is from
                sub = f"{base}.{a.name}"
                found.add(sub if module_path(sub, root) is not None else base)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _TARGET.match(node.value):
            found.add(node.value.partition(":")[0])  # a registry target, "synthrisk.attacks.dcr:score"
    out = frozenset(m for m in found if module_path(m, root) is not None)
    _SCANS[path] = (mtime, out)
    return out


def closure(modules, root: Path | None = None) -> list[str]:
    """``modules`` and every ``synthrisk`` module they import, transitively, sorted."""
    seen: set[str] = set()
    todo = list(modules)
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(imports_of(m, root) - seen)
    return sorted(seen)


def fingerprint(*modules: str, files: tuple[str, ...] = (), root: Path | None = None) -> str:
    """Hash of the source of ``modules`` and their import closure, plus package data ``files``
    (paths relative to the package root's parent, e.g. ``synthrisk/resources/prompt_study.txt``)."""
    root = Path(root or package_root())
    h = hashlib.sha256()
    for m in closure(modules, root):
        p = module_path(m, root)
        h.update(m.encode() + b"\0" + p.read_bytes() + b"\0")
    for f in sorted(set(files)):
        p = root / f
        if not p.is_file():
            raise FileNotFoundError(f"declared resource file {f!r} not found under {root}")
        h.update(f.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]
