"""The engine's configuration file: clusters plus risk, news and execution sections.

One TOML file (``engine/clusters.toml`` by default) holds ``[defaults]`` and
``[[cluster]]`` tables (see ``engine.cluster``), optional ``[risk]``, ``[news]`` and
``[execution]`` tables whose keys are the fields of ``RiskConfig``, ``NewsConfig`` and
``ExecutionConfig``, and optional ``[factors.NAME]`` tables (``symbols``, ``weights``: the
factor series a cluster's ``factor`` may name, ``engine.factor.FactorSeries``); anything
left out keeps its documented default.  Every error names the
file, the key and the reason, and an unknown key is an error (a typo must not silently run
with a default).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import ranges
from engine.cluster import (
    BASKET_ID_SUFFIX,
    DEFAULT_CONFIG,
    MAX_CLUSTER_NAME,
    ClusterSpec,
    clusters_from_toml,
    read_toml,
)
from engine.errors import ConfigError
from engine.factor import BUILT_IN_FACTORS, FactorSeries
from engine.model import MAX_BASKET_ID_LENGTH
from engine.news import NewsConfig
from engine.risk import RiskConfig
from engine.toml_sections import section_from_toml

#: The widest slippage a market order may accept: 1000 points is 100 pips on a five-digit
#: quote, 1 yen on USDJPY and $10 on gold; beyond that the deviation protects nothing.
MAX_DEVIATION_POINTS = 1000
#: The most re-sends of one leg: ten requotes in a row mean the market moves too fast to
#: build a basket, and the legs already filled are better unwound than left waiting.
MAX_RETRIES = 10
#: The longest gap between journaled equity marks: a day (what a backtest uses).
MAX_EQUITY_SNAPSHOT_MINUTES = 24 * 60


@dataclass(frozen=True)
class ExecutionConfig:
    """How baskets are sent to the terminal (docs/architecture.md, Execution and recovery).

    Defaults and allowed ranges:
    - ``deviation_points = 20``, 0..1000: the slippage a market order accepts, in points
      (MAX_DEVIATION_POINTS says why 1000);
    - ``max_retries = 3``, 0..10: re-sends of a leg after a requote, price change,
      price-off or timeout, each at a fresh price, before the basket is unwound;
    - ``comment_prefix = ""``, 0..10 characters of printable ASCII without spaces or
      commas: prepended to the basket id in the order comment, which holds 29 characters
      in all, so prefix + the longest cluster name may have at most 11 (``EngineConfig``
      checks the two together);
    - ``equity_snapshot_minutes = 30``, 1..1440: how often equity is journaled.
    """

    deviation_points: int = 20
    max_retries: int = 3
    comment_prefix: str = ""
    equity_snapshot_minutes: int = 30

    def __post_init__(self) -> None:
        checked = {
            "deviation_points": ranges.integer("deviation_points", self.deviation_points, 0,
                                               MAX_DEVIATION_POINTS),
            "max_retries": ranges.integer("max_retries", self.max_retries, 0, MAX_RETRIES),
            "comment_prefix": ranges.token("comment_prefix", self.comment_prefix,
                                           MAX_CLUSTER_NAME - 1, min_length=0),
            "equity_snapshot_minutes": ranges.integer(
                "equity_snapshot_minutes", self.equity_snapshot_minutes, 1,
                MAX_EQUITY_SNAPSHOT_MINUTES),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class EngineConfig:
    """The whole engine configuration: what one config file holds.

    - ``clusters`` (required): the clusters traded, names and magic numbers unique, each
      name short enough that ``execution.comment_prefix`` + its basket id fits the
      29-character order comment (``engine.model.MAX_BASKET_ID_LENGTH``);
    - ``risk = RiskConfig()``, ``news = NewsConfig()``, ``execution = ExecutionConfig()``:
      the sections (each documents its own fields and ranges);
    - ``factors = ()``: the named factor series (unique names); every cluster's ``factor``
      is ``none``, ``pc1`` or one of them;
    - ``source = "built-in defaults"``: where the settings were read from (not hashed).
    """

    clusters: tuple[ClusterSpec, ...]
    risk: RiskConfig = field(default_factory=RiskConfig)
    news: NewsConfig = field(default_factory=NewsConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    factors: tuple[FactorSeries, ...] = ()
    source: str = "built-in defaults"

    def __post_init__(self) -> None:
        object.__setattr__(self, "clusters", tuple(self.clusters))
        for name, kind in (("risk", RiskConfig), ("news", NewsConfig),
                           ("execution", ExecutionConfig)):
            if not isinstance(getattr(self, name), kind):
                raise ranges.FieldError(name, f"expected {kind.__name__}, "
                                              f"got {getattr(self, name)!r}")
        for i, spec in enumerate(self.clusters):
            if not isinstance(spec, ClusterSpec):
                raise ranges.FieldError(f"cluster[{i}]", f"expected ClusterSpec, got {spec!r}")
        for key in ("name", "magic"):
            values = [getattr(spec, key) for spec in self.clusters]
            for i, value in enumerate(values):
                if value in values[:i]:
                    raise ranges.FieldError(f"cluster[{i}].{key}", f"duplicate {key} {value!r}")
        self._check_comment_budget()
        self._check_factors()
        self._check_lock_targets()

    def _check_lock_targets(self) -> None:
        """A regime cluster's ``targets`` (``engine.kinds.correlation``) are other clusters
        of the same config: a typo must not leave the cluster it meant unprotected."""
        names = [spec.name for spec in self.clusters]
        for i, spec in enumerate(self.clusters):
            for target in getattr(spec.params, "targets", ()) or ():
                if target == spec.name or target not in names:
                    raise ranges.FieldError(
                        f"cluster[{i}].{spec.kind}.targets",
                        f"{target!r} is not another cluster of this config "
                        f"(clusters: {', '.join(n for n in names if n != spec.name)})")

    def _check_factors(self) -> None:
        object.__setattr__(self, "factors", tuple(self.factors))
        names = []
        for series in self.factors:
            if not isinstance(series, FactorSeries):
                raise ranges.FieldError("factors", f"expected FactorSeries, got {series!r}")
            if series.name in names:
                raise ranges.FieldError(f"factors.{series.name}", "defined twice")
            names.append(series.name)
        for i, spec in enumerate(self.clusters):
            if spec.factor not in BUILT_IN_FACTORS and spec.factor not in names:
                known = ", ".join([*BUILT_IN_FACTORS, *names])
                raise ranges.FieldError(f"cluster[{i}].factor",
                                        f"unknown factor {spec.factor!r} (known: {known})")

    def _check_comment_budget(self) -> None:
        prefix = self.execution.comment_prefix
        for spec in self.clusters:
            length = len(prefix) + len(spec.name) + BASKET_ID_SUFFIX
            if length > MAX_BASKET_ID_LENGTH:
                raise ranges.FieldError(
                    "execution.comment_prefix",
                    f"{prefix!r} + a basket id of cluster {spec.name!r} "
                    f"(<name>-YYYYMMDDTHHMM-NNN) is {length} characters; the order comment "
                    f"keeps {MAX_BASKET_ID_LENGTH}")

    def cluster(self, name: str) -> ClusterSpec:
        for spec in self.clusters:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every symbol the market must feed, in first-seen order: what any cluster trades,
        then the symbols of the factor series the clusters use."""
        seen: dict[str, None] = {}
        for spec in self.clusters:
            for s in spec.symbols:
                seen.setdefault(s, None)
        for spec in self.clusters:
            for s in self.factor_symbols(spec):
                seen.setdefault(s, None)
        return tuple(seen)

    def factor_series(self, spec: ClusterSpec) -> FactorSeries | None:
        """The named series ``spec.factor`` refers to; None for ``none`` and ``pc1``."""
        for series in self.factors:
            if series.name == spec.factor:
                return series
        return None

    def factor_symbols(self, spec: ClusterSpec) -> tuple[str, ...]:
        """The symbols of the cluster's factor series (none for ``none`` and ``pc1``)."""
        series = self.factor_series(spec)
        return series.symbols if series is not None else ()

    def with_clusters(self, names: list[str]) -> EngineConfig:
        """The same config restricted to the named clusters (order kept)."""
        known = {c.name for c in self.clusters}
        missing = [n for n in names if n not in known]
        if missing:
            raise ConfigError(self.source, "clusters", f"unknown cluster(s): {', '.join(missing)}")
        return dataclasses.replace(
            self, clusters=tuple(c for c in self.clusters if c.name in set(names)))

    def config_hash(self) -> str:
        """A short stable digest of every setting, journaled with each run."""
        settings = dataclasses.asdict(self)
        for cluster in settings["clusters"]:  # a TDI cluster hashes as before kinds existed
            if cluster["kind"] == "tdi":
                del cluster["kind"], cluster["params"]
            elif cluster["kind"] == "basis":  # the broker's figures are not settings
                cluster["params"].pop("market", None)
        blob = json.dumps(_plain(settings), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if k != "source"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


_SECTIONS = {"risk": RiskConfig, "news": NewsConfig, "execution": ExecutionConfig}


_FACTOR_KEYS = ("symbols", "weights")


def factors_from_toml(table: Any, path: Path) -> tuple[FactorSeries, ...]:
    """The ``[factors.NAME]`` tables: ``symbols = [...]`` and ``weights = [...]`` each."""
    if not isinstance(table, dict):
        raise ConfigError(path, "factors", "must be a table of [factors.NAME] tables")
    out = []
    for name, item in table.items():
        where = f"factors.{name}"
        if not isinstance(item, dict):
            raise ConfigError(path, where, "must be a table with symbols and weights")
        for key in item:
            if key not in _FACTOR_KEYS:
                raise ConfigError(path, f"{where}.{key}", "unknown key")
        for key in _FACTOR_KEYS:
            if key not in item:
                raise ConfigError(path, f"{where}.{key}", "missing")
            if not isinstance(item[key], list):
                raise ConfigError(path, f"{where}.{key}", f"expected a list, got {item[key]!r}")
        try:
            out.append(FactorSeries(name, tuple(item["symbols"]), tuple(item["weights"])))
        except ranges.FieldError as exc:
            key = where if exc.field == "name" else f"{where}.{exc.field}"
            raise ConfigError(path, key, exc.reason) from None
    return tuple(out)


def load_engine_config(path: str | Path | None = None) -> EngineConfig:
    """Read the engine configuration (the default cluster file when ``path`` is None)."""
    p = Path(path) if path is not None else DEFAULT_CONFIG
    raw = read_toml(p)
    for key in raw:
        if key not in {"defaults", "cluster", "factors", *_SECTIONS}:
            raise ConfigError(p, key, "unknown section")
    sections = {name: section_from_toml(cls, raw.get(name, {}), p, name)
                for name, cls in _SECTIONS.items()}
    clusters = tuple(clusters_from_toml(raw, p))
    factors = factors_from_toml(raw.get("factors", {}), p)
    try:
        return EngineConfig(clusters=clusters, factors=factors, source=str(p), **sections)
    except ranges.FieldError as exc:
        raise ConfigError(p, exc.field, exc.reason) from None
