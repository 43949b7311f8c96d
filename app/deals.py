"""The trader's deals kept across restarts: read back from the journal's audit trail.

A deal added in the console (``commands.AddDeal``) and a completion or break the trader
reported (``commands.DealEvent``) are journaled as every command is, with their arguments
and result.  That record is the deal's persistence: a session opened on the same journal
(the account's own, as the demo and live consoles use) adds every deal whose ``AddDeal``
succeeded to its configuration, and dates every reported event into its deal
(``completed`` / ``broken`` on the day it was reported), before the engine is built.  One
place holds the deal and its history, journaled with the account it was traded on; a
separate replay journal starts without them, as a replay starts without the trader's other
actions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from engine.config import EngineConfig
from engine.kinds.deal import deal_spec
from engine.records import ManualCommand
from engine.timeframes import ny_time

ADD, EVENT = "AddDeal", "DealEvent"


class CommandsReader(Protocol):
    def commands(self) -> list[ManualCommand]: ...


def _succeeded(command: ManualCommand) -> bool:
    return bool(command.result) and str(command.result).startswith("ok")


def _event_day(when: datetime) -> date:
    """The New York trading day of a moment (as ``engine.kinds.deal.trading_day``)."""
    return (ny_time(int(when.timestamp())) + timedelta(hours=7)).date()


#: A deal's reported event: ("completed" or "broken", its trading day).
Event = tuple[str, date]


def journaled_deals(commands: Iterable[ManualCommand],
                    notes: list[str] | None = None) -> tuple[list[Any], dict[str, Event]]:
    """(the specs of the deals added in the console, in order; each deal's reported event
    by cluster) from a journal's commands that succeeded.  A recorded deal the product no
    longer takes (a check added since) is left out, and ``notes`` says which and why."""
    specs: list[Any] = []
    events: dict[str, Event] = {}
    for command in commands:
        if not _succeeded(command):
            continue
        a = command.arguments
        if command.command == ADD:
            try:
                specs.append(deal_spec(
                    str(a["cluster"]), tuple(a["symbols"]), int(a["magic"]), dict(a["deal"]),
                    timeframe=str(a.get("timeframe", "D1")), entry=float(a["entry"]),
                    exit_band=float(a["exit_band"])))
            except (KeyError, TypeError, ValueError) as exc:
                if notes is not None:
                    notes.append(f"the journal's deal {a.get('cluster')!r} is left out: {exc}")
        elif command.command == EVENT:
            events.setdefault(str(a["cluster"]), (str(a["event"]).lower(),
                                                  _event_day(command.time)))
    return specs, events


def with_journaled_deals(config: EngineConfig, journal: CommandsReader,
                         symbols: Iterable[str], notes: list[str] | None = None,
                         ) -> EngineConfig:
    """``config`` plus the journal's deals that the market can feed (``symbols``) and whose
    name is free, each deal's reported event dated into it (``notes``: what was left out)."""
    specs, events = journaled_deals(journal.commands(), notes)
    feed = set(symbols)
    clusters = list(config.clusters)
    taken = {c.name for c in clusters} | {c.magic for c in clusters}
    for spec in specs:
        if spec.name in taken or spec.magic in taken or not feed.issuperset(spec.symbols):
            continue
        clusters.append(spec)
        taken |= {spec.name, spec.magic}
    dated = [_dated(spec, events.get(spec.name)) for spec in clusters]
    if dated == list(config.clusters):
        return config
    return dataclasses.replace(config, clusters=tuple(dated))


def _dated(spec: Any, event: tuple[str, date] | None) -> Any:
    """A deal with its reported event as its date (an earlier date in its file wins)."""
    if event is None or spec.kind != "deal" or spec.params.event is not None:
        return spec
    params = dataclasses.replace(spec.params, **{event[0]: max(event[1],
                                                              spec.params.announced)})
    return dataclasses.replace(spec, params=params)
