"""Declarative constraints on a table (after CuTS / ProgSyn, arXiv 2307.03577): a small safe language.

A dataset entry may declare ``constraints:`` (a list of strings, or a mapping name -> string).
Each string is untrusted input: it is read by the hand-written tokenizer and recursive-descent
parser below into this module's own node classes, and evaluated by walking those nodes over
numpy arrays. Nothing here calls ``eval``, ``exec``, ``compile`` or ``getattr`` on config text;
a name is only ever looked up as a column of the table, a function only in :data:`STATS`.

Grammar (keywords lower case; a column whose name is not a plain identifier is written in
backticks, `` `my col` ``)::

    constraint  := stat_cmp | implication
    stat_cmp    := stat ("<=" | "<" | ">=" | ">") NUMBER
                 | stat "within" NUMBER ["%"] "of" "real"
    stat        := mean(COL) | std(COL) | quantile(COL, Q) | share(implication) | corr(COL, COL)
                 | parity(COL [, LEVEL])            -- fairness: demographic parity of the target
                 | auc(COL)                         -- downstream: train on synthetic, test on real
    implication := "if" or_expr "then" or_expr | or_expr
    or_expr     := and_expr ("or" and_expr)*
    and_expr    := not_expr ("and" not_expr)*
    not_expr    := "not" not_expr | comparison
    comparison  := arith [("==" | "!=" | "<=" | "<" | ">=" | ">") arith]
                 | arith ["not"] "in" "[" const ("," const)* "]"
    arith       := term (("+" | "-") term)*
    term        := unary (("*" | "/") unary)*
    unary       := "-" unary | NUMBER | STRING | COL | "(" implication ")"

Kinds: a constraint without a statistic is a *row* constraint (each row must hold it);
``mean/std/quantile/share/corr`` make a *statistical* one, ``parity`` a *fairness* one (the gap
between the highest and lowest rate of the target class, or of every class for the largest,
across the groups of a categorical column), ``auc`` a *downstream* one (a logistic regression
trained on the synthetic rows predicting COL, scored by ROC AUC on the real test rows; ``>=`` for
utility, ``<=`` for a protected column). ``within T of real``: |value - value on the real seed
rows| <= T (``T%``: T percent of |real value|).

:func:`parse` checks syntax only; :func:`check` also checks the names, levels and types against
a :class:`~synthrisk.schema.TableSchema` (the plan does at plan time, before any job).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthrisk.params import ConfigError


class ConstraintError(ConfigError):
    """A constraint that does not parse or does not fit its table; the message names both."""


# ------------------------------------------------------------------------------------ tokens
KEYWORDS = {"and", "or", "not", "if", "then", "in", "within", "of", "real"}
#: statistic -> (kind, argument pattern): C a column, Q a number in [0, 1], L a level string, P a row predicate
STATS = {
    "mean": ("statistical", "C"), "std": ("statistical", "C"), "quantile": ("statistical", "CQ"),
    "share": ("statistical", "P"), "corr": ("statistical", "CC"),
    "parity": ("fairness", "C", "CL"), "auc": ("downstream", "C"),
}
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<col>`[^`]+`)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,|%)
""", re.VERBOSE)
MAX_LENGTH = 2000


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, col, name, kw, op, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    if not isinstance(text, str):
        raise ValueError(f"a constraint must be a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"longer than {MAX_LENGTH} characters")
    out, i = [], 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if not m:
            raise ValueError(f"unexpected character {text[i]!r} at position {i}")
        kind = m.lastgroup
        tok = m.group(0)
        if kind == "name":
            if tok.startswith("__") or tok.endswith("__"):
                raise ValueError(f"name {tok!r} at position {i} is not allowed (dunder names are never looked up)")
            if tok in KEYWORDS:
                kind = "kw"
        if kind != "ws":
            out.append(Token(kind, tok, i))
        i = m.end()
    out.append(Token("end", "", len(text)))
    return out


# ------------------------------------------------------------------------------------- nodes
@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Col:
    name: str


@dataclass(frozen=True)
class Neg:
    x: object


@dataclass(frozen=True)
class Arith:
    op: str  # + - * /
    left: object
    right: object


@dataclass(frozen=True)
class Cmp:
    op: str  # == != <= < >= >
    left: object
    right: object


@dataclass(frozen=True)
class In:
    x: object
    values: tuple
    negate: bool = False


@dataclass(frozen=True)
class And:
    left: object
    right: object


@dataclass(frozen=True)
class Or:
    left: object
    right: object


@dataclass(frozen=True)
class Not:
    x: object


@dataclass(frozen=True)
class Implies:
    premise: object
    conclusion: object


@dataclass(frozen=True)
class Stat:
    fn: str
    args: tuple  # Col / Num / Str / a row-predicate node


@dataclass
class Constraint:
    """One parsed constraint. ``kind``: row, statistical, fairness or downstream. For a row
    constraint ``expr`` is the predicate; otherwise ``stat`` with either ``op`` and ``bound``
    or ``tolerance`` (absolute, or ``relative`` percent) of the real value."""

    name: str
    text: str
    kind: str
    expr: object = None
    stat: Stat | None = None
    op: str | None = None
    bound: float | None = None
    tolerance: float | None = None
    relative: bool = False
    columns: list[str] = field(default_factory=list)

    @property
    def against_real(self) -> bool:
        return self.tolerance is not None

    def target_text(self, real: float | None = None) -> str:
        if self.against_real:
            tol = f"{self.tolerance:g}%" if self.relative else f"{self.tolerance:g}"
            return f"within {tol} of real" + ("" if real is None else f" ({real:.4g})")
        return f"{self.op} {self.bound:g}"


class _Parser:
    def __init__(self, text: str):
        self.toks = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def next(self) -> Token:
        t = self.toks[self.i]
        self.i += 1
        return t

    def at(self, kind: str, text: str | None = None) -> bool:
        t = self.tok
        return t.kind == kind and (text is None or t.text == text)

    def expect(self, kind: str, text: str | None = None) -> Token:
        if not self.at(kind, text):
            want = repr(text) if text else kind
            got = repr(self.tok.text) if self.tok.kind != "end" else "the end"
            raise ValueError(f"expected {want} at position {self.tok.pos}, found {got}")
        return self.next()

    def error(self, what: str):
        got = repr(self.tok.text) if self.tok.kind != "end" else "the end"
        raise ValueError(f"{what} at position {self.tok.pos}, found {got}")

    # constraint := stat_cmp | implication
    def constraint(self, name: str, text: str) -> Constraint:
        if self.at("name") and self.tok.text in STATS and self.toks[self.i + 1].text == "(":
            stat = self.stat()
            kind = STATS[stat.fn][0]
            if self.at("kw", "within"):
                self.next()
                tol = float(self.expect("num").text)
                rel = False
                if self.at("op", "%"):
                    self.next()
                    rel = True
                self.expect("kw", "of")
                self.expect("kw", "real")
                if kind != "statistical":
                    raise ValueError(f"{stat.fn}(...) compares with a number (e.g. {stat.fn}(...) <= 0.1), "
                                     f"not 'within ... of real'")
                c = Constraint(name, text, kind, stat=stat, tolerance=tol, relative=rel)
            elif self.at("op") and self.tok.text in ("<=", "<", ">=", ">"):
                op = self.next().text
                sign = -1.0 if self.at("op", "-") else 1.0
                if sign < 0:
                    self.next()
                c = Constraint(name, text, kind, stat=stat, op=op, bound=sign * float(self.expect("num").text))
                if kind == "fairness" and op not in ("<=", "<"):
                    raise ValueError("a parity gap is bounded from above: parity(...) <= δ")
            else:
                self.error("a statistic must be compared with a number (<=, <, >=, >) or be 'within T[%] of real'")
            self.expect("end")
            return c
        expr = self.implication()
        self.expect("end")
        return Constraint(name, text, "row", expr=expr)

    def stat(self) -> Stat:
        fn = self.next().text
        self.expect("op", "(")
        spec = STATS[fn][1:]
        args = []
        if spec == ("P",):
            args.append(self.implication())
        else:
            while True:
                if self.at("col") or (self.at("name") and self.tok.text not in STATS):
                    args.append(Col(self._colname(self.next())))
                elif self.at("num"):
                    args.append(Num(float(self.next().text)))
                elif self.at("str"):
                    args.append(Str(_unquote(self.next().text)))
                else:
                    self.error(f"{fn}(...) takes column names, numbers or strings")
                if not self.at("op", ","):
                    break
                self.next()
            shape = "".join("C" if isinstance(a, Col) else "Q" if isinstance(a, Num) else "L" for a in args)
            if shape not in spec:
                forms = {"C": "column", "Q": "number in [0, 1]", "L": "level string"}
                allowed = " or ".join(f"{fn}({', '.join(forms[x] for x in s)})" for s in spec)
                raise ValueError(f"{fn} takes {allowed}")
            if fn == "quantile" and not 0.0 <= args[1].value <= 1.0:
                raise ValueError(f"quantile level {args[1].value:g} is not in [0, 1]")
        self.expect("op", ")")
        return Stat(fn, tuple(args))

    def implication(self):
        if self.at("kw", "if"):
            self.next()
            premise = self.or_expr()
            self.expect("kw", "then")
            return Implies(premise, self.or_expr())
        return self.or_expr()

    def or_expr(self):
        x = self.and_expr()
        while self.at("kw", "or"):
            self.next()
            x = Or(x, self.and_expr())
        return x

    def and_expr(self):
        x = self.not_expr()
        while self.at("kw", "and"):
            self.next()
            x = And(x, self.not_expr())
        return x

    def not_expr(self):
        if self.at("kw", "not"):
            self.next()
            return Not(self.not_expr())
        return self.comparison()

    def comparison(self):
        x = self.arith()
        if self.at("op") and self.tok.text in ("==", "!=", "<=", "<", ">=", ">"):
            op = self.next().text
            return Cmp(op, x, self.arith())
        negate = False
        if self.at("kw", "not") and self.toks[self.i + 1].text == "in":
            self.next()
            negate = True
        if self.at("kw", "in"):
            self.next()
            self.expect("op", "[")
            values = [self.const()]
            while self.at("op", ","):
                self.next()
                values.append(self.const())
            self.expect("op", "]")
            return In(x, tuple(values), negate)
        return x

    def const(self):
        if self.at("str"):
            return Str(_unquote(self.next().text))
        sign = 1.0
        if self.at("op", "-"):
            self.next()
            sign = -1.0
        if self.at("num"):
            return Num(sign * float(self.next().text))
        self.error("expected a number or a string in the list")

    def arith(self):
        x = self.term()
        while self.at("op") and self.tok.text in ("+", "-"):
            op = self.next().text
            x = Arith(op, x, self.term())
        return x

    def term(self):
        x = self.unary()
        while self.at("op") and self.tok.text in ("*", "/"):
            op = self.next().text
            x = Arith(op, x, self.unary())
        return x

    def unary(self):
        if self.at("op", "-"):
            self.next()
            return Neg(self.unary())
        if self.at("num"):
            return Num(float(self.next().text))
        if self.at("str"):
            return Str(_unquote(self.next().text))
        if self.at("col"):
            return Col(self._colname(self.next()))
        if self.at("name"):
            t = self.next()
            if self.at("op", "("):
                if t.text in STATS:
                    raise ValueError(f"statistic {t.text}(...) at position {t.pos} can only be compared at the top "
                                     f"level (e.g. {t.text}(...) <= 1), not inside a row expression")
                raise ValueError(f"unknown function {t.text!r} at position {t.pos}; known: {', '.join(STATS)}")
            return Col(t.text)
        if self.at("op", "("):
            self.next()
            x = self.implication()
            self.expect("op", ")")
            return x
        self.error("expected a column, a number, a string or '('")

    @staticmethod
    def _colname(t: Token) -> str:
        return t.text[1:-1] if t.kind == "col" else t.text


def _unquote(s: str) -> str:
    body = s[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _where(dataset: str, name: str, text) -> str:
    return f"datasets.{dataset}.constraints.{name} ({text!r})"


def parse(text: str, *, name: str = "c1", dataset: str = "?") -> Constraint:
    """Parse one constraint (syntax only). Raises :class:`ConstraintError` naming the dataset,
    the constraint and the position of the problem."""
    try:
        c = _Parser(text).constraint(name, text)
    except ValueError as e:
        raise ConstraintError(f"{_where(dataset, name, text)}: {e}") from None
    c.columns = sorted(_columns(c.expr if c.kind == "row" else c.stat))
    return c


def declared(spec) -> dict[str, str]:
    """A dataset's ``constraints:`` (a list of strings, or name -> string) as name -> text; list
    entries are named c1, c2, ..."""
    if spec is None:
        return {}
    if isinstance(spec, dict):
        return {str(k): v for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return {f"c{i + 1}": v for i, v in enumerate(spec)}
    raise ConstraintError(f"constraints must be a list of strings or a mapping name -> string, not {type(spec).__name__}")


def parse_all(spec, dataset: str, schema=None) -> list[Constraint]:
    """Every constraint of one dataset, parsed and (with a ``schema``) checked against it."""
    out = []
    for name, text in declared(spec).items():
        c = parse(text, name=name, dataset=dataset)
        if schema is not None:
            check(c, schema, dataset)
        out.append(c)
    return out


def _columns(node) -> set[str]:
    if isinstance(node, Col):
        return {node.name}
    out = set()
    for v in getattr(node, "__dict__", {}).values() if not isinstance(node, (Num, Str)) else ():
        if isinstance(v, tuple):
            for x in v:
                out |= _columns(x)
        elif v is not None and not isinstance(v, (str, bool, float)):
            out |= _columns(v)
    return out


# ------------------------------------------------------------------------------- type checks
NUM, CAT, BOOL, STR = "number", "categorical", "boolean", "string"


def check(c: Constraint, schema, dataset: str) -> None:
    """Names, levels and types of ``c`` against ``schema``; a :class:`ConstraintError` names the
    dataset, the constraint and the unknown column or level."""
    where = _where(dataset, c.name, c.text)
    unknown = [col for col in c.columns if col not in schema.names]
    if unknown:
        raise ConstraintError(f"{where}: unknown column(s) {unknown}; columns of {dataset!r}: {schema.names}")
    try:
        if c.kind == "row":
            if _type(c.expr, schema) != BOOL:
                raise ValueError("a row constraint must be a condition (a comparison, 'in', and/or/not, if/then)")
            return
        s = c.stat
        a = s.args
        if s.fn in ("mean", "std", "quantile"):
            _numerical(a[0].name, schema, s.fn)
        elif s.fn == "corr":
            _numerical(a[0].name, schema, s.fn)
            _numerical(a[1].name, schema, s.fn)
        elif s.fn == "share":
            if _type(a[0], schema) != BOOL:
                raise ValueError("share(...) takes a condition, e.g. share(sex == \"Female\")")
        elif s.fn == "parity":
            _categorical(a[0].name, schema, "parity")
            if a[0].name == schema.target:
                raise ValueError(f"parity is of the target {schema.target!r} across another column, not itself")
            if len(a) > 1 and a[1].value not in schema.target_levels:
                raise ValueError(f"unknown level {a[1].value!r} of the target {schema.target!r}; "
                                 f"levels: {list(schema.target_levels)}")
        elif s.fn == "auc":
            _categorical(a[0].name, schema, "auc")
            if c.op not in ("<=", "<", ">=", ">") or not 0.0 <= c.bound <= 1.0:
                raise ValueError("auc(...) is compared with a number in [0, 1]")
    except ValueError as e:
        raise ConstraintError(f"{where}: {e}") from None


def _numerical(col: str, schema, fn: str):
    if not schema.column(col).is_numerical:
        raise ValueError(f"{fn}({col}): column {col!r} is categorical; {fn} needs a numerical column")


def _categorical(col: str, schema, fn: str):
    if not schema.column(col).is_categorical:
        raise ValueError(f"{fn}({col}): column {col!r} is numerical; {fn} needs a categorical column")


def _type(node, schema) -> str:
    if isinstance(node, Num):
        return NUM
    if isinstance(node, Str):
        return STR
    if isinstance(node, Col):
        return NUM if schema.column(node.name).is_numerical else CAT
    if isinstance(node, Neg):
        if _type(node.x, schema) != NUM:
            raise ValueError("'-' applies to numbers only")
        return NUM
    if isinstance(node, Arith):
        for side in (node.left, node.right):
            if _type(side, schema) != NUM:
                raise ValueError(f"{_show(side)} is not numerical: arithmetic ('{node.op}') needs numbers")
        return NUM
    if isinstance(node, Cmp):
        lt, rt = _type(node.left, schema), _type(node.right, schema)
        if NUM in (lt, rt):
            if lt != NUM or rt != NUM:
                raise ValueError(f"{_show(node.left)} {node.op} {_show(node.right)} compares a number with a "
                                 f"non-number")
            return BOOL
        if BOOL in (lt, rt):
            raise ValueError(f"{node.op} compares values, not conditions (use and/or/not, if/then)")
        if node.op not in ("==", "!="):
            raise ValueError(f"{_show(node.left)} {node.op} {_show(node.right)}: categorical values are compared "
                             f"with == or != only")
        if CAT not in (lt, rt):
            raise ValueError(f"{_show(node.left)} {node.op} {_show(node.right)} compares two constants")
        for col, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(col, Col) and isinstance(other, Str):
                _level(col.name, other.value, schema)
            if isinstance(col, Col) and isinstance(other, Col):
                pass
        return BOOL
    if isinstance(node, In):
        t = _type(node.x, schema)
        for v in node.values:
            if t == NUM and not isinstance(v, Num):
                raise ValueError(f"{_show(node.x)} is numerical; its 'in' list must hold numbers")
            if t == CAT:
                if not isinstance(v, Str):
                    raise ValueError(f"{_show(node.x)} is categorical; its 'in' list must hold strings (levels)")
                if isinstance(node.x, Col):
                    _level(node.x.name, v.value, schema)
        if t not in (NUM, CAT):
            raise ValueError("'in' applies to a column or a number")
        return BOOL
    if isinstance(node, (And, Or, Implies)):
        for side in (node.left, node.right) if not isinstance(node, Implies) else (node.premise, node.conclusion):
            if _type(side, schema) != BOOL:
                raise ValueError(f"{_show(side)} is not a condition (and/or/if-then join conditions)")
        return BOOL
    if isinstance(node, Not):
        if _type(node.x, schema) != BOOL:
            raise ValueError("'not' applies to a condition")
        return BOOL
    raise ValueError(f"unexpected node {type(node).__name__}")


def _level(col: str, level: str, schema):
    levels = schema.column(col).levels
    if level not in levels:
        raise ValueError(f"unknown level {level!r} of column {col!r}; levels: {list(levels)}")


def _show(node) -> str:
    if isinstance(node, Col):
        return node.name
    if isinstance(node, Num):
        return f"{node.value:g}"
    if isinstance(node, Str):
        return repr(node.value)
    return type(node).__name__.lower()


# ---------------------------------------------------------------------------- hard evaluation
def values(node, df: pd.DataFrame) -> np.ndarray:
    """The node evaluated on every row of ``df`` (numbers as float, conditions as bool, columns
    and strings as object arrays). Walks the nodes; looks names up as columns of ``df`` only."""
    n = len(df)
    if isinstance(node, Num):
        return np.full(n, node.value, dtype=float)
    if isinstance(node, Str):
        return np.full(n, node.value, dtype=object)
    if isinstance(node, Col):
        s = df[node.name]
        return s.to_numpy(dtype=float) if pd.api.types.is_numeric_dtype(s) else s.astype(str).to_numpy(dtype=object)
    if isinstance(node, Neg):
        return -values(node.x, df)
    if isinstance(node, Arith):
        a, b = values(node.left, df), values(node.right, df)
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[node.op](a, b)
    if isinstance(node, Cmp):
        a, b = values(node.left, df), values(node.right, df)
        ops = {"==": np.equal, "!=": np.not_equal, "<=": np.less_equal, "<": np.less,
               ">=": np.greater_equal, ">": np.greater}
        with np.errstate(invalid="ignore"):
            return np.asarray(ops[node.op](a, b), dtype=bool)
    if isinstance(node, In):
        x = values(node.x, df)
        hit = np.zeros(n, dtype=bool)
        for v in node.values:
            hit |= np.asarray(x == v.value, dtype=bool)
        return ~hit if node.negate else hit
    if isinstance(node, And):
        return values(node.left, df) & values(node.right, df)
    if isinstance(node, Or):
        return values(node.left, df) | values(node.right, df)
    if isinstance(node, Not):
        return ~values(node.x, df)
    if isinstance(node, Implies):
        return ~values(node.premise, df) | values(node.conclusion, df)
    raise TypeError(f"cannot evaluate {type(node).__name__} per row")


def holds(c: Constraint, df: pd.DataFrame) -> np.ndarray:
    """Per row: whether row constraint ``c`` holds."""
    if c.kind != "row":
        raise TypeError(f"constraint {c.name!r} is {c.kind}, not a row constraint")
    return values(c.expr, df)


def statistic(c: Constraint, df: pd.DataFrame, schema=None) -> float:
    """The statistic of a statistical or fairness constraint on ``df`` (NaN where undefined)."""
    s = c.stat
    a = s.args
    if len(df) == 0:
        return float("nan")
    if s.fn == "mean":
        return float(np.mean(values(a[0], df)))
    if s.fn == "std":
        return float(np.std(values(a[0], df), ddof=1)) if len(df) > 1 else float("nan")
    if s.fn == "quantile":
        return float(np.quantile(values(a[0], df), a[1].value))
    if s.fn == "share":
        return float(np.mean(values(a[0], df)))
    if s.fn == "corr":
        x, y = values(a[0], df), values(a[1], df)
        if np.std(x) == 0 or np.std(y) == 0:
            return float("nan")
        return float(np.corrcoef(x, y)[0, 1])
    if s.fn == "parity":
        return parity_gap(df, schema.target, a[0].name, a[1].value if len(a) > 1 else None, schema.target_levels)
    raise TypeError(f"{s.fn} is not a table statistic")


def parity_gap(df: pd.DataFrame, target: str, group: str, level: str | None, levels) -> float:
    """max over groups minus min over groups of P(target == level | group); ``level`` None: the
    largest such gap over the target's levels. Groups absent from ``df`` do not count."""
    y = df[target].astype(str).to_numpy()
    g = df[group].astype(str).to_numpy()
    groups = [v for v in pd.unique(g)]
    if len(groups) < 2:
        return 0.0
    gaps = []
    for lv in ([level] if level is not None else list(levels)):
        rates = [float(np.mean(y[g == v] == lv)) for v in groups]
        gaps.append(max(rates) - min(rates))
    return float(max(gaps))


def compare(c: Constraint, value: float, real: float | None = None) -> bool:
    """Whether a statistic ``value`` meets ``c`` (``real``: the value on the real seed rows, for
    ``within ... of real``)."""
    if value is None or math.isnan(value):
        return False
    if c.against_real:
        if real is None or math.isnan(real):
            return False
        tol = c.tolerance / 100.0 * abs(real) if c.relative else c.tolerance
        return abs(value - real) <= tol + 1e-12
    return {"<=": value <= c.bound + 1e-12, "<": value < c.bound, ">=": value >= c.bound - 1e-12,
            ">": value > c.bound}[c.op]


def row_constraints(cs: list[Constraint]) -> list[Constraint]:
    return [c for c in cs if c.kind == "row"]


def all_hold(cs: list[Constraint], df: pd.DataFrame) -> np.ndarray:
    """Per row: whether every row constraint of ``cs`` holds."""
    ok = np.ones(len(df), dtype=bool)
    for c in row_constraints(cs):
        ok &= holds(c, df)
    return ok


def describe(c: Constraint) -> str:
    """The constraint as a sentence for a prompt (its text, which the parser accepted)."""
    return c.text.strip()
