"""Pacing of the virtual clock for demo and replay: real time, x N, or as fast as possible.

A ``Pacer`` only answers two questions, "what virtual time should it be now?" and "how
long until virtual time T is due?"; whoever drives the simulated terminal asks them and
does the waiting.  It reads wall time from an injectable monotonic clock, so tests drive it
with a fake clock and never sleep.

Virtual time never jumps: changing speed, pausing and resuming all re-anchor the mapping
at the current virtual time.  It moves forward only with the wall clock (timed modes), by
``advance_to`` (a driver skipping a quiet period, or every step in max mode) or by ``step``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from engine.errors import UserError

#: Speed meaning "as fast as possible": no waiting, virtual time follows the data.
MAX_SPEED = math.inf


class Pacer:
    """Maps wall-clock time to virtual time (UTC epoch ms).

    ``speed`` is virtual seconds per wall second: 1.0 is real time, 60.0 runs an hour a
    minute, ``MAX_SPEED`` never waits.  In max mode the virtual time is whatever the driver
    last reached with ``advance_to``.
    """

    def __init__(self, virtual_start_msc: int, speed: float = 1.0, *, paused: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._speed = _checked_speed(speed)
        self._anchor_virtual = int(virtual_start_msc)
        self._anchor_wall = clock()
        self._high_water = self._anchor_virtual
        self._paused = paused

    # -- state ---------------------------------------------------------------------------

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def is_max(self) -> bool:
        return math.isinf(self._speed)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def mode(self) -> str:
        """A short label for a status bar: "paused", "max", "real time" or "x N"."""
        if self._paused:
            return "paused"
        if self.is_max:
            return "max"
        if self._speed == 1.0:
            return "real time"
        return f"x {self._speed:g}"

    def now_msc(self) -> int:
        """The virtual time now (never decreases, even if the clock function does)."""
        if self._paused or self.is_max:
            return self._anchor_virtual
        elapsed = max(self._clock() - self._anchor_wall, 0.0)
        now = self._anchor_virtual + math.floor(elapsed * self._speed * 1000.0)
        self._high_water = max(self._high_water, now)
        return self._high_water

    def seconds_until(self, t_msc: int) -> float:
        """Wall seconds to wait before virtual time ``t_msc`` is due.

        0 when it is already due or in max mode; ``math.inf`` while paused (nothing is due
        until the trader resumes or steps).
        """
        if self._paused:
            return 0.0 if t_msc <= self._anchor_virtual else math.inf
        if self.is_max:
            return 0.0
        remaining_ms = t_msc - self.now_msc()
        return max(remaining_ms, 0) / 1000.0 / self._speed

    # -- commands ------------------------------------------------------------------------

    def set_speed(self, speed: float) -> None:
        """Change speed without moving the virtual time (re-anchored where it is now)."""
        speed = _checked_speed(speed)
        self._reanchor(self.now_msc())
        self._speed = speed

    def pause(self) -> None:
        if not self._paused:
            self._reanchor(self.now_msc())
            self._paused = True

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self._reanchor(self._anchor_virtual)

    def advance_to(self, t_msc: int) -> int:
        """Move virtual time forward to ``t_msc`` (earlier times are ignored); returns now.

        In max mode the driver calls this with each batch's time; in timed modes it skips a
        quiet period (a weekend) or jumps to a date, and the clock carries on from there.
        """
        now = self.now_msc()
        self._reanchor(max(now, int(t_msc)))
        return self._anchor_virtual

    def step(self, bar_seconds: int) -> int:
        """Pause and move to the end of the current bar of ``bar_seconds``; returns it.

        Bars are aligned on the UTC epoch, as the engine's clock buckets are: from 10:07 a
        30-minute step goes to 10:30, and from 10:30 to 11:00.
        """
        if isinstance(bar_seconds, bool) or not isinstance(bar_seconds, int) or bar_seconds <= 0:
            raise UserError(f"step: bar length must be a positive number of seconds, "
                            f"got {bar_seconds!r}")
        self.pause()
        bar_ms = bar_seconds * 1000
        self._reanchor((self._anchor_virtual // bar_ms + 1) * bar_ms)
        return self._anchor_virtual

    def _reanchor(self, virtual_msc: int) -> None:
        self._anchor_virtual = virtual_msc
        self._anchor_wall = self._clock()
        self._high_water = virtual_msc


def _checked_speed(speed: float) -> float:
    ok = isinstance(speed, int | float) and not isinstance(speed, bool) \
        and not math.isnan(speed) and speed > 0
    if not ok:
        raise UserError(f"replay speed must be a positive number (or max), got {speed!r}")
    return float(speed)
