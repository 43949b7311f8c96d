"""The engine's configuration file: clusters plus risk, news and execution sections.

One TOML file (``engine/clusters.toml`` by default) holds ``[defaults]`` and
``[[cluster]]`` tables (see ``engine.cluster``) and optional ``[risk]``, ``[news]`` and
``[execution]`` tables whose keys are the fields of ``RiskConfig``, ``NewsConfig`` and
``ExecutionConfig``; anything left out keeps its documented default.  Every error names the
file, the key and the reason, and an unknown key is an error (a typo must not silently run
with a default).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.cluster import DEFAULT_CONFIG, ClusterSpec, clusters_from_toml
from engine.errors import ConfigError
from engine.news import NewsConfig
from engine.risk import RiskConfig


@dataclass(frozen=True)
class ExecutionConfig:
    """How baskets are sent to the terminal (docs/architecture.md, Execution and recovery).

    - ``deviation_points = 20``: the slippage a market order accepts, in points;
    - ``max_retries = 3``: re-sends of a leg after a requote, price change, price-off or
      timeout, each at a fresh price, before the basket is unwound;
    - ``comment_prefix = ""``: prepended to the basket id in the order comment (29
      characters in all);
    - ``equity_snapshot_minutes = 30``: how often equity is journaled.
    """

    deviation_points: int = 20
    max_retries: int = 3
    comment_prefix: str = ""
    equity_snapshot_minutes: int = 30


@dataclass(frozen=True)
class EngineConfig:
    clusters: tuple[ClusterSpec, ...]
    risk: RiskConfig = field(default_factory=RiskConfig)
    news: NewsConfig = field(default_factory=NewsConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    source: str = "built-in defaults"

    def cluster(self, name: str) -> ClusterSpec:
        for spec in self.clusters:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every symbol any cluster trades, in first-seen order."""
        seen: dict[str, None] = {}
        for spec in self.clusters:
            for s in spec.symbols:
                seen.setdefault(s, None)
        return tuple(seen)

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
        blob = json.dumps(_plain(dataclasses.asdict(self)), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if k != "source"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _coerce(path: Path, key: str, value: Any, default: Any) -> Any:
    kind = type(default)
    if isinstance(default, enum.Enum):
        try:
            if isinstance(value, str) and value.upper() in kind.__members__:
                return kind[value.upper()]
            return kind(value)
        except (ValueError, KeyError):
            choices = ", ".join(m.name for m in kind)  # type: ignore[attr-defined]
            raise ConfigError(path, key, f"expected one of {choices}, got {value!r}") from None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(path, key, f"expected true or false, got {value!r}")
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(path, key, f"expected a list of strings, got {value!r}")
        return tuple(value)
    if default is None or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise ConfigError(path, key, f"expected {kind.__name__}, got {value!r}")


def section_from_toml(cls: type, table: Any, path: Path, section: str) -> Any:
    """Build a frozen config dataclass from a TOML table, checking every key and type."""
    if not isinstance(table, dict):
        raise ConfigError(path, section, "must be a table")
    defaults = cls()
    names = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in names:
            raise ConfigError(path, f"{section}.{key}", "unknown key")
        values[key] = _coerce(path, f"{section}.{key}", value, getattr(defaults, key))
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        raise ConfigError(path, section, str(exc)) from None


_SECTIONS = {"risk": RiskConfig, "news": NewsConfig, "execution": ExecutionConfig}


def load_engine_config(path: str | Path | None = None) -> EngineConfig:
    """Read the engine configuration (the default cluster file when ``path`` is None)."""
    p = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(p, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(p, "", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(p, "", f"not valid TOML: {exc}") from None
    for key in raw:
        if key not in {"defaults", "cluster", *_SECTIONS}:
            raise ConfigError(p, key, "unknown section")
    sections = {name: section_from_toml(cls, raw.get(name, {}), p, name)
                for name, cls in _SECTIONS.items()}
    return EngineConfig(clusters=tuple(clusters_from_toml(raw, p)), source=str(p), **sections)
