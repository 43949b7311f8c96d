"""The trader's manual commands: queued from any thread, applied on the engine's thread.

Each command is journaled when received and again with its result, and answered with a
``CommandDone`` event.  What a command does is one handler per command type (``HANDLERS``
of ``ManualCommands``): adding a command is adding a handler, not another branch.
"""

from __future__ import annotations

import dataclasses
import math
import queue
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from engine import commands as cmd
from engine.baskets import Basket
from engine.events import CommandDone, EngineEvent
from engine.execution import Executor
from engine.exits import Exits
from engine.kinds.base import KindPoint
from engine.manual_orders import ManualOrders
from engine.model import ClusterState, Direction, ExitCode, OrderPurpose
from engine.news import NewsFilter
from engine.ports import EventCalendar, Journal, Terminal
from engine.preview import moved_legs, preview_basket
from engine.records import ClusterStateChange, ManualCommand
from engine.risk import RiskManager
from engine.signals import ClusterSignal

#: (done, message): the answer every command gets.
Outcome = tuple[bool, str]

_STATE_OF: dict[type[cmd.Command], ClusterState] = {
    cmd.PauseCluster: ClusterState.CLOSE_ONLY,
    cmd.HaltCluster: ClusterState.HALTED,
    cmd.ResumeCluster: ClusterState.ACTIVE,
}


class CommandsHost(Protocol):
    """What the manual commands act on."""

    baskets: dict[str, Basket]
    signals: dict[str, ClusterSignal]
    risk: RiskManager
    news: NewsFilter
    journal: Journal
    terminal: Terminal
    executor: Executor
    exits: Exits
    automation: bool
    hedging: Any  # engine.hedging.Hedger
    # what a basket preview reads (engine.preview.PreviewHost)
    config: Any
    market: Any
    symbol_book: Any
    entries: Any

    def now(self) -> datetime: ...
    def publish(self, event: EngineEvent) -> None: ...
    def journal_state(self, change: ClusterStateChange) -> None: ...
    def add_cluster(self, spec: Any) -> None: ...
    def use_calendar(self, calendar: EventCalendar) -> None: ...
    def try_entry(self, sig: ClusterSignal, point: KindPoint, direction: Direction,
                  manual: bool = False) -> str | None: ...
    def close_basket(self, cluster: str, code: ExitCode, tdi: float, detail: str,
                     purpose: OrderPurpose = OrderPurpose.EXIT) -> bool: ...
    def flatten_all(self, code: ExitCode, detail: str) -> None: ...


class ManualCommands:
    """The command queue and the handler of each command type."""

    def __init__(self, host: CommandsHost) -> None:
        self._host = host
        self._queue: queue.Queue[cmd.Command] = queue.Queue()
        self._handlers: dict[type[cmd.Command], Callable[[Any], Outcome]] = {
            cmd.PauseCluster: self._set_state,
            cmd.HaltCluster: self._set_state,
            cmd.ResumeCluster: self._set_state,
            cmd.CloseBasket: self._close_basket,
            cmd.ClosePosition: self._close_position,
            cmd.FlattenAll: self._flatten_all,
            cmd.OpenBasket: self._open_basket,
            cmd.SetThresholds: self._set_thresholds,
            cmd.RollContract: self._roll_contract,
            cmd.UseCalendar: self._use_calendar,
            cmd.Rearm: self._rearm,
            cmd.PlaceOrder: self._place_order,
            # risk state controls
            cmd.PreviewBasket: self._preview_basket,
            cmd.SetAutomation: self._set_automation,
            # merger arbitrage (engine.kinds.deal)
            cmd.AddDeal: self._add_deal,
            cmd.DealEvent: self._deal_event,
            # convertible arbitrage: the EXTERNAL bond and its hedge (engine.hedging)
            cmd.OpenExternalBond: lambda c: self._host.hedging.open_bond(c),
            cmd.CloseExternalBond: lambda c: self._host.hedging.close_bond(c),
            cmd.SetHedge: lambda c: self._host.hedging.set_hedge(c),
        }
        #: New Order's orders (engine.manual_orders): placed here, followed until closed.
        self.orders = ManualOrders(host)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ queue

    def submit(self, command: cmd.Command) -> None:
        """Queue a command (any thread)."""
        self._queue.put(command)

    def next_waiting(self) -> cmd.Command | None:
        if self._queue.empty():  # every step asks; an empty queue needs no exception
            return None
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def waiting(self) -> bool:
        return not self._queue.empty()

    # ------------------------------------------------------------------ execution

    def execute(self, command: cmd.Command) -> Outcome:
        """Validate, journal, apply and answer one command (on the engine's thread)."""
        host = self._host
        host.journal.record_command(ManualCommand(command.command_id, host.now(),
                                                  command.source, command.name,
                                                  command.arguments()))
        try:
            ok, message = self._apply(command)
        except (KeyError, ValueError) as exc:
            ok, message = False, f"rejected: {exc}"
        host.journal.record_command(ManualCommand(
            command.command_id, host.now(), command.source, command.name, command.arguments(),
            ("ok: " if ok else "failed: ") + message))
        host.publish(CommandDone(host.now(), command.command_id, command.name, ok, message))
        return ok, message

    def _apply(self, command: cmd.Command) -> Outcome:
        handler = next((self._handlers[kind] for kind in type(command).__mro__
                        if kind in self._handlers), None)
        if handler is None:
            return False, f"unknown command {command.name}"
        return handler(command)

    def _check_cluster(self, name: str) -> None:
        """KeyError (answered as rejected) unless ``name`` is a configured cluster or "*"."""
        if name != "*" and name not in self._host.signals:
            raise KeyError(f"no cluster named {name!r}")

    # ------------------------------------------------------------------ handlers

    def _set_state(self, command: cmd.PauseCluster | cmd.HaltCluster | cmd.ResumeCluster,
                   ) -> Outcome:
        host = self._host
        c, who = command.cluster, command.source
        state = _STATE_OF[type(command)]
        self._check_cluster(c)
        if c == "*" and state is ClusterState.ACTIVE:
            lock = host.risk.snapshot(host.now()).account_lock
            if lock is not None and lock.who == "engine":
                return False, (f"the account is {lock.state.value} by the risk rules "
                               f"({lock.reason.split(':')[0]}): resuming it is a re-arm, which "
                               "re-bases the drawdown stop; send Rearm")
        host.journal_state(host.risk.set_cluster_state(host.now(), c, state,
                                                       f"{command.name} by {who}", who))
        return True, f"{'all clusters' if c == '*' else c} {state.value}"

    def _close_basket(self, command: cmd.CloseBasket) -> Outcome:
        c = command.cluster
        self._check_cluster(c)
        if c not in self._host.baskets:
            return False, f"{c} has no open basket"
        done = self._host.close_basket(c, ExitCode.MANUAL, math.nan,
                                       f"closed by {command.source}")
        return done, "closed" if done else "close pending (a leg failed; retrying)"

    def _close_position(self, command: cmd.ClosePosition) -> Outcome:
        ticket = int(command.ticket)
        outcome = self._close_leg(ticket, command.source)
        return outcome if outcome is not None else self._close_foreign(ticket)

    def _close_leg(self, ticket: int, who: str) -> Outcome | None:
        """Close one leg of a basket; its basket closes with its last leg.  None: no basket
        of the engine holds this ticket."""
        host = self._host
        for cluster, basket in host.baskets.items():
            for leg in basket.open_legs:
                if leg.position != ticket:
                    continue
                fill = host.executor.send_leg(basket.basket_id, OrderPurpose.MANUAL,
                                              leg.symbol, -leg.lots, basket.magic,
                                              position=ticket)
                if not fill.filled:
                    return False, f"#{ticket}: {fill.status} {fill.retcode} {fill.detail}"
                host.exits.book_close(leg)
                if not basket.open_legs:
                    host.close_basket(cluster, ExitCode.MANUAL, math.nan,
                                      f"last leg closed by {who}")
                return True, f"#{ticket} ({leg.symbol}) of {basket.basket_id} closed"
        return None

    def _close_foreign(self, ticket: int) -> Outcome:
        """Close a position no basket owns (external, or another program's)."""
        host = self._host
        positions = host.terminal.positions_get(ticket=ticket) or ()
        if not positions:
            return False, f"no open position #{ticket}"
        p = positions[0]
        lots = float(p.volume) if int(p.type) == 0 else -float(p.volume)
        fill = host.executor.send_leg(None, OrderPurpose.MANUAL, str(p.symbol), -lots,
                                      int(p.magic), position=ticket, comment=str(p.comment))
        return fill.filled, (f"#{ticket} closed" if fill.filled else
                             f"#{ticket}: {fill.status} {fill.retcode} {fill.detail}")

    def _flatten_all(self, command: cmd.FlattenAll) -> Outcome:
        """Every basket, then every position no basket holds (an order sent by hand, an
        external one): the trader's Flatten all closes what the Trade tab lists, all of it.
        (The risk manager's flatten closes the baskets only: ``Engine.flatten_all``.)"""
        host = self._host
        n = len(host.baskets)
        host.flatten_all(ExitCode.MANUAL, f"flatten all by {command.source}")
        left = len(host.baskets)
        held = {leg.position for b in host.baskets.values() for leg in b.open_legs}
        others = [int(p.ticket) for p in host.terminal.positions_get() or ()
                  if int(p.ticket) not in held]
        failed = [text for ok, text in map(self._close_foreign, others) if not ok]
        text = f"{n - left} basket(s) closed" + (f", {left} pending" if left else "")
        if others:
            text += f"; {len(others) - len(failed)} other position(s) closed"
        return (left == 0 and not failed,
                text + "".join(f"; {f}" for f in failed))

    def _open_basket(self, command: cmd.OpenBasket) -> Outcome:
        self._check_cluster(command.cluster)
        direction = Direction(command.direction.upper())
        sig = self._host.signals[command.cluster]
        if sig.last_point is None:
            return False, "no TDI yet"
        if command.prices:
            moved = self._moved_since_preview(command)
            if moved:
                return False, ("prices moved beyond the deviation since the preview: "
                               f"{'; '.join(moved)}; a new preview follows")
        basket_id = self._host.try_entry(sig, sig.last_point, direction, manual=True)
        return (basket_id is not None,
                f"opened {basket_id}" if basket_id else "refused (see the journal)")

    def _set_thresholds(self, command: cmd.SetThresholds) -> Outcome:
        c, e, x = command.cluster, command.entry, command.exit_band
        self._check_cluster(c)
        sig = self._host.signals[c]
        if not (0 < x < e < sig.spec.stops.tdi_stop):
            return False, f"need 0 < X ({x}) < E ({e}) < {sig.score_name} stop"
        refusal = sig.model.refuse_thresholds(float(e), float(x))
        if refusal:  # a kind whose E has a floor (a basis's break-even)
            return False, refusal
        sig.entry, sig.exit_band = float(e), float(x)
        sig.model.set_thresholds(float(e), float(x))
        return True, f"{c}: E={e} X={x}"

    def _roll_contract(self, command: cmd.RollContract) -> Outcome:
        from engine.kinds.basis_roll import roll_cluster
        self._check_cluster(command.cluster)
        return roll_cluster(self._host, command.cluster, command.source)

    def _use_calendar(self, command: cmd.UseCalendar) -> Outcome:
        host = self._host
        host.use_calendar(command.calendar)  # type: ignore[arg-type]
        return True, (f"news filter now uses {command.arguments()['calendar']} "
                      f"({host.news.state(host.now()).name.lower()})")

    def _rearm(self, command: cmd.Rearm) -> Outcome:
        host = self._host
        for change in host.risk.rearm(host.now(), command.source):
            host.journal_state(change)
        peak = host.risk.snapshot(host.now()).peak_equity
        if peak is None:
            return True, "re-armed (no equity mark yet: the next one starts the drawdown peak)"
        limit = host.risk.config.max_drawdown
        return True, (f"re-armed: drawdown peak now {peak:,.2f}, the {limit:.2%} stop at "
                      f"{peak * (1 - limit):,.2f}")

    # ------------------------------------------------------------------ risk state controls

    def _preview_basket(self, command: cmd.PreviewBasket) -> Outcome:
        self._check_cluster(command.cluster)
        preview = preview_basket(self._host, command.cluster, command.direction,
                                 command.command_id)
        self._host.publish(preview)
        verdict = f"refused {preview.refusal}" if preview.refusal else "allowed"
        return True, f"{command.cluster} {preview.direction}: {verdict}"

    def _moved_since_preview(self, command: cmd.OpenBasket) -> list[str]:
        """The legs that moved beyond the deviation since the preview the trader confirmed;
        when any did, a fresh preview answers the same request."""
        host = self._host
        preview = preview_basket(host, command.cluster, command.direction,
                                 command.command_id)
        moved = moved_legs(host, preview, command.prices)
        if moved:
            host.publish(preview)
        return moved

    def _set_automation(self, command: cmd.SetAutomation) -> Outcome:
        self._host.automation = bool(command.enabled)
        if command.enabled:
            return True, "Algo Trading on: automatic entries resume"
        return True, "Algo Trading off: no automatic entries; exits and stops keep running"

    def _place_order(self, command: cmd.PlaceOrder) -> Outcome:
        """New Order / one-click trading: one symbol, outside any basket (manual_orders)."""
        return self.orders.place(command)

    # ------------------------------------------------------------------ deals

    def _add_deal(self, command: cmd.AddDeal) -> Outcome:
        """A deal the trader entered: a new ``deal`` cluster, warmed up and trading at its
        next bar (``Engine.add_cluster``)."""
        from engine.kinds.deal import deal_spec

        spec = deal_spec(command.cluster, command.symbols, command.magic, command.deal,
                         timeframe=command.timeframe, entry=command.entry,
                         exit_band=command.exit_band)
        self._host.add_cluster(spec)
        point = self._host.signals[spec.name].last_point
        status = point.regime if point is not None and point.regime else "warming up"
        return True, f"deal {spec.name} added ({spec.params.terms_text()}; {status})"

    def _deal_event(self, command: cmd.DealEvent) -> Outcome:
        """The deal completed or broke: later points carry it (no entries), and an open
        basket closes now with ``DC``/``DB``."""
        from engine.kinds.deal import EVENT_CODES, trading_day

        host = self._host
        self._check_cluster(command.cluster)
        model = host.signals[command.cluster].model
        record = getattr(model, "record_event", None)
        if record is None:
            return False, f"{command.cluster} is not a deal"
        event = command.event.strip().lower()
        record(event, trading_day(int(host.now().timestamp())))
        sig = host.signals[command.cluster]
        if sig.last_point is not None:  # the status shows at once, not at the next bar
            sig.last_point = dataclasses.replace(sig.last_point, score=math.nan, valid=False,
                                                 lock=f"DEAL_CLOSED: the deal {event}",
                                                 regime=event)
        if command.cluster not in host.baskets:
            return True, f"deal {command.cluster} {event}; no basket was open"
        done = host.close_basket(command.cluster, EVENT_CODES[event], math.nan,
                                 f"deal {event} ({command.source})")
        # the event is recorded either way (the journal keeps it); a closed market leaves
        # the close pending until the next quotes, as every exit
        return True, (f"deal {command.cluster} {event}: basket closed" if done else
                      f"deal {command.cluster} {event}: basket close pending (retrying)")
