"""``main.py data futures``: a synthetic dated futures CFD's M1 file from a cash CFD's.

There is no real futures data here, so a backtest or replay of cash data gets its futures
from this command: each contract's bars are the cash file's bars through the simulated
broker's futures price (``mt5bridge.sim.futures_price``: carry x time to expiry, a seeded
mean-reverting mispricing, quote noise, converging to the cash price at expiry), written in
the cash file's own HistData format and clock as ``DAT_ASCII_<contract>_M1_<year>_SYNTHETIC
.csv.gz`` (``storage.futures_file``), which ``backtest --data`` and the console's replay
read beside the cash file.  A file is written rather than futures derived inside the replay
so that the data a backtest ran on is a file a user can look at, keep and pass again, and
so that a synthetic contract and a recorded one (an MT5 export, ``import``) enter a backtest
the same way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.args import path_argument
from app.cli.destinations import check_destination
from engine.errors import UserError

__all__ = ["MISPRICING_DEFAULTS", "register_futures", "write_synthetic_futures"]

#: ``mt5bridge.sim.futures_price.Mispricing()``'s defaults, for the help text (a copy: the
#: parser imports nothing heavy; tests/unit/sim/test_futures_data.py checks it).
MISPRICING_DEFAULTS: dict[str, float] = {
    "half_life_hours": 24.0, "sigma_bp": 10.0, "jump_rate_per_day": 0.2,
    "jump_sigma_bp": 25.0, "noise_bp": 1.0, "converge_days": 5.0,
}
#: The cash CFDs with futures (``mt5bridge.sim.futures.FUTURES_CASH``, a checked copy).
FUTURES_CASH: tuple[str, ...] = ("SPXUSD", "NSXUSD", "BCOUSD", "XAUUSD")

_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--mispricing-half-life", "half_life_hours", "HOURS: the mispricing's half-life"),
    ("--mispricing-sigma", "sigma_bp", "BP: its stationary standard deviation"),
    ("--jump-rate", "jump_rate_per_day", "N: dislocation jumps a day (0: none)"),
    ("--jump-sigma", "jump_sigma_bp", "BP: a jump's standard deviation"),
    ("--noise", "noise_bp", "BP: quote noise per bar"),
    ("--converge-days", "converge_days", "DAYS: the mispricing shrinks to 0 over these last "
     "days before expiry"),
)


def register_futures(actions: argparse._SubParsersAction) -> None:
    sub = actions.add_parser(
        "futures", help="write synthetic futures CFD M1 files from a cash CFD's",
        description="There is no real futures data here: write a dated futures CFD's M1 "
        "bars derived from a cash CFD's HistData M1 file (F = S x exp(carry x years to "
        "expiry + mispricing), converging to the cash price at expiry) as "
        "DAT_ASCII_<contract>_M1_<year>_SYNTHETIC.csv.gz, which 'backtest --data' reads "
        "beside the cash file. Cash CFDs with futures: " + ", ".join(FUTURES_CASH) + ".",
    )
    sub.add_argument("--cash", type=path_argument, required=True, metavar="FILE",
                     help="the cash CFD's HistData M1 file (DAT_ASCII_SPXUSD_M1_2019.csv.gz)")
    sub.add_argument("--contract", nargs="+", required=True, metavar="NAME",
                     help="contracts to write (SPXUSD_Z19 ...), or 'all': every quarterly "
                     "contract trading during the file")
    sub.add_argument("--out", type=path_argument, required=True, metavar="DIR",
                     help="folder to write the files in (created if missing)")
    sub.add_argument("--seed", type=int, default=0, help="seed of the mispricing (default 0)")
    for flag, key, text in _OPTIONS:
        sub.add_argument(flag, dest=key, type=float, default=None, metavar=text.split(":")[0],
                         help=f"{text.split(': ', 1)[1]} (default {MISPRICING_DEFAULTS[key]:g})")
    sub.set_defaults(func=run_futures)


def _contracts(cash: str, names: list[str], first_msc: int, last_msc: int) -> list[Any]:
    from mt5bridge.sim.futures_catalogue import contracts_of, futures_spec

    if names == ["all"]:
        specs = contracts_of(cash, first_msc, last_msc + 60_000)
        if not specs:
            raise UserError(f"no {cash} contract trades during the file")
        return specs
    specs = []
    for name in names:
        spec = futures_spec(name.upper())
        if spec is None or spec.basis != cash:
            raise UserError(f"{name}: not a futures contract of {cash} (expected "
                            f"{cash}_<month code><yy>, e.g. {cash}_Z19)")
        specs.append(spec)
    return specs


def write_synthetic_futures(cash_file: Path, contracts: list[str], out_dir: Path, *,
                            seed: int = 0, mispricing: dict[str, float] | None = None,
                            ) -> list[tuple[Path, int, str]]:
    """Write each contract's synthetic M1 file; (path, bars, contract) of each written."""
    import pandas as pd

    from app.data_notes import bad_rows_note
    from app.staged import staged_folder
    from mt5bridge.sim.futures_price import Mispricing, MispricingPath, futures_bars
    from mt5bridge.sim.symbols import BROKER_SPECS
    from storage.futures_file import synthetic_futures_name, write_histdata_m1
    from storage.histdata import EST_OFFSET_SECONDS, read_histdata_m1

    settings = Mispricing(**(mispricing or {}))
    cash = read_histdata_m1(cash_file)
    bad = bad_rows_note(cash)
    if bad:  # the contracts follow the cash bars that are left: say what was not
        print(f"note: {bad}", file=sys.stderr)
    if cash.symbol not in FUTURES_CASH:
        raise UserError(f"{cash_file}: {cash.symbol} has no futures here (cash CFDs with "
                        f"futures: {', '.join(FUTURES_CASH)})")
    bars = cash.to_bar_array(spread=0.0)
    if len(bars) == 0:
        raise UserError(f"{cash_file}: no bars")
    specs = _contracts(cash.symbol, contracts, int(bars["time"][0]) * 1000,
                       int(bars["time"][-1]) * 1000)
    written = []
    with staged_folder(out_dir) as folder:  # every contract's file, or none
        for spec in specs:
            out = futures_bars(bars, MispricingPath(spec, settings, seed),
                               BROKER_SPECS[cash.symbol])
            if len(out) == 0:
                raise UserError(
                    f"{spec.name} does not trade during {cash_file} (listed "
                    f"{pd.Timestamp(spec.start_time, unit='s'):%Y-%m-%d}, expires "
                    f"{pd.Timestamp(spec.expiration_time, unit='s'):%Y-%m-%d %H:%M} UTC)")
            year = pd.Timestamp(int(out["time"][0]) - EST_OFFSET_SECONDS, unit="s").year
            name = synthetic_futures_name(spec.name, year)
            write_histdata_m1(folder / name, out)
            written.append((out_dir / name, len(out), spec.name))
    return written


def run_futures(args: argparse.Namespace) -> int:
    overrides = {key: getattr(args, key) for _, key, _ in _OPTIONS
                 if getattr(args, key) is not None}
    check_destination(args.out, "--out", folder=True)
    written = write_synthetic_futures(args.cash, args.contract, args.out, seed=args.seed,
                                      mispricing=overrides)
    for path, count, name in written:
        print(f"{name}: {count:,} synthetic M1 bars (seed {args.seed}) -> {path}")
    return 0
