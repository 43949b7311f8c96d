"""File names that carry a futures CFD's symbol: MT5 exports (``<SYMBOL>[_<TF>]_<from>_<to>``)
and HistData files, the synthetic ones of ``data futures`` included; older names unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.futures_file import synthetic_futures_name
from storage.histdata import histdata_symbol
from storage.importers.formats import mt5_timeframe_from_name, symbol_from_file_name


@pytest.mark.parametrize(("name", "symbol", "timeframe"), [
    ("EURUSD_M1_201902041500_201902041659.csv", "EURUSD", "M1"),
    ("EURUSD_201902041500_201902041510.csv", "EURUSD", None),
    ("SPXUSD_Z19_M1_201912020000_201912202100.csv", "SPXUSD_Z19", "M1"),
    ("SPXUSD_M20_M1_201912020000_201912202100.csv", "SPXUSD_M20", "M1"),
    ("XAUUSD_H20_201912020000_201912020100.csv.gz", "XAUUSD_H20", None),
    ("BCOUSD_Z19_H1_201910010000_201910312100.csv", "BCOUSD_Z19", "H1"),
    ("EURUSD_ticks_2019.csv.gz", "EURUSD", None),
])
def test_mt5_export_names_give_the_whole_symbol(name: str, symbol: str,
                                               timeframe: str | None) -> None:
    assert symbol_from_file_name(Path(name), "mt5") == symbol
    assert mt5_timeframe_from_name(Path(name)) == timeframe


@pytest.mark.parametrize(("name", "symbol"), [
    ("DAT_ASCII_EURUSD_M1_2019.csv.gz", "EURUSD"),
    ("DAT_ASCII_SPXUSD_Z19_M1_201910.csv", "SPXUSD_Z19"),
    (synthetic_futures_name("SPXUSD_Z19", 2019), "SPXUSD_Z19"),
    (synthetic_futures_name("XAUUSD_H20", 2020, gz=False), "XAUUSD_H20"),
    ("DAT_ASCII_SPXUSD_Q_M1_2019.csv", None),
])
def test_histdata_names_with_a_contract_and_the_synthetic_label(name: str,
                                                                symbol: str | None) -> None:
    assert histdata_symbol(name) == symbol


def test_the_synthetic_files_name_says_so() -> None:
    assert synthetic_futures_name("BCOUSD_H20", 2019) == \
        "DAT_ASCII_BCOUSD_H20_M1_2019_SYNTHETIC.csv.gz"
