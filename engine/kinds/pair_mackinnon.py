"""MacKinnon's approximate p-value of an Engle-Granger statistic: statsmodels' own
``mackinnonp(t, regression="c", N=legs)``, its tables and its formula, without importing
``scipy.stats``.

Why: ``statsmodels.tsa.adfvalues`` imports ``scipy.stats`` for one function, ``norm.cdf``,
and that import is about 0.55 s of a backtest process (the whole of ``scipy.stats``: every
distribution built, its docstrings parsed), the largest single cost a pair cluster adds to
a year's backtest.  ``norm.cdf`` of a float is ``scipy.special.ndtr`` of it (``norm``'s
``_cdf`` is ``ndtr``; the location 0 and scale 1 leave the argument unchanged), and
``scipy.special`` imports in about a quarter of the time.

The tables are not copied here: they are read from statsmodels' installed
``tsa/adfvalues.py`` itself, by parsing it (``ast``) and evaluating only its module-level
assignments built from number literals, lists, numpy's ``array``/``asarray``, products and
dicts of them (how statsmodels writes its tables; nothing is executed).  A name assigned
any other way is dropped, so a table this reading cannot reproduce is missing rather than
wrong; when any table is missing, malformed or the file is not found, and for a leg count
beyond the tables, :func:`mackinnon_p` calls statsmodels' ``mackinnonp`` itself.  The
tests hold the tables equal to the module's and the p-values equal to ``mackinnonp`` bit
for bit.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Where the tables live inside the statsmodels package.
ADFVALUES = ("tsa", "adfvalues.py")
#: The regression of the Engle-Granger test (coint's default trend "c": a constant).
REGRESSION = "c"
#: The module-level dicts ``mackinnonp`` reads, keyed by regression.
TABLE_NAMES = ("_tau_maxs", "_tau_mins", "_tau_stars", "_tau_smallps", "_tau_largeps")
#: numpy names statsmodels' table code may use (honoured only when imported from numpy).
_NUMPY_NAMES = {"array": np.array, "asarray": np.asarray, "inf": np.inf}


@dataclass(frozen=True)
class TauTables:
    """One regression's rows of ``mackinnonp``'s tables (row ``N - 1`` for ``N`` series)."""

    maxs: tuple[float, ...]
    mins: tuple[float, ...]
    stars: tuple[float, ...]
    smallps: np.ndarray
    largeps: np.ndarray


def mackinnon_p(t: float, legs: int) -> float:
    """``mackinnonp(t, regression="c", N=legs)``: the same comparisons, the same
    ``numpy.polyval`` and ``ndtr`` in place of ``norm.cdf`` (the same function)."""
    tables = tau_tables()
    if tables is None or not 1 <= legs <= len(tables.maxs):
        return _statsmodels_mackinnonp(t, legs)
    from scipy.special import ndtr

    row = legs - 1
    if t > tables.maxs[row]:
        return 1.0
    if t < tables.mins[row]:
        return 0.0
    coef = tables.smallps[row] if t <= tables.stars[row] else tables.largeps[row]
    return float(ndtr(np.polyval(coef[::-1], t)))


def _statsmodels_mackinnonp(t: float, legs: int) -> float:
    from statsmodels.tsa.adfvalues import mackinnonp

    return float(mackinnonp(t, regression=REGRESSION, N=legs))


@functools.cache
def tau_tables() -> TauTables | None:
    """The regression ``"c"`` rows of statsmodels' tables, read from its source (None when
    they cannot be read as the module docstring says)."""
    path = adfvalues_path()
    if path is None:
        return None
    try:
        names = module_tables(path.read_text(encoding="utf-8"))
        return _tau_tables([names[name][REGRESSION] for name in TABLE_NAMES])
    except (OSError, SyntaxError, KeyError, TypeError, ValueError):
        return None


def adfvalues_path() -> Path | None:
    """statsmodels' ``tsa/adfvalues.py``, found without importing statsmodels."""
    spec = importlib.util.find_spec("statsmodels")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*ADFVALUES)
    return path if path.is_file() else None


def _tau_tables(rows: list[Any]) -> TauTables:
    maxs, mins, stars = (tuple(float(v) for v in row) for row in rows[:3])
    smallps, largeps = (np.asarray(row, dtype=np.float64) for row in rows[3:])
    count = len(maxs)
    if not (count and len(mins) == len(stars) == count and smallps.ndim == largeps.ndim == 2
            and len(smallps) == len(largeps) == count):
        raise ValueError("statsmodels' tau tables are not one row per series count")
    return TauTables(maxs, mins, stars, smallps, largeps)


def module_tables(source: str) -> dict[str, Any]:
    """The module-level names of ``source`` that are assigned tables (module docstring)."""
    names: dict[str, Any] = {}
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "numpy":
            for alias in statement.names:
                if alias.name in _NUMPY_NAMES:
                    names[alias.asname or alias.name] = _NUMPY_NAMES[alias.name]
            continue
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            target = statement.targets[0].id
            try:
                names[target] = _value(statement.value, names)
            except _Unsupported:
                names.pop(target, None)
            continue
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef, ast.Expr)):
            continue
        for node in ast.walk(statement):  # any other binding: the name is no longer known
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.pop(node.id, None)
    return names


class _Unsupported(Exception):
    """An expression outside the table subset."""


def _value(node: ast.expr, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, str):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand, names)
    if isinstance(node, ast.List):
        return [_value(item, names) for item in node.elts]
    if isinstance(node, ast.Dict) and all(key is not None for key in node.keys):
        return {_value(key, names): _value(value, names)  # type: ignore[arg-type]
                for key, value in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and names.get(node.func.id) in (np.array, np.asarray) \
            and len(node.args) == 1 and not node.keywords:
        return names[node.func.id](_value(node.args[0], names))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _value(node.left, names) * _value(node.right, names)
    raise _Unsupported(ast.dump(node)[:80])
