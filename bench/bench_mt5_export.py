"""The MT5 export parse beside ``pyarrow.csv`` on the same ticks.

Run by hand (needs ../shared/data):  .venv/bin/python bench/bench_mt5_export.py [--runs 5]

The two days of real Dukascopy EURUSD ticks are written, in a scratch folder, once as the
Dukascopy CSV and once as an MT5 tick export (``<DATE> <TIME> <BID> <ASK> <LAST> <VOLUME>
<FLAGS>``, tab-separated, server time = UTC).  Both are parsed by the importer's own path
(``storage.importers.run.iter_parsed_blocks``): the Dukascopy file whole by ``pyarrow.csv``
(``storage.importers.wholefile``), the MT5 export by the block parser (Arrow compute
kernels and numpy per block of lines).  The two alternate in one process; medians.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from storage.importers.run import detect_file, iter_parsed_blocks, parse_server_time

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TICKS = DATA / "fx_ticks" / "EURUSD_ticks_dukascopy_2019-02-04_2019-02-05_UTC.csv.gz"


def _write_files(folder: Path) -> tuple[Path, Path]:
    """The Dukascopy CSV as it is, and the same ticks as an MT5 tick export."""
    dukascopy = folder / "EURUSD_ticks_dukascopy.csv"
    dukascopy.write_bytes(gzip.decompress(TICKS.read_bytes()))
    lines = dukascopy.read_text().splitlines()
    out = ["<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>"]
    for line in lines[1:]:
        stamp, bid, ask = line.split(",")[:3]
        ts = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
        out.append(f"{ts:%Y.%m.%d}\t{ts:%H:%M:%S}.{ts.microsecond // 1000:03d}\t{bid}\t{ask}"
                   "\t\t\t6")
    mt5 = folder / "EURUSD_201902040000_201902052359.csv"
    mt5.write_text("\n".join(out) + "\n")
    return dukascopy, mt5


def _parse(path: Path) -> tuple[float, int]:
    detected = detect_file(path)
    t0 = time.perf_counter()
    rows = sum(len(b.rows) for b in iter_parsed_blocks(path, detected, parse_server_time("0")))
    return time.perf_counter() - t0, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not TICKS.is_file():
        print(f"the Dukascopy ticks are not present at {TICKS}: nothing to measure")
        return
    with tempfile.TemporaryDirectory() as scratch:
        files = dict(zip(("dukascopy (pyarrow.csv, whole file)", "MT5 export (block parser)"),
                         _write_files(Path(scratch)), strict=True))
        seconds: dict[str, list[float]] = {name: [] for name in files}
        rows: dict[str, int] = {}
        for path in files.values():
            _parse(path)  # first loads apart
        for _ in range(args.runs):
            for name, path in files.items():
                took, rows[name] = _parse(path)
                seconds[name].append(took)
        for name, taken in seconds.items():
            median = statistics.median(taken)
            print(f"{name:38s} {rows[name]:,} rows: median {median:.3f} s of {args.runs}, "
                  f"{rows[name] / median / 1e6:.2f} M rows/s")


if __name__ == "__main__":
    main()
