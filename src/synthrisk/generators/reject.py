"""``constraints_mode: reject``: a generic wrapper that keeps drawing from any generator until
enough rows hold every row constraint of the dataset (:mod:`synthrisk.constraints`).

The wrapped generator is fitted once; then :meth:`RejectSampler.sample` asks it for ``k`` rows at
a time (the generator's own sample stream), keeps the rows that hold every row constraint, in
the order drawn, and stops once ``k`` are kept. Statistical, fairness and downstream constraints
cannot be enforced row by row and are left to the metric family. After ``max_draws * k`` drawn
rows without ``k`` valid ones it gives up with an error that says how many were drawn and kept
and which constraint rejected most (the job fails with that reason, as any generator failure).
The sidecar's ``info.reject`` records the rows drawn, valid (holding every row constraint; the
first ``k`` are kept, the surplus of the last draw dropped) and rejected, and the rejections per
constraint (a row can break several). It is the baseline ProgSyn must beat on utility.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk import constraints as C

DEFAULT_MAX_DRAWS = 50


class RejectionError(RuntimeError):
    """Too few rows held the row constraints within the draw bound."""


class RejectSampler:
    def __init__(self, gen, schema, constraints: dict[str, str], max_draws: int = DEFAULT_MAX_DRAWS, name: str = ""):
        self.gen, self.schema, self.name = gen, schema, name
        self.rules = C.row_constraints(C.parse_all(constraints, schema.name, schema))
        self.max_draws = int(max_draws)
        self.stats: dict = {}

    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        k = int(k)
        kept, drawn, n_kept = [], 0, 0
        per = {c.name: 0 for c in self.rules}
        while n_kept < k:
            if drawn >= self.max_draws * k:
                worst = max(per, key=per.get) if per else None
                raise RejectionError(
                    f"constraints_mode reject: generator {self.name!r} gave {n_kept} of {k} rows that hold every row "
                    f"constraint of {self.schema.name!r} after drawing {drawn} rows (max_draws {self.max_draws} x {k}); "
                    f"most rejections by {worst!r} ({per.get(worst, 0)} rows)")
            raw = self.schema.conform(self.gen.sample(k, rng), who=f"generator {self.name!r} output")
            drawn += len(raw)
            ok = np.ones(len(raw), dtype=bool)
            for c in self.rules:
                h = C.holds(c, raw)
                per[c.name] += int((~h).sum())
                ok &= h
            kept.append(raw[ok])
            n_kept += int(ok.sum())
        out = pd.concat(kept, ignore_index=True).iloc[:k].reset_index(drop=True)
        self.stats = {"rows_drawn": drawn, "rows_valid": n_kept, "rows_kept": k, "rows_rejected": drawn - n_kept,
                      "rejected_by": per, "acceptance_rate": n_kept / drawn if drawn else None,
                      "row_constraints": [c.name for c in self.rules], "max_draws": self.max_draws}
        return out
