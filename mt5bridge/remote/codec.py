"""Values on the wire: typed JSON, with nothing that can run code on either side.

Every message is one JSON document.  Values the terminal takes and returns are written so
that the other side rebuilds them with exactly their type, and reads nothing else:

=====================================  ================================================
value                                  JSON
=====================================  ================================================
``None``, ``bool``, ``str``, ``int``   ``null``, ``true``/``false``, a string, a number
                                       (any size: 64-bit tickets stay exact)
finite ``float``                       a number (``repr``: reads back bit for bit)
NaN, +inf, -inf                        ``{"float": "nan" | "inf" | "-inf"}``
``list``                               an array
``tuple``                              ``{"tuple": [...]}``
``dict``                               ``{"dict": [[key, value], ...]}`` (keys of any type
                                       above that is hashable)
a ``mt5bridge.structs`` type (or the   ``{"struct": "TradeDeal", "values": [...]}``, the
real package's struct of that name)    values in field order (``request`` inside
                                       ``OrderSendResult`` is itself a struct)
``numpy.ndarray`` of plain numbers or  ``{"ndarray": base64 of the raw C-order bytes,
a flat structured dtype                "dtype": ..., "shape": [...]}``; the dtype is a
                                       format string (``"<f8"``) or ``[names, formats,
                                       offsets, itemsize]``, rebuilt exactly (the
                                       packed 60-byte MT5 rows included)
a numpy number (``np.float64``, ...)   ``{"scalar": "<f8", "value": ...}``: the engine's
                                       arithmetic may hand one to ``order_send``
``datetime``                           ``{"datetime": ISO 8601}`` (naive stays naive; an
                                       aware one keeps its UTC offset)
one of the simulator's configuration   ``{"dataclass": "FaultConfig", "fields": [[name,
dataclasses (``DATACLASSES``)          value], ...]}``, rebuilt through its constructor
                                       (which validates it)
=====================================  ================================================

Anything else (a set, bytes, an object array, a class of one's own) is refused by the
encoder with ``TypeError``, and any other JSON object, an unknown struct or dataclass name,
a dtype holding objects or a NaN token is refused by the decoder with ``WireError``: the
two sides agree on this table and on nothing else.  No pickle, no ``eval``, no import named
by the peer (a dataclass is looked up in ``DATACLASSES``, by name).
"""

from __future__ import annotations

import binascii
import dataclasses
import functools
import importlib
import json
import math
import re
from datetime import datetime
from typing import Any

import numpy as np

from mt5bridge import structs


class WireError(ValueError):
    """A message that does not follow the wire format: the connection that sent it is dropped."""


_STRUCT_TYPES: dict[str, type[structs.StructSequence]] = {
    name: getattr(structs, name) for name in structs.STRUCT_FIELDS
}
#: The configuration dataclasses that may cross (``sim_config``, ``sim_set_faults``), by
#: name, with where they live.  The decoder imports only from this table.
DATACLASSES: dict[str, tuple[str, str]] = {
    "SimConfig": ("mt5bridge.sim.config", "SimConfig"),
    "FaultConfig": ("mt5bridge.sim.faults", "FaultConfig"),
    "SymbolSpec": ("mt5bridge.sim.symbols", "SymbolSpec"),
    "MarketHours": ("mt5bridge.sim.sessions", "MarketHours"),
    "SymbolSession": ("mt5bridge.sim.symbol_sessions", "SymbolSession"),  # a CFD spec's hours
    "ServerTimeZone": ("mt5bridge.servertime", "ServerTimeZone"),
}
_DATACLASS_BY_PATH = {path: name for name, path in DATACLASSES.items()}
#: Scalars written as they are (their exact types: ``bool`` is not taken for ``int``).
_PLAIN = frozenset({type(None), bool, str, int, float})
#: A field format of an array: byte order, kind (bool, signed, unsigned, float), size.
_ARRAY_FORMAT = re.compile(r"^[<>|=]?[biuf][1248]$")
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_MAX_NDIM = 8


# -- encoding ------------------------------------------------------------------------------------


def dumps(message: Any) -> bytes:
    """One message as UTF-8 JSON; ``TypeError`` for a value the table above does not hold."""
    try:
        # Fast path: flat structs go as they are, their fields checked by type only.
        return _json(_encode(message, False))
    except ValueError:
        # A NaN or an infinity in a flat struct: encode every field explicitly.
        return _json(_encode(message, True))


#: Built once: ``json.dumps``/``json.loads`` with options build a new one per call, which
#: costs more than encoding a small reply.
_JSON_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def _json(document: Any) -> bytes:
    return _JSON_ENCODER.encode(document).encode("ascii")


def _encode(value: Any, thorough: bool) -> Any:
    kind = type(value)
    if kind is float:
        return value if value - value == 0.0 else {"float": repr(value)}
    if kind in _PLAIN:
        return value
    if kind is tuple:
        return {"tuple": [_encode(v, thorough) for v in value]}
    if kind is list:
        return [_encode(v, thorough) for v in value]
    if kind is dict:
        return {"dict": [[_encode(k, thorough), _encode(v, thorough)] for k, v in value.items()]}
    if kind is np.ndarray:
        return _encode_array(value)
    if kind is datetime:
        return {"datetime": value.isoformat()}
    if isinstance(value, np.generic) and _ARRAY_FORMAT.match(value.dtype.str):
        return {"scalar": value.dtype.str, "value": _encode(value.item(), thorough)}
    if isinstance(value, tuple) and kind.__name__ in _STRUCT_TYPES and hasattr(value, "_asdict"):
        # Ours or the real package's: recognised by type name, rebuilt as ours.
        if not thorough and _PLAIN.issuperset(map(type, value)):
            return {"struct": kind.__name__, "values": list(value)}
        return {"struct": kind.__name__, "values": [_encode(v, thorough) for v in value]}
    name = _DATACLASS_BY_PATH.get((kind.__module__, kind.__qualname__))
    if name is not None:
        # A field kept out of the dataclass's repr is a secret (the simulator's login
        # password): it never crosses, and the other side gets the field's default.
        return {"dataclass": name,
                "fields": [[f.name, _encode(getattr(value, f.name), thorough)]
                           for f in dataclasses.fields(value) if f.init and f.repr]}
    raise TypeError(f"a {kind.__module__}.{kind.__qualname__} cannot be sent to or from the "
                    "terminal (the wire carries the MetaTrader5 types, plain values and "
                    "numeric arrays only)")


def _encode_array(array: np.ndarray) -> dict[str, Any]:
    if array.ndim > _MAX_NDIM:
        raise TypeError(f"an array of {array.ndim} dimensions cannot be sent")
    description = _dtype_description(array.dtype)
    raw = np.ascontiguousarray(array).tobytes()
    return {"ndarray": binascii.b2a_base64(raw, newline=False).decode("ascii"),
            "dtype": description, "shape": list(array.shape)}


@functools.lru_cache(maxsize=64)
def _dtype_description(dtype: np.dtype) -> Any:
    """The JSON form of a dtype (a replay sends the same one every minute: kept)."""
    if dtype.names is None:
        if not _ARRAY_FORMAT.match(dtype.str):
            raise TypeError(f"an array of dtype {dtype} cannot be sent (numbers only)")
        description: Any = dtype.str
    else:
        formats = []
        for field in dtype.names:
            sub = dtype.fields[field][0]
            if sub.names is not None or sub.shape or not _ARRAY_FORMAT.match(sub.str):
                raise TypeError(f"an array of dtype {dtype} cannot be sent (field {field!r}: "
                                "flat numeric fields only)")
            formats.append(sub.str)
        description = [list(dtype.names), formats,
                       [dtype.fields[f][1] for f in dtype.names], dtype.itemsize]
    return description


# -- decoding ------------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise WireError(f"{name} is not a value (non-finite floats are written as objects)")


def loads(data: bytes) -> Any:
    """One message back from ``dumps``; ``WireError`` for anything else."""
    try:
        return _JSON_DECODER.decode(data.decode("utf-8"))
    except WireError:
        raise
    except Exception as exc:  # e.g. invalid UTF-8, bad JSON, too deep, an unhashable key
        raise WireError(f"not a message: {type(exc).__name__}: {str(exc)[:200]}") from None


def _decode_object(obj: dict[str, Any]) -> Any:
    """Each JSON object, innermost first: exactly one of the tagged shapes of the table."""
    keys = obj.keys()
    if len(obj) == 1:
        if "tuple" in keys:
            return tuple(_list(obj["tuple"]))
        if "dict" in keys:
            return {key: value for key, value in (_pair(item) for item in _list(obj["dict"]))}
        if "float" in keys:
            try:
                return _NON_FINITE[obj["float"]]
            except (KeyError, TypeError):
                raise WireError(f"not a float: {obj['float']!r}") from None
        if "datetime" in keys:
            return _datetime(obj["datetime"])
    elif keys == {"struct", "values"}:
        return _struct(obj["struct"], _list(obj["values"]))
    elif keys == {"scalar", "value"}:
        return _scalar(obj["scalar"], obj["value"])
    elif keys == {"ndarray", "dtype", "shape"}:
        return _array(obj)
    elif keys == {"dataclass", "fields"}:
        return _dataclass(obj["dataclass"], _list(obj["fields"]))
    raise WireError(f"unknown value on the wire: an object with keys {sorted(keys)[:4]}")


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise WireError(f"expected an array, got {type(value).__name__}")
    return value


def _pair(item: Any) -> tuple[Any, Any]:
    if type(item) is not list or len(item) != 2:
        raise WireError("a dict entry is not a [key, value] pair")
    return item[0], item[1]


def _datetime(text: Any) -> datetime:
    if type(text) is not str:
        raise WireError("a datetime is not a string")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise WireError(f"not an ISO datetime: {text[:40]!r}") from None


def _struct(name: Any, values: list[Any]) -> structs.StructSequence:
    kind = _STRUCT_TYPES.get(name) if type(name) is str else None
    if kind is None:
        raise WireError(f"unknown struct {str(name)[:40]!r}")
    if len(values) != kind.n_fields:
        raise WireError(f"{name} has {kind.n_fields} fields, not {len(values)}")
    return kind(values)


def _scalar(fmt: Any, value: Any) -> np.generic:
    if type(fmt) is not str or not _ARRAY_FORMAT.match(fmt) or type(value) not in _PLAIN:
        raise WireError("not a numpy number")
    return np.dtype(fmt).type(value)


def _dtype(description: Any) -> np.dtype:
    key = json.dumps(description)  # hashable, and a replay sends the same dtype every minute
    dtype = _DTYPES.get(key)
    if dtype is None:
        dtype = _build_dtype(description)
        if len(_DTYPES) < 64:
            _DTYPES[key] = dtype
    return dtype


_DTYPES: dict[str, np.dtype] = {}


def _build_dtype(description: Any) -> np.dtype:
    if type(description) is str:
        if not _ARRAY_FORMAT.match(description):
            raise WireError(f"array dtype {description[:20]!r} is not numeric")
        return np.dtype(description)
    if type(description) is not list or len(description) != 4:
        raise WireError("an array dtype is neither a format nor a field description")
    names, formats, offsets = (_list(part) for part in description[:3])
    itemsize = description[3]
    if not (len(names) == len(formats) == len(offsets)) or type(itemsize) is not int:
        raise WireError("an array's field description does not add up")
    for name, fmt, offset in zip(names, formats, offsets, strict=True):
        if type(name) is not str or type(fmt) is not str or not _ARRAY_FORMAT.match(fmt) \
                or type(offset) is not int:
            raise WireError(f"array field {str(name)[:20]!r} is not a numeric field")
    return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                     "itemsize": itemsize})


def _array(obj: dict[str, Any]) -> np.ndarray:
    dtype = _dtype(obj["dtype"])
    shape = tuple(_list(obj["shape"]))
    if len(shape) > _MAX_NDIM or any(type(n) is not int or n < 0 for n in shape):
        raise WireError("an array shape is not a list of sizes")
    if type(obj["ndarray"]) is not str:
        raise WireError("array bytes are not base64 text")
    try:
        raw = binascii.a2b_base64(obj["ndarray"], strict_mode=True)
    except binascii.Error:
        raise WireError("array bytes are not base64") from None
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise WireError(f"{len(raw)} bytes do not make an array of shape {shape} and "
                        f"itemsize {dtype.itemsize}")
    return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)


def _dataclass(name: Any, fields: list[Any]) -> Any:
    where = DATACLASSES.get(name) if type(name) is str else None
    if where is None:
        raise WireError(f"unknown dataclass {str(name)[:40]!r}")
    kind = getattr(importlib.import_module(where[0]), where[1])
    allowed = {f.name for f in dataclasses.fields(kind) if f.init}
    values = dict(_pair(item) for item in fields)
    if not set(values) <= allowed or len(values) != len(fields):
        raise WireError(f"{name} has no field(s) {sorted(set(values) - allowed)[:4]}")
    try:
        return kind(**values)
    except Exception as exc:  # its own validation: a peer built it by hand
        raise WireError(f"{name} refused its fields: {str(exc)[:200]}") from None


#: Built once, like ``json.loads``' own default decoder (which is shared the same way).
_JSON_DECODER = json.JSONDecoder(object_hook=_decode_object, parse_constant=_refuse_constant)
