"""Synthetic futures M1 files: written in HistData's format, named as synthetic.

There is no real futures data here.  ``main.py data futures`` derives a dated futures CFD's
M1 bars from a cash CFD's HistData M1 file (``mt5bridge.sim.futures_price``) and writes them
with this module, so that ``backtest --data`` and the console's replay read them beside the
cash file like any other M1 file:

- format: HistData "Generic ASCII" M1 (no header, ``;``, stamps EST without DST, bid OHLC
  with 6 decimals, volume 0), the same format and clock as the cash file it came from, so
  the two line up minute for minute;
- name: ``DAT_ASCII_<contract>_M1_<year>_SYNTHETIC.csv[.gz]`` (``storage.histdata`` reads
  the contract, ``SPXUSD_Z19``, as the symbol): the file says what it is wherever it is
  copied, and a report's data sources name it;
- written whole or not at all (a temporary file beside the target, then renamed).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd

from storage.histdata import EST_OFFSET_SECONDS

__all__ = ["synthetic_futures_name", "write_histdata_m1"]


def synthetic_futures_name(contract: str, year: int, *, gz: bool = True) -> str:
    """``DAT_ASCII_SPXUSD_Z19_M1_2019_SYNTHETIC.csv.gz``."""
    return f"DAT_ASCII_{contract}_M1_{year:04d}_SYNTHETIC.csv" + (".gz" if gz else "")


def _lines(bars: np.ndarray) -> str:
    stamps = pd.to_datetime(bars["time"] - EST_OFFSET_SECONDS, unit="s").strftime(
        "%Y%m%d %H%M%S")
    columns = [np.char.mod("%.6f", bars[key]) for key in ("open", "high", "low", "close")]
    rows = [";".join((s, o, h, lo, c, "0")) for s, o, h, lo, c in zip(
        stamps, *columns, strict=True)]
    return "\n".join(rows) + ("\n" if rows else "")


def write_histdata_m1(path: Path, bars: np.ndarray) -> Path:
    """Write M1 bars (``BAR_DTYPE``, UTC) as a HistData file at ``path`` (gzipped when the
    name ends in ``.gz``, reproducibly: no name or time in the gzip header)."""
    text = _lines(bars).encode("ascii")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as raw:
            if path.name.endswith(".gz"):
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                   compresslevel=6) as out:
                    out.write(text)
            else:
                raw.write(text)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
