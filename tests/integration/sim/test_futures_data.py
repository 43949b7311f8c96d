"""Futures CFDs on data: ``main.py data futures`` writes a synthetic contract's M1 file from
a real cash slice, ``backtest --data`` trades it beside the cash through the real terminal,
and a user's MT5 export of a contract imports and replays with the catalogue's expiry."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import numpy as np
import pytest
from helpers.paths import TEST_DATA

from app.cli.data_futures import FUTURES_CASH, MISPRICING_DEFAULTS
from app.replay_feed import ReplayFeed
from main import main
from mt5bridge import constants as c
from mt5bridge.sim import SimConfig, SimTerminal
from mt5bridge.sim.futures import FUTURES_CASH as OWNER_FUTURES_CASH
from mt5bridge.sim.futures_catalogue import futures_spec
from mt5bridge.sim.futures_price import Mispricing, MispricingPath, futures_bars
from mt5bridge.sim.symbols import BROKER_SPECS
from storage.histdata import read_histdata_m1
from storage.marketdata import MarketDataStore

SPX_SLICE = TEST_DATA / "cfd_m1" / "DAT_ASCII_SPXUSD_M1_2019.csv.gz"
Z19_NAME = "DAT_ASCII_SPXUSD_Z19_M1_2019_SYNTHETIC.csv.gz"


def utc_ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


@pytest.fixture(scope="module")
def futures_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("futures")
    assert main(["data", "futures", "--cash", str(SPX_SLICE), "--contract", "SPXUSD_Z19",
                 "--seed", "3", "--out", str(out)]) == 0
    return out


def test_the_help_texts_defaults_are_the_processs_and_the_catalogues() -> None:
    owner = {key: getattr(Mispricing(), key) for key in MISPRICING_DEFAULTS}
    assert owner == MISPRICING_DEFAULTS
    assert set(MISPRICING_DEFAULTS) == {f.name for f in Mispricing.__dataclass_fields__.values()}
    assert FUTURES_CASH == OWNER_FUTURES_CASH


def test_data_futures_writes_the_cash_bars_through_the_futures_price(futures_dir) -> None:
    # Arrange
    cash = read_histdata_m1(SPX_SLICE)

    # Act
    written = read_histdata_m1(futures_dir / Z19_NAME)

    # Assert: same minutes as the cash file, the price of futures_price with seed 3
    assert written.symbol == "SPXUSD_Z19" and written.bad_rows == 0
    assert written.bars.index.equals(cash.bars.index)
    spec = futures_spec("SPXUSD_Z19")
    expected = futures_bars(cash.to_bar_array(spread=0.0),
                            MispricingPath(spec, Mispricing(), 3), BROKER_SPECS["SPXUSD"])
    for key in ("open", "high", "low", "close"):
        assert np.allclose(written.bars[key].to_numpy(), expected[key], atol=1e-9)
    gap = np.log(written.bars["close"].to_numpy() / cash.bars["close"].to_numpy())
    assert 0 < np.abs(gap).max() < 0.01


def test_data_futures_all_writes_every_contract_trading_during_the_file(tmp_path, capsys):
    # Act
    code = main(["data", "futures", "--cash", str(SPX_SLICE), "--contract", "all",
                 "--out", str(tmp_path)])

    # Assert: Z19, H20 and M20 trade in Oct 2019 (each listed nine months before expiry)
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"DAT_ASCII_SPXUSD_{k}_M1_2019_SYNTHETIC.csv.gz" for k in ("H20", "M20", "Z19")]
    assert "synthetic M1 bars" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--contract", "NSXUSD_Z19"], "not a futures contract of SPXUSD"),
    (["--contract", "SPXUSD_H19"], "does not trade during"),
    (["--contract", "SPXUSD_Z19", "--mispricing-half-life", "0"], "half_life_hours"),
])
def test_data_futures_refuses_bad_input_in_one_line(tmp_path, capsys, args, message):
    # Act
    code = main(["data", "futures", "--cash", str(SPX_SLICE), "--out", str(tmp_path), *args])

    # Assert
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


PAIR = """
[[cluster]]
name = "SPX_Z19"
kind = "pair"
symbols = ["SPXUSD", "SPXUSD_Z19"]
magic = 720031
time_stop_bars = 48

[cluster.pair]
hedge_window = 96
z_window = 48
test_every = 12

[risk]
max_lots_per_leg = 1000
"""


def rows(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def test_backtest_trades_the_synthetic_contract_beside_its_cash(futures_dir, tmp_path):
    # Arrange: the cash slice and the contract written from it, a pair of the two
    config = tmp_path / "pair.toml"
    config.write_text(PAIR)
    report = tmp_path / "report"

    # Act
    code = main(["backtest", "--data", str(SPX_SLICE), str(futures_dir / Z19_NAME),
                 "--config", str(config), "--report", str(report)])

    # Assert: legs on the contract, recomputed from legs.csv, at its own 60-point spread
    assert code == 0
    legs = [leg for leg in rows(report / "legs.csv") if leg["symbol"] == "SPXUSD_Z19"]
    assert legs
    for leg in legs:
        sign = 1 if leg["side"] == "BUY" else -1
        move = float(leg["close_price"]) - float(leg["open_price"])
        assert float(leg["profit"]) == pytest.approx(sign * move * float(leg["lots"]), abs=0.006)
        assert abs(float(leg["open_price"]) - float(leg["open_mid"])) == pytest.approx(0.30)
    ranges = (report / "metrics.json").read_text()
    assert Z19_NAME in ranges


def _mt5_bars(path, starts_utc_ms: list[int], count: int, price: float) -> None:
    """An MT5 "Export Bars" file of a GMT+3 (US DST) server: ``count`` one-minute bars from
    each start."""
    lines = ["<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"]
    for first in starts_utc_ms:
        for k in range(count):
            server = datetime.fromtimestamp(first / 1000 + 60 * k + 3 * 3600, tz=UTC)
            p = price + 0.01 * (k % 7)
            lines.append(f"{server:%Y.%m.%d}\t{server:%H:%M:%S}\t{p:.2f}\t{p + 0.03:.2f}\t"
                         f"{p - 0.02:.2f}\t{p + 0.01:.2f}\t12\t0\t5")
    path.write_text("\n".join(lines) + "\n")


def test_an_mt5_export_of_a_contract_imports_and_expires_by_the_catalogue(tmp_path, capsys):
    # Arrange: BCOUSD_Z19 (close-only from 2019-10-28 21:00 UTC, expires 2019-10-31 21:00)
    # recorded 20:00-20:59 UTC on both days, as a GMT+3 server exports it
    monday, thursday = utc_ms(2019, 10, 28, 20), utc_ms(2019, 10, 31, 20)
    export = tmp_path / "BCOUSD_Z19_M1_201910282300_201910312359.csv"
    _mt5_bars(export, [monday, thursday], 60, 60.20)
    store = tmp_path / "store"

    # Act: import, then replay the store through the simulated terminal
    code = main(["import", "bars", str(export), "--server-offset", "us-dst",
                 "--store", str(store)])
    assert code == 0 and "BCOUSD_Z19" in capsys.readouterr().out
    assert MarketDataStore(store).symbols("bars_m1") == ["BCOUSD_Z19"]
    term = SimTerminal(ReplayFeed.from_store(store, start_msc=monday),
                       SimConfig(selected=("BCOUSD_Z19",)))
    assert term.initialize()
    term.sim_advance_to(monday + 30 * 60_000)
    info = term.symbol_info("BCOUSD_Z19")
    opened = term.order_send(_buy(term))
    term.sim_advance_to(thursday + 30 * 60_000)
    refused = term.order_send(_buy(term))
    term.sim_advance_to(utc_ms(2019, 10, 31, 21) - 1)
    last = term.symbol_info_tick("BCOUSD_Z19")
    term.sim_advance_to(thursday + 90 * 60_000)

    # Assert: the expiry, close-only and the settlement come from the contract's name
    assert info.expiration_time == utc_ms(2019, 10, 31, 21) // 1000 + 3 * 3600
    assert info.basis == "BCOUSD" and info.trade_mode == c.SYMBOL_TRADE_MODE_FULL
    assert opened.retcode == c.TRADE_RETCODE_DONE
    assert refused.retcode == c.TRADE_RETCODE_CLOSE_ONLY
    assert term.positions_get(symbol="BCOUSD_Z19") == ()
    settled = term.history_deals_get(0, 2**31 - 1)[-1]
    assert settled.reason == c.DEAL_REASON_ROLLOVER and settled.entry == c.DEAL_ENTRY_OUT
    assert settled.price == round((last.bid + last.ask) / 2, 2)  # no cash quoted: its own mid
    assert term.symbol_info("BCOUSD_Z19").trade_mode == c.SYMBOL_TRADE_MODE_DISABLED


def _buy(term: SimTerminal) -> dict:
    tick = term.symbol_info_tick("BCOUSD_Z19")
    return {"action": c.TRADE_ACTION_DEAL, "symbol": "BCOUSD_Z19", "volume": 1.0,
            "type": c.ORDER_TYPE_BUY, "price": tick.ask, "deviation": 10,
            "type_filling": c.ORDER_FILLING_FOK}
