"""Start-up reconciliation only touches baskets of the account epoch the engine trades in.

A simulator's positions and deal history die with it; a broker's account (and a simulator
served by another process) outlives the engine.  See ``engine.records.RunStart``.
"""

from __future__ import annotations

from helpers.engine_setup import SYMBOLS, first_basket, session

from app.sessions import demo_session, sim_session
from engine.events import LogLine


def test_a_fresh_simulator_adopts_nothing_and_leaves_the_old_baskets_as_journaled(tmp_path):
    # Arrange: a demo with a basket open, its process gone without stop()
    old = session(tmp_path)
    cluster = first_basket(old.engine)
    basket_id = old.engine.baskets[cluster].basket_id
    old_run = old.engine.run_id
    before = old.journal.basket(basket_id)
    deals_before = old.journal.deals_for_basket(basket_id)
    old.journal.close()

    # Act: the same demo again, over a fresh simulator, on the same journal
    new = demo_session(old.engine.config, symbols=SYMBOLS,
                       journal_path=tmp_path / "journal.sqlite")
    lines: list[str] = []
    new.engine.bus.subscribe(lambda e: lines.append(e.text) if isinstance(e, LogLine) else None)
    new.engine.start()
    adopted = dict(new.engine.baskets)
    after = new.journal.basket(basket_id)
    deals_after = new.journal.deals_for_basket(basket_id)
    runs = {r["run_id"]: r for r in new.journal.runs()}
    new.close()

    # Assert
    assert new.engine.epoch != old.engine.epoch
    assert adopted == {}
    assert after == before and after is not None and after.is_open
    assert deals_after == deals_before and deals_before
    assert runs[old_run]["end_reason"] == "interrupted"
    assert any(f"left as journaled (their simulator is gone): {basket_id}" in line
               for line in lines), lines


def test_the_same_simulator_is_one_epoch_and_is_reconciled(tmp_path):
    # Arrange: a demo with a basket open; the engine goes, the simulator stays
    old = session(tmp_path)
    cluster = first_basket(old.engine)
    basket_id = old.engine.baskets[cluster].basket_id
    old.journal.close()

    # Act
    again = sim_session(old.engine.config, old.sim, mode=old.mode,
                        journal_path=tmp_path / "journal.sqlite", calendar=old.calendar)
    again.engine.start()
    adopted = again.engine.baskets.get(cluster)
    again.close()

    # Assert
    assert again.engine.epoch == old.engine.epoch == old.sim.sim_config.account_epoch
    assert adopted is not None and adopted.basket_id == basket_id
