"""A basis cluster end to end on the synthetic market with gold futures CFDs.

The shipped example (docs/examples/basis.toml: XAUUSD against its front quarterly contract,
E 20 bp, X 4 bp, close_days 5, roll = true) over late February to early April 2024, seed
2: the H24 contract expires on 2024-03-27 21:00 UTC and turns close-only three days before.
Checked from the journal: every entry beyond E with E above the break-even, the EX exit
before the close-only window, the roll journaled as an engine command and the cluster on
the next contract after it, and every basket's two legs of equal notional in USD (measured
from the entry deals).  Also the break-even refusal at start and for a trader's new E.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.basis_start import simulated_futures
from app.sessions import Session, sim_session
from engine import commands as cmd
from engine.config import EngineConfig, load_engine_config
from engine.errors import UserError
from engine.loop import run_sync
from engine.model import RunMode
from mt5bridge.sim import SimTerminal
from mt5bridge.sim.identity import demo_account
from mt5bridge.sim.market import MarketConfig, SyntheticMarket

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "basis.toml"
START, END = datetime(2024, 2, 26, tzinfo=UTC), datetime(2024, 4, 6, tzinfo=UTC)
#: XAUUSD_H24: the third-last business day of March 2024, 21:00 UTC; close-only 3 days before.
H24_EXPIRY_S = int(datetime(2024, 3, 27, 21, tzinfo=UTC).timestamp())
CLOSE_ONLY_S = H24_EXPIRY_S - 3 * 86_400
CONTRACT_SIZE = 100.0  # ounces a lot, cash and futures alike
RETCODE_CLOSE_ONLY = 10044


def _session(config: EngineConfig, journal: Path, seed: int = 2) -> Session:
    futures = simulated_futures(config, int(START.timestamp() * 1000) - 60 * 86_400_000,
                                int(END.timestamp() * 1000))
    market = SyntheticMarket(MarketConfig(seed=seed, start=START, end=END, latency=False,
                                          symbols=("XAUUSD",), futures=futures))
    sim = SimTerminal(feed=market, config=demo_account(0, None))
    sim.initialize()
    return sim_session(config, sim, mode=RunMode.BACKTEST, journal_path=journal)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Session, sqlite3.Connection]:
    journal = tmp_path_factory.mktemp("basis") / "journal.sqlite"
    session = _session(load_engine_config(EXAMPLE), journal)
    session.engine.start()
    run_sync(session.engine, int(END.timestamp() * 1000), batch_idle=True)
    db = sqlite3.connect(journal)
    db.row_factory = sqlite3.Row
    yield session, db
    db.close()
    session.close()


def test_the_run_is_pinned(run) -> None:
    _session, db = run
    rows = db.execute("SELECT exit_code, COUNT(*), ROUND(SUM(pnl), 2) FROM baskets "
                      "GROUP BY exit_code ORDER BY exit_code").fetchall()
    assert [tuple(r) for r in rows] == [("EX", 1, -35.52), ("HS", 2, -618.48),
                                        ("MR", 3, 811.99), ("TP", 4, 1154.13)]


def test_entries_only_beyond_e_and_above_break_even(run) -> None:
    _session, db = run
    entries = db.execute("SELECT tdi, diagnostics FROM tdi_snapshots "
                         "WHERE decision LIKE 'entry%'").fetchall()
    assert len(entries) == 10
    for row in entries:
        d = json.loads(row["diagnostics"])
        assert abs(row["tdi"]) > 20.0 > d["break_even"]
        assert d["days"] > 5.0  # none inside the close-before-expiry window


def test_ex_closes_before_the_close_only_window(run) -> None:
    _session, db = run
    ex = db.execute("SELECT basket_id, closed_at, exit_detail FROM baskets "
                    "WHERE exit_code = 'EX'").fetchone()
    closed_s = datetime.fromisoformat(ex["closed_at"]).timestamp()
    assert H24_EXPIRY_S - 5 * 86_400 <= closed_s < CLOSE_ONLY_S
    assert ex["exit_detail"].startswith("5.0 days to XAUUSD_H24's expiry <= close_days 5")
    assert db.execute("SELECT COUNT(*) FROM orders WHERE retcode = ?",
                      (RETCODE_CLOSE_ONLY,)).fetchone()[0] == 0


def test_the_roll_is_journaled_and_the_cluster_trades_the_next_contract(run) -> None:
    session, db = run
    rolls = db.execute("SELECT time, source, command, result FROM manual_commands "
                       "WHERE command = 'RollContract'").fetchall()
    assert [(r["source"], r["result"]) for r in rolls] == [
        ("engine", "ok: GOLD_BASIS rolled from XAUUSD_H24 to XAUUSD_M24")]
    rolled_at = rolls[0]["time"]
    assert rolled_at == db.execute("SELECT closed_at FROM baskets WHERE exit_code = 'EX'"
                                   ).fetchone()[0]
    later = db.execute("SELECT DISTINCT l.symbol FROM legs l JOIN baskets b USING (basket_id) "
                       "WHERE b.opened_at > ?", (rolled_at,)).fetchall()
    assert sorted(r[0] for r in later) == ["XAUUSD", "XAUUSD_M24"]
    assert session.engine.signals["GOLD_BASIS"].symbols == ("XAUUSD", "XAUUSD_M24")
    assert session.engine.trade_mode("XAUUSD_M24") == "full"


def test_every_basket_has_equal_notional_legs(run) -> None:
    """The exposure vector is -0.5 / +0.5 of the asset (gold) valued at the cash price, so
    both legs hold the same ounces: their USD notionals at the fills differ by exactly the
    basis F/S - 1 of the entry prices (the hedge that converges at expiry), measured here."""
    _session, db = run
    deals = db.execute("SELECT basket_id, symbol, type, volume, price FROM deals "
                       "WHERE entry = 0 AND basket_id IS NOT NULL ORDER BY basket_id, symbol"
                       ).fetchall()
    legs: dict[str, list[sqlite3.Row]] = {}
    for d in deals:
        legs.setdefault(d["basket_id"], []).append(d)
    assert len(legs) == 10
    gaps = []
    for cash, future in legs.values():  # XAUUSD, then its contract
        assert cash["type"] != future["type"] and cash["volume"] == future["volume"]
        usd = [leg["volume"] * CONTRACT_SIZE * leg["price"] for leg in (cash, future)]
        gap = abs(usd[1] - usd[0]) / usd[0]
        assert gap == pytest.approx(abs(future["price"] / cash["price"] - 1), abs=1e-12)
        gaps.append(gap)
    assert max(gaps) == pytest.approx(0.009904, abs=1e-6)  # M24, three months out
    assert min(gaps) == pytest.approx(0.000923, abs=1e-6)


def test_an_entry_below_break_even_is_refused_at_start(tmp_path: Path) -> None:
    config = load_engine_config(EXAMPLE)
    low = dataclasses.replace(config, clusters=(dataclasses.replace(
        config.clusters[0], entry=3.0, exit_band=1.0),))
    with pytest.raises(UserError) as err:
        _session(low, tmp_path / "journal.sqlite")
    message = str(err.value)
    assert message.startswith("cluster GOLD_BASIS: entry 3 bp is not above the break-even ")
    assert "(spread " in message and "+ commission 0.00 + swap " in message
    assert "over 2 days" in message and "\n" not in message


def test_a_trader_threshold_below_break_even_is_refused(run) -> None:
    session, _db = run
    ok, message = session.engine.execute(cmd.SetThresholds(cluster="GOLD_BASIS", entry=4.0,
                                                           exit_band=1.0, source="gui"))
    assert not ok
    assert message.startswith("cluster GOLD_BASIS: entry 4 bp is not above the break-even")
    assert session.engine.signals["GOLD_BASIS"].entry == 20.0


def test_swap_figures_from_the_terminal() -> None:
    """The cash CFD's swaps as fractions of its notional, and the carry they imply, by hand
    from the simulated broker's XAUUSD (points mode: -25 long, +8 short, point 0.01)."""
    from app.basis_start import implied_carry, swap_fraction_per_day

    market = SyntheticMarket(MarketConfig(seed=2, start=START, end=END, latency=False,
                                          symbols=("XAUUSD",)))
    sim = SimTerminal(feed=market, config=demo_account(0, None))
    sim.initialize()
    info = sim.symbol_info("XAUUSD")
    assert (info.swap_long, info.swap_short, info.point) == (-25.0, 8.0, 0.01)
    long_, short = swap_fraction_per_day(info, 1250.0)
    assert long_ == pytest.approx(-0.25 / 1250.0, abs=1e-15)
    assert short == pytest.approx(0.08 / 1250.0, abs=1e-15)
    assert implied_carry(info, 1250.0) == pytest.approx((0.08 + 0.25) / 2 / 1250.0 * 365,
                                                        abs=1e-15)  # 4.818 % a year
