"""The walk-forward's grid: a TOML file of cluster parameters, each a list of values, whose
product is the configurations every cluster chooses among.

    tau_f = [4, 8]
    tau_s = [96, 192]
    entry = [1.2, 1.5]
    space = ["symbol", "currency"]

Keys are the cluster fields a configuration may set (:data:`GRID_KEYS`); ``exit`` is X (the
field ``exit_band``).  ``space``, ``factor``, ``timeframe`` and ``overshoot`` are passed to
the cluster as they are: the cluster validates them and the engine gives them their meaning.
Every configuration is checked against every cluster before the first backtest runs.

One table of the file is not an axis: ``[sweep]``, how ``main.py sweep`` runs each
configuration (:func:`sweep_unit`).  It comes after the lists (a TOML table takes every key
below it)::

    entry = [1.2, 1.5]
    [sweep]
    unit = "cluster"    # "together" (default): one backtest of all the study's clusters;
                        # "cluster": one backtest of each cluster alone

The walk-forward reads the same file and checks the table but has no use for it: it always
tries each configuration on each cluster alone and tests the chosen mix together.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

from engine.cluster import ClusterSpec, read_toml
from engine.config import EngineConfig
from engine.errors import ConfigError, UserError
from engine.ranges import FieldError
from engine.tdi import TdiParams

#: Grid key -> the type of its values.
GRID_KEYS: dict[str, type] = {
    "tau_f": int, "tau_s": int, "tau_q": int, "entry": float, "exit": float,
    "hard_stop_atr": float, "time_stop_bars": int, "take_profit_r": float,
    "space": str, "factor": str, "timeframe": str, "overshoot": str,
}
_TDI_KEYS = ("tau_f", "tau_s", "tau_q")
_STOP_KEYS = ("hard_stop_atr", "time_stop_bars", "take_profit_r")
_PASS_THROUGH = ("space", "factor", "timeframe", "overshoot")


def _read_grid_file(path: Path) -> dict[str, Any]:
    """The grid read as a configuration is: a regular file only, a leading BOM skipped."""
    return read_toml(path)


def load_grid(path: Path) -> list[dict[str, Any]]:
    """The configurations of the grid file, in the file's key order (the last key varies
    fastest).  A missing file, bad TOML, an unknown key or a value of the wrong type is a
    ``ConfigError`` naming the file and the key; so is a bad ``[sweep]`` table."""
    raw = _read_grid_file(path)
    _sweep_table(raw, path)
    if not [key for key in raw if key != SWEEP_TABLE]:
        raise ConfigError(path, "", "the grid is empty")
    axes = []
    for key, values in raw.items():
        if key == SWEEP_TABLE:
            continue
        if key not in GRID_KEYS:
            raise ConfigError(path, key, f"unknown grid key (use {', '.join(GRID_KEYS)})")
        if not isinstance(values, list) or not values:
            raise ConfigError(path, key, "expected a non-empty list of values")
        kind = GRID_KEYS[key]
        for v in values:
            if not _of_kind(v, kind):
                raise ConfigError(path, key, f"expected {kind.__name__} values, got {v!r}")
        if len(set(values)) != len(values):
            raise ConfigError(path, key, "a value is listed twice (it would be one trial "
                              "counted as two)")
        axes.append([(key, kind(v)) for v in values])
    return [dict(combo) for combo in itertools.product(*axes)]


# -- the [sweep] table: the sweep's unit of work ------------------------------------------

#: The grid file's table of sweep settings (not an axis).
SWEEP_TABLE = "sweep"
#: ``[sweep] unit``: one trial per configuration and span with all the study's clusters
#: In-sample closed baskets a configuration needs for the walk-forward to choose it
#: (``walkforward --min-baskets``); the sweep, which chooses by Sharpe alone, says when its
#: choice has fewer.
DEFAULT_MIN_BASKETS = 5

#: together (they share the account's risk), or one per cluster alone (as the walk-forward
#: selects).
UNITS = ("together", "cluster")
DEFAULT_UNIT = "together"


def _sweep_table(raw: dict[str, Any], path: Path) -> str:
    """The ``[sweep]`` table's unit, checked; :data:`DEFAULT_UNIT` without the table."""
    table = raw.get(SWEEP_TABLE, {})
    if not isinstance(table, dict):
        raise ConfigError(path, SWEEP_TABLE, 'expected a table ([sweep] with unit = '
                          f'"together" or "cluster"), got {table!r}')
    for key in table:
        if key != "unit":
            raise ConfigError(path, f"{SWEEP_TABLE}.{key}", "unknown key (the table's one "
                              "key is unit; put [sweep] after the grid's lists: a TOML table "
                              "takes every key below it)")
    unit = table.get("unit", DEFAULT_UNIT)
    if unit not in UNITS:
        raise ConfigError(path, f"{SWEEP_TABLE}.unit", f"expected one of "
                          f"{', '.join(repr(u) for u in UNITS)}, got {unit!r}")
    return unit


def sweep_unit(path: Path) -> str:
    """How a sweep runs each configuration of the grid file: ``together`` or ``cluster``
    (see :data:`UNITS`)."""
    return _sweep_table(_read_grid_file(path), path)


# -- end of the [sweep] table -------------------------------------------------------------


def _of_kind(value: object, kind: type) -> bool:
    if kind is str:
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return kind is float or isinstance(value, int)


def apply_params(spec: ClusterSpec, params: dict[str, Any]) -> ClusterSpec:
    """The cluster with the configuration's values (validated as the cluster file is)."""
    tdi = TdiParams(*(params.get(k, getattr(spec.tdi, k)) for k in _TDI_KEYS))
    stops = dataclasses.replace(spec.stops, **{k: params[k] for k in _STOP_KEYS if k in params})
    return dataclasses.replace(spec, tdi=tdi, entry=params.get("entry", spec.entry),
                               exit_band=params.get("exit", spec.exit_band), stops=stops,
                               **{k: params[k] for k in _PASS_THROUGH if k in params})


def with_params(config: EngineConfig, chosen: dict[str, dict[str, Any]]) -> EngineConfig:
    """The configuration with each named cluster's chosen parameters."""
    return dataclasses.replace(config, clusters=tuple(
        apply_params(c, chosen.get(c.name, {})) for c in config.clusters))


def alone(config: EngineConfig, name: str, params: dict[str, Any]) -> EngineConfig:
    """The configuration trading cluster ``name`` only, with ``params``."""
    return with_params(config.with_clusters([name]), {name: params})


def check_grid(config: EngineConfig, grid: list[dict[str, Any]],
               source: Path | None = None) -> None:
    """Every configuration must suit every cluster before the first backtest runs;
    ``source`` (the grid file) is named in the refusal.

    The TDI's own keys (its windows, its space) mean nothing to another kind's model: a
    grid varying them over a pair or a regime would run identical trials and count each
    one in the deflated Sharpe's number of trials, so it is refused."""
    where = f"{source}: " if source is not None else ""
    for params in grid:
        for spec in config.clusters:
            tdi_only = [k for k in (*_TDI_KEYS, "space") if k in params]
            if spec.kind != "tdi" and tdi_only:
                raise UserError(f"{where}grid: {tdi_only[0]} is a setting of the TDI; "
                                f"cluster {spec.name} is a {spec.kind} (study it with "
                                f"--clusters and a grid of the shared keys: entry, exit, "
                                f"stops)")
            try:
                apply_params(spec, params)
            except FieldError as exc:
                key, reason = ("exit" if exc.field == "exit_band" else exc.field), exc.reason
                if exc.field == "exit_band" and "exit" not in params and "entry" in params:
                    # the grid lowered E, not X: say so in the grid's own key
                    key, reason = "entry", (f"must be above the cluster's exit "
                                            f"{spec.exit_band:g}, got {params['entry']:g}")
                raise UserError(f"{where}grid: {key}: {reason} (configuration {params}, "
                                f"cluster {spec.name})") from None


def describe(params: dict[str, Any]) -> str:
    """A configuration in one short line (``tau_f=4 entry=1.5``); ``defaults`` for none."""
    return " ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
