"""Frozen config dataclasses read from TOML tables, every key and type checked.

The engine config's sections (``[risk]``, ``[news]``, ``[execution]``) and a cluster's kind
table (``[cluster.pair]``, ``[cluster.correlation]``) are all dataclasses whose field names
are the table's keys: one reader checks them alike, so an unknown key or a wrong type is one
line naming the file and the key, never a silent default.
"""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import Any

from engine import ranges
from engine.errors import ConfigError


def _coerce_list(path: Path, key: str, value: Any, default: tuple[Any, ...]) -> tuple[Any, ...]:
    """A TOML array for a tuple field: numbers when the default holds numbers, else strings."""
    numbers = bool(default) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                    for v in default)
    if numbers:
        if not isinstance(value, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            raise ConfigError(path, key, f"expected a list of numbers, got {value!r}")
        return tuple(float(v) for v in value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, key, f"expected a list of strings, got {value!r}")
    return tuple(value)


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
        return value  # the field's range check makes it a float (or says it is too large)
    if isinstance(default, tuple):
        return _coerce_list(path, key, value, default)
    if default is None or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise ConfigError(path, key, f"expected {kind.__name__}, got {value!r}")


def section_from_toml(cls: type, table: Any, path: Path, section: str) -> Any:
    """Build a frozen config dataclass from a TOML table, checking every key and type."""
    if not isinstance(table, dict):
        raise ConfigError(path, section, "must be a table")
    # the fields' declared defaults (not ``cls()``: a class may have no valid default
    # instance, e.g. a regime lock that needs its targets)
    defaults = {f.name: (f.default if f.default is not dataclasses.MISSING
                         else f.default_factory())  # type: ignore[misc]
                for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in defaults:
            raise ConfigError(path, f"{section}.{key}", "unknown key")
        values[key] = _coerce(path, f"{section}.{key}", value, defaults[key])
    try:
        return cls(**values)
    except ranges.FieldError as exc:
        raise ConfigError(path, f"{section}.{exc.field}", exc.reason) from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(path, section, str(exc)) from None


