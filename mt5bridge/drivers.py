"""Market drivers: how the engine's clock moves and where each step's ticks come from.

``SimDriver`` advances a simulated terminal's virtual clock and hands over the ticks it
consumed (the fast path: no polling, the ticks are already UTC).  ``LiveDriver`` polls a
live terminal's ``copy_ticks_range`` per symbol since the last step and converts server
time to UTC through the live adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from engine.ports import AccountFigures
from engine.ticks import TICK_DTYPE, empty_ticks

COPY_TICKS_ALL = -1
#: How long after a minute ends a live session steps to it (closing that minute's bars):
#: a tick reaches the terminal some time after its own time, and one that comes after the
#: step that closed its minute is dropped (``Market.late_ticks``).  1.5 s covers a terminal
#: a long way from its trade server; the engine acts that much later.
LIVE_STEP_GRACE_MS = 1_500


class SimDriver:
    """Drives ``SimTerminal`` (or a remote one) for the engine's symbols."""

    def __init__(self, sim: Any, symbols: Sequence[str] | None = None,
                 canonical: Any = None) -> None:
        self.sim = sim
        names = tuple(sim.sim_symbols())
        to_canon = canonical if canonical is not None else (lambda s: s)
        canon_names = [to_canon(n) for n in names]
        self._symbols = tuple(symbols) if symbols is not None else tuple(canon_names)
        index = {s: i for i, s in enumerate(self._symbols)}
        # sim index -> engine index (-1: a symbol the engine does not follow)
        self._map = np.array([index.get(c, -1) for c in canon_names], dtype=np.int16)
        missing = [s for s in self._symbols if s not in canon_names]
        if missing:
            raise ValueError(f"the simulated market has no {', '.join(missing)}")
        #: The engine follows the market's symbols in its order: indices pass unchanged.
        self._identity = bool(np.array_equal(self._map, np.arange(len(names))))
        #: A view of the step's ticks where the terminal offers one (in process): the engine
        #: reads a step's ticks before the next step moves the terminal's tape.
        self._last_ticks = getattr(sim, "sim_last_ticks_view", None) or sim.sim_last_ticks
        self._peeked: np.ndarray | None = None

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    def now_msc(self) -> int:
        return int(self.sim.sim_now_msc())

    def next_time(self) -> int | None:
        """Time of the next tick the market will deliver (None: the feed is exhausted)."""
        return self.sim.sim_feed.next_time()

    def step_to(self, t_msc: int) -> np.ndarray:
        self.sim.sim_advance_to(int(t_msc))
        ticks = self._last_ticks()
        if len(ticks) == 0:
            return empty_ticks()
        if self._identity:
            return ticks
        mapped = self._map[ticks["symbol"]]
        keep = mapped >= 0
        out = ticks[keep]
        out["symbol"] = mapped[keep]
        return out

    def peek(self, until_msc: int) -> np.ndarray | None:
        """The ticks the steps up to ``until_msc`` will bring (engine indices), without
        moving the clock (None: the terminal cannot tell, e.g. a remote one).  A backtest
        looks ahead so to step over minutes in which nothing can happen
        (``engine.held_minutes``); each decision is still taken at its own minute."""
        peek = getattr(self.sim, "sim_peek_ticks", None)
        raw = peek(int(until_msc)) if peek is not None else None
        self._peeked = raw
        if raw is None or self._identity or not len(raw):
            return raw
        mapped = self._map[raw["symbol"]]
        keep = mapped >= 0
        ticks = raw[keep]
        ticks["symbol"] = mapped[keep]
        return ticks

    def accounts_at(self, minutes: np.ndarray) -> list[AccountFigures] | None:
        """The account at each minute close in ``minutes`` after the peeked ticks, as
        ``account_info`` would report it then; it stops early at a minute the terminal
        could act in by itself (stop-out), and is None where it cannot tell."""
        if self._peeked is None:
            return None
        return self.sim.sim_preview_accounts(self._peeked, minutes)

    def next_event_msc(self) -> int | None:
        """The next time the terminal changes the account by itself (a rollover, an
        expiry)."""
        return self.sim.sim_next_event_msc()


class LiveDriver:
    """Polls a ``LiveTerminal`` for the ticks of each step (server time -> UTC)."""

    def __init__(self, terminal: Any, symbols: Sequence[str], clock: Any = None) -> None:
        import time

        self.terminal = terminal
        self._symbols = tuple(symbols)
        self._clock = clock or time.time
        self._last_msc = {s: int(self._clock() * 1000) for s in self._symbols}

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    def now_msc(self) -> int:
        return int(self._clock() * 1000)

    def step_to(self, t_msc: int) -> np.ndarray:
        parts = []
        for i, symbol in enumerate(self._symbols):
            start = self._last_msc[symbol] + 1
            server_from = self.terminal.server_s_from_utc_ms(start)
            server_to = self.terminal.server_s_from_utc_ms(int(t_msc)) + 1
            rows = self.terminal.copy_ticks_range(
                symbol, datetime.fromtimestamp(server_from, tz=UTC),
                datetime.fromtimestamp(server_to, tz=UTC), COPY_TICKS_ALL)
            if rows is None or len(rows) == 0:
                continue
            ticks = self.terminal.ticks_to_engine(i, rows)
            ticks = ticks[(ticks["time_msc"] >= start) & (ticks["time_msc"] <= t_msc)]
            if len(ticks):
                self._last_msc[symbol] = int(ticks["time_msc"][-1])
                parts.append(ticks)
        if not parts:
            return empty_ticks()
        out = np.concatenate(parts).astype(TICK_DTYPE)
        return out[np.argsort(out["time_msc"], kind="stable")]
