"""Convertible arbitrage in the console: the EXTERNAL bond and the engine's delta hedge.

The trader holds a convertible bond at another venue and enters it by hand
(``commands.OpenExternalBond``); it is journaled as an EXTERNAL position
(``storage.journal.external``), never sent to the terminal, read back at restart and closed
by hand (``CloseExternalBond``).  While it is held the engine hedges its stock delta with
the stock CFD:

- **When.**  At every step in which the stock quoted, once per minute (the check sees the
  minute's last mid).  Not at a daily bar's close: a stock CFD's D1 bar closes at 17:00 New
  York with the market shut, so its order would fill a day late, whereas a minute in which
  the stock quotes is one its market is open.  With daily closes that is one check a day,
  at the close, where the order fills; with M1 data every minute, and the band decides how
  rarely it trades.
- **What.**  The bond priced at the stock's mid (``engine.hedging_pricing``, the
  convertible pricer), the target hedge -(bonds x delta), the held hedge from the terminal
  (``engine.hedging_orders``), and an order for the difference when it is outside the band
  (``engine.hedging_policy``: the band, the rounding and the gates).
- **P&L.**  The split of ``engine.hedging_pnl`` advanced at each check; a mark journaled at
  each trade and at most every ``mark_minutes`` otherwise, from which a restart resumes.
- **Exposure.**  The bond counts as long its delta in shares of the stock wherever the
  console shows net exposure per currency and asset, and in the hedge's own cap check, so
  a hedged book reads as flat in the stock (``exposure_positions``).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from engine import commands as cmd
from engine import hedging_pnl as pnl
from engine.hedging_bond import (
    HEDGE_MAGIC_BASE,
    YEAR_DAYS,
    BondTerms,
    CreditInputs,
    ExternalBond,
    HedgeSettings,
    maturity_in,
)
from engine.hedging_orders import HedgeLedger, close_all, hedge_positions, held_shares, trade
from engine.hedging_policy import GateInputs, order_shares, refusal, target_shares
from engine.hedging_pricing import implied_vol, market_at, terms_at, value_at
from engine.hedging_records import ExternalClose, ExternalJournal, ExternalMark, ExternalRecord
from engine.hedging_views import ExternalBondView, HedgePoint
from engine.records import Refusal
from engine.snapshot import PositionView, position_views

Outcome = tuple[bool, str]

#: A mid unchanged since a check less than this ago is not checked again (time alone moves
#: a convertible's delta by a negligible amount within an hour).
RECHECK = timedelta(hours=1)
#: Checks kept for the panel's chart (a year of daily checks; a week of minutes).
HISTORY_POINTS = 2000
#: Extra keys of a mark's split JSON: what a restart needs to resume the split exactly.
_STATE_KEYS = ("mid_hedge", "book_profit", "book_swap", "book_commission",
               "closed_profit", "closed_swap", "closed_commission", "market_price",
               "implied_vol", "implied_at_s")


@dataclass
class _Held:
    """One bond's hedger state (engine thread only)."""

    bond: ExternalBond
    ledger: HedgeLedger = field(default_factory=HedgeLedger)
    state: pnl.PnlState = field(default_factory=pnl.PnlState)
    paused: bool = False
    market_price: float = math.nan
    implied: float = math.nan
    #: When the market price was entered (its implied volatility is solved once, at the
    #: spot of that moment: a quote is a price at a time, not at every later spot).
    implied_at: datetime | None = None
    implied_due: bool = True
    last_minute: int = -1
    last_time: datetime | None = None
    last_mark_ms: int = -1
    refused: str = ""
    view: ExternalBondView | None = None
    history: deque[HedgePoint] = field(default_factory=lambda: deque(maxlen=HISTORY_POINTS))


class Hedger:
    """The engine's collaborator for EXTERNAL bonds (see the module docstring)."""

    def __init__(self, host: Any) -> None:
        self._host = host
        journal = host.journal
        self._journal: ExternalJournal | None = (journal if isinstance(journal, ExternalJournal)
                                                 else None)
        self._held: dict[str, _Held] = {}
        self._views: tuple[ExternalBondView, ...] = ()
        #: Hedges of bonds already closed whose market was shut at the close: bond id ->
        #: (symbol, magic), closed at the stock's next quote (``_unwind``).
        self._unwinding: dict[str, tuple[str, int]] = {}

    # ------------------------------------------------------------------ state

    @property
    def holding(self) -> bool:
        """A bond is held, or a sold bond's hedge waits to close: every minute may need a
        check (no idle batching)."""
        return bool(self._held or self._unwinding)

    def views(self) -> tuple[ExternalBondView, ...]:
        """The bonds as of their last check (immutable; any thread)."""
        return self._views

    def restore(self) -> None:
        """The bonds the journal holds open, each resuming its split from its last mark."""
        if self._journal is None:
            return
        for record in self._journal.open_externals():
            held = _restored(record)
            if record.bond.symbol not in self._host.market.index:
                self._host.log("WARNING", f"external bond {record.bond.bond_id}: this market "
                                          f"has no {record.bond.symbol}; not hedged")
            self._held[record.bond.bond_id] = held
            self._host.log("INFO", f"external bond {record.bond.bond_id} restored: "
                                   f"{record.bond.bonds:g} bonds on {record.bond.symbol}")
        self._publish()

    # ------------------------------------------------------------------ commands

    def open_bond(self, command: cmd.OpenExternalBond) -> Outcome:
        host = self._host
        if self._journal is None:
            return False, "this journal cannot hold external positions"
        symbol = command.symbol
        spec = host.manual.orders.spec(symbol)  # KeyError: not in this market
        entered = self._journal.external_history()
        number = len(entered) + 1
        bond_id = command.bond_id or f"CB{number}-{symbol}"[:24]
        if any(r.bond.bond_id == bond_id for r in entered):
            return False, f"bond id {bond_id} is already in the journal"
        magic = HEDGE_MAGIC_BASE + number
        if magic in {sig.spec.magic for sig in host.signals.values()}:
            return False, f"magic {magic} belongs to a cluster"
        now = host.now()
        bond = ExternalBond(
            bond_id, spec.symbol, float(command.bonds), float(command.entry_price), now,
            BondTerms(maturity_in(float(command.maturity_years), now), float(command.face),
                      float(command.coupon), int(command.frequency), float(command.ratio),
                      bool(command.european), _dated(command.calls, now, "calls"),
                      _dated(command.puts, now, "puts")),
            CreditInputs(float(command.volatility), float(command.rate),
                         float(command.dividend_yield), float(command.credit_spread)),
            HedgeSettings(band=float(command.band)), magic, host.run_id)
        self._journal.open_external(bond)
        held = _Held(bond, market_price=bond.entry_price)
        self._held[bond_id] = held
        self._check(held, force=True)
        return True, (f"{bond_id}: {bond.bonds:g} bonds on {bond.symbol} entered at "
                      f"{bond.entry_price:,.2f} (EXTERNAL; hedge magic {magic})")

    def close_bond(self, command: cmd.CloseExternalBond) -> Outcome:
        held = self._held.get(command.bond_id)
        if held is None or self._journal is None:
            return False, f"no external bond {command.bond_id!r} is held"
        price = float(command.price)
        if not (math.isfinite(price) and price > 0):
            return False, f"price {command.price!r} must be a positive number"
        host = self._host
        bond = held.bond
        note = ""
        if command.close_hedge:
            positions = hedge_positions(host.terminal, bond.symbol, bond.magic)
            done = close_all(host.executor, positions, bond.symbol, bond.magic, bond.bond_id)
            if done.market_closed:
                self._unwinding[bond.bond_id] = (bond.symbol, bond.magic)
                note = f"; the hedge closes at {bond.symbol}'s next quote (market closed)"
            elif done.retcode:
                note = f"; hedge not closed ({done.detail.strip()}): close it by hand"
        self._check(held, force=True, close_price=price)
        total = held.state.total
        self._journal.close_external(ExternalClose(bond.bond_id, host.now(), price, total,
                                                   f"closed by {command.source}{note}",
                                                   host.run_id))
        del self._held[bond.bond_id]
        self._publish()
        return True, f"{bond.bond_id} closed at {price:,.2f}: P&L {total:+,.2f}{note}"

    def set_hedge(self, command: cmd.SetHedge) -> Outcome:
        held = self._held.get(command.bond_id)
        if held is None:
            return False, f"no external bond {command.bond_id!r} is held"
        # everything is checked before anything changes (a refused command changes nothing)
        settings = (replace(held.bond.settings, band=float(command.band))
                    if command.band is not None else held.bond.settings)
        price = float(command.market_price) if command.market_price is not None else None
        if price is not None and not (math.isfinite(price) and price > 0):
            return False, f"market price {command.market_price!r} must be positive"
        said = []
        if command.paused is not None:
            held.paused = bool(command.paused)
            said.append("paused" if held.paused else "hedging")
        if command.band is not None:
            held.bond = replace(held.bond, settings=settings)
            said.append(f"band {settings.band:g}")
        if price is not None:
            held.market_price = price
            held.implied_due = True
            said.append(f"market price {price:,.2f}")
        self._check(held, force=True)
        return True, f"{command.bond_id}: {', '.join(said) or 'unchanged'}"

    # ------------------------------------------------------------------ the check

    def on_ticks(self, ticks: np.ndarray) -> None:
        """Check every bond whose stock quoted in this step, once per minute."""
        if not len(ticks):
            return
        quoted = set(np.unique(ticks["symbol"]).tolist())
        index = self._host.market.index
        for bond_id, (symbol, magic) in list(self._unwinding.items()):
            if index.get(symbol, -1) in quoted:
                self._unwind(bond_id, symbol, magic)
        for held in list(self._held.values()):
            if index.get(held.bond.symbol, -1) in quoted:
                self._check(held)

    def _unwind(self, bond_id: str, symbol: str, magic: int) -> None:
        """Close a sold bond's hedge now that its stock quotes (see ``close_bond``)."""
        host = self._host
        positions = hedge_positions(host.terminal, symbol, magic)
        done = close_all(host.executor, positions, symbol, magic, bond_id)
        if done.market_closed:
            return
        del self._unwinding[bond_id]
        if done.retcode:
            host.journal_error("hedging", f"{bond_id}: the hedge could not be closed; close "
                                          f"it by hand", done.detail)
        else:
            host.log("INFO", f"hedge of {bond_id} closed ({len(positions)} positions)")

    def _check(self, held: _Held, *, force: bool = False, close_price: float = math.nan) -> None:
        host = self._host
        minute = host.now_msc // 60_000
        if minute == held.last_minute and not force:
            return
        bond = held.bond
        i = host.market.index.get(bond.symbol)
        mids = host.market.mids()
        spot = float(mids[i]) if i is not None else math.nan
        now = host.now()
        if not force and _unchanged(held, spot, now):
            return
        value = self._priced(held, spot, now)
        if value is None:
            self._view(held, now, spot, None, math.nan, 0.0, "no price (matured, or no quote)")
            return
        held.last_minute = minute
        spec = host.manual.orders.spec(bond.symbol)
        target = target_shares(bond.bonds, value.delta)
        positions = hedge_positions(host.terminal, bond.symbol, bond.magic)
        before = held_shares(positions, spec.contract_size)
        status, traded = self._rebalance(held, spec, positions, target, before,
                                         math.isfinite(close_price))
        if traded:
            positions = hedge_positions(host.terminal, bond.symbol, bond.magic)
        after = held_shares(positions, spec.contract_size)
        book = held.ledger.book(host.terminal, positions)
        if held.state.started:
            held.state = pnl.settle(held.state, after, book)
        else:
            held.state = pnl.start(bond.bonds, bond.entry_price, spot, value, after, book)
        if math.isfinite(close_price):
            held.state = pnl.sold(held.state, bond.bonds, close_price)
        held.last_time = now
        self._view(held, now, spot, value, target, after, status)
        self._mark(held, now, spot, value, target, after, traded or force)

    def _rebalance(self, held: _Held, spec: Any, positions: list[Any], target: float,
                   before: float, closing: bool) -> tuple[str, bool]:
        """Trade back to the target when outside the band and allowed: (status, traded)."""
        bond = held.bond
        band = bond.band_shares()
        order = order_shares(bond.bonds, -target / bond.bonds, before, band,
                             spec.volume_step * spec.contract_size,
                             spec.volume_min * spec.contract_size)
        if closing:
            return "closed", False
        if order == 0.0:
            held.refused = ""
            return ("inside the band" if abs(target - before) <= band
                    else "outside the band by less than a volume step"), False
        stopped = refusal(order, before, self._gate(bond, spec, order, before))
        if stopped is not None:
            self._refuse(held, *stopped)
            return f"not traded: {stopped[1]}", False
        done = trade(self._host.executor, positions, bond.symbol, order, spec.contract_size,
                     bond.magic, bond.bond_id)
        held.refused = ""
        if done.retcode:
            if done.market_closed:
                return "market closed: retried at the next quote", abs(done.filled) > 0
            self._host.journal_error("hedging", f"{bond.bond_id}: hedge order {order:+g} "
                                                f"shares failed", done.detail)
            return f"order failed: {done.detail.strip()}", abs(done.filled) > 0
        self._host.log("INFO", f"hedge {bond.bond_id}: {order:+g} shares of {bond.symbol} "
                               f"(target {target:+.1f}, held {before:+g})")
        return f"traded {order:+g} shares", True

    def _gate(self, bond: ExternalBond, spec: Any, order: float, before: float) -> GateInputs:
        host = self._host
        risk = host.risk.snapshot(host.now())
        host.refresh_account()
        orders = host.manual.orders
        positions = list(position_views(host.terminal.positions_get() or (), {}, {}))
        net_before = orders.net_exposures(tuple(positions + self.exposure_positions()))
        side = "BUY" if order > 0 else "SELL"
        added = PositionView(0, bond.symbol, side, abs(order) / spec.contract_size, 0.0, 0.0,
                             0.0, 0.0, bond.magic, "hedge", None)
        net_after = orders.net_exposures(tuple(positions + self.exposure_positions()
                                               + [added]))
        equity = host.equity
        cap = (host.config.risk.max_currency_exposure * equity
               if math.isfinite(equity) and equity > 0 else math.nan)
        return GateInputs(self._held[bond.bond_id].paused, risk.account_state, host.automation,
                          abs(order) / spec.contract_size, host.config.risk.max_lots_per_leg,
                          net_after, net_before, cap, host.margin_level,
                          host.config.risk.margin_level_floor)

    def _refuse(self, held: _Held, code: str, detail: str) -> None:
        """Journal a refusal once per reason (the gate is asked at every check)."""
        if held.refused == code:
            return
        held.refused = code
        host = self._host
        host.journal.record_refusal(Refusal(host.now(), held.bond.bond_id, code, detail,
                                            host.run_id))
        host.log("WARNING", f"hedge {held.bond.bond_id} not traded: {detail}")

    def _priced(self, held: _Held, spot: float, now: datetime) -> Any:
        """The bond's value at ``spot`` now (None at maturity or without a quote).  After
        the first check it is priced by the split itself (``hedging_pnl.advance``: the
        simulator's ``split_pnl`` over the interval since the last check), so the split's
        bond side advances with the same prices the check shows."""
        bond = held.bond
        state = held.state
        last = held.last_time
        if not state.started or last is None:
            return value_at(bond, spot, now)
        terms = terms_at(bond, last)
        if terms is None or terms_at(bond, now) is None or not (math.isfinite(spot)
                                                                 and spot > 0):
            return None
        years = max((now - last).total_seconds(), 0.0) / 86_400.0 / YEAR_DAYS
        size = self._host.symbol_book.contract_sizes().get(bond.symbol, 1.0)
        unit = size * _quote_value(self._host, bond.symbol)
        held.state, value = pnl.advance(
            state, terms, market_at(bond, state.spot), market_at(bond, spot),
            bonds=bond.bonds, years=years, financing_rate=bond.inputs.rate, unit=unit,
            steps=bond.settings.steps)
        return value

    def _view(self, held: _Held, now: datetime, spot: float, value: Any, target: float,
              after: float, status: str) -> None:
        bond = held.bond
        if value is not None:
            held.history.append(HedgePoint(now, spot, bond.bonds * value.delta, target, after))
            if held.implied_due and math.isfinite(held.market_price):
                held.implied = implied_vol(bond, spot, now, held.market_price)
                held.implied_at, held.implied_due = now, False
        figures = {} if value is None else {
            "price": value.price, "delta": value.delta, "gamma": value.gamma,
            "parity": value.parity, "bond_floor": value.bond_floor}
        held.view = ExternalBondView(
            bond.bond_id, bond.symbol, bond.bonds, bond.terms.ratio, bond.terms.face,
            bond.terms.coupon, bond.terms.maturity, bond.terms.years_left(now),
            bond.entry_price, bond.opened_at, bond.magic, bond.inputs.volatility,
            bond.inputs.credit_spread, bond.inputs.rate, bond.inputs.dividend_yield,
            bond.settings.band, held.paused, now, spot, **figures,
            market_price=held.market_price, implied_vol=held.implied,
            implied_at=held.implied_at, target=target,
            held=after, band=bond.band_shares(), status=status,
            split=held.state.parts() if held.state.started else (),
            history=tuple(held.history), frequency=bond.terms.frequency,
            calls=bond.terms.calls, puts=bond.terms.puts)
        self._publish()

    def _mark(self, held: _Held, now: datetime, spot: float, value: Any, target: float,
              after: float, due: bool) -> None:
        if self._journal is None:
            return
        ms = self._host.now_msc
        every = held.bond.settings.mark_minutes * 60_000
        if not due and held.last_mark_ms >= 0 and ms - held.last_mark_ms < every:
            return
        held.last_mark_ms = ms
        self._journal.record_external_mark(ExternalMark(
            held.bond.bond_id, now, spot, value.price, value.delta, value.gamma, target, after,
            held.state.parts() + _state_extras(held), self._host.run_id))

    def _publish(self) -> None:
        self._views = tuple(h.view if h.view is not None else _idle_view(h)
                            for h in self._held.values())

    # ------------------------------------------------------------------ exposure

    def exposure_positions(self) -> list[PositionView]:
        """Each held bond as a long position of its delta in shares of its stock, as of its
        last check: what the exposure figures count it as (see the module docstring)."""
        out = []
        sizes = self._host.symbol_book.contract_sizes()
        for held in self._held.values():
            view = held.view
            size = sizes.get(held.bond.symbol)
            if view is None or not size or not math.isfinite(view.delta):
                continue
            shares = held.bond.bonds * view.delta
            out.append(PositionView(0, held.bond.symbol, "BUY" if shares >= 0 else "SELL",
                                    abs(shares) / size, held.bond.entry_price, view.spot, 0.0,
                                    0.0, held.bond.magic, f"EXTERNAL {held.bond.bond_id}",
                                    None))
        return out

    def exposure_table(self, positions: tuple[PositionView, ...], equity: float) -> Any:
        """The snapshot's exposure rows with the bonds counted (``exposure_positions``)."""
        orders = self._host.manual.orders
        if not self._held:
            return orders.exposure_table(positions, equity)
        return orders.exposure_table(tuple(positions) + tuple(self.exposure_positions()),
                                     equity)


# ---------------------------------------------------------------------- helpers


def _unchanged(held: _Held, spot: float, now: datetime) -> bool:
    """The mid has not moved since a check less than ``RECHECK`` ago: nothing to decide
    (a daily close's ticks straddle two minutes; a quiet stock repeats its quote)."""
    last = held.last_time
    return last is not None and spot == held.state.spot and now - last < RECHECK


def _quote_value(host: Any, symbol: str) -> float:
    """The account value of one unit of the symbol's price currency now."""
    inst = host.fx.instruments.get(symbol)
    if inst is None:
        return 1.0
    try:
        return float(host.fx.value(inst.quote, host.market.mids()))
    except KeyError:
        return math.nan


def _state_extras(held: _Held) -> tuple[tuple[str, float], ...]:
    s = held.state
    c = held.ledger.closed
    implied_at = held.implied_at.timestamp() if held.implied_at is not None else math.nan
    values = (s.mid_hedge, s.book.profit, s.book.swap, s.book.commission,
              c.profit, c.swap, c.commission, held.market_price, held.implied, implied_at)
    return tuple(zip(_STATE_KEYS, values, strict=True))


def _restored(record: ExternalRecord) -> _Held:
    """A held bond from the journal: its split resumes from the last mark's figures."""
    held = _Held(record.bond, market_price=record.bond.entry_price)
    mark = record.last_mark
    if mark is None:
        return held
    d = dict(mark.split)
    get = lambda name: float(d.get(name, 0.0)) if d.get(name) is not None else 0.0  # noqa: E731
    book = pnl.HedgeBook(get("book_profit"), get("book_swap"), get("book_commission"))
    held.state = pnl.PnlState(
        edge=get("edge"), gamma_trading=get("gamma_trading"), rest=get("rest"),
        coupon=get("coupon"), bond_financing=get("bond_financing"),
        mid_hedge=get("mid_hedge"), book=book, spot=mark.spot, held=mark.held)
    held.ledger = HedgeLedger(pnl.HedgeBook(get("closed_profit"), get("closed_swap"),
                                            get("closed_commission")))
    held.last_time = mark.time
    # the last market price entered and the volatility it implied when it was entered
    if d.get("market_price") is not None:
        held.market_price = get("market_price")
        held.implied = float(d["implied_vol"]) if d.get("implied_vol") is not None else math.nan
        if d.get("implied_at_s") is not None:
            held.implied_at = datetime.fromtimestamp(get("implied_at_s"), UTC)
        held.implied_due = False
    return held


def _idle_view(held: _Held) -> ExternalBondView:
    b = held.bond
    return ExternalBondView(
        b.bond_id, b.symbol, b.bonds, b.terms.ratio, b.terms.face, b.terms.coupon,
        b.terms.maturity, b.terms.years_left(b.opened_at), b.entry_price, b.opened_at,
        b.magic, b.inputs.volatility, b.inputs.credit_spread, b.inputs.rate,
        b.inputs.dividend_yield, b.settings.band, held.paused,
        market_price=held.market_price, implied_vol=held.implied,
        implied_at=held.implied_at, band=b.band_shares(),
        split=held.state.parts() if held.state.started else (), frequency=b.terms.frequency,
        calls=b.terms.calls, puts=b.terms.puts)


def _dated(schedule: Any, now: datetime, name: str) -> tuple[tuple[datetime, float], ...]:
    """A command's ``(years from now, price)`` schedule as dates (``BondTerms``)."""
    out = []
    for entry in schedule:
        if not (isinstance(entry, tuple | list) and len(entry) == 2):
            raise ValueError(f"{name} {entry!r} is not a (years, price) pair")
        out.append((maturity_in(float(entry[0]), now, f"{name} date"), float(entry[1])))
    return tuple(out)
