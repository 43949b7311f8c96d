"""Seeded fault injection for the simulated terminal.

Live trading fails in a handful of ways the engine must survive: the IPC link to the
terminal drops, the dealer requotes, rejects or times out, quotes go off, an IOC order fills
only in part.  Each kind has its own probability and its own random stream derived from one
seed, so a failing test replays exactly, and turning one kind on or off never changes when
the others fire.  Everything is off by default.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields

__all__ = ["TRADE_FAULT_KINDS", "FaultConfig", "FaultInjector"]

#: Trade faults in the order they take precedence when several fire on the same request.
TRADE_FAULT_KINDS: tuple[str, ...] = ("timeout", "reject", "price_off", "requote")


@dataclass(frozen=True)
class FaultConfig:
    """Per-kind probabilities (0 = never) and the seed of their random streams.

    - ``disconnect``: per terminal call; the call fails with ``(-10005, 'IPC timeout')`` and
      every later call with ``(-10004, 'No IPC connection')`` until ``initialize()``
      succeeds again.
    - ``reconnect_failures``: how many ``initialize()`` attempts fail after a drop before
      one succeeds (exercises the live adapter's backoff).
    - ``requote`` (10004), ``reject`` (10006), ``timeout`` (10012), ``price_off`` (10021):
      per market order that passed validation; nothing is executed.
    - ``partial_fill``: per IOC market order; a random part of the volume is filled and the
      result is ``TRADE_RETCODE_DONE_PARTIAL`` (10010).
    """

    seed: int = 0
    disconnect: float = 0.0
    reconnect_failures: int = 0
    requote: float = 0.0
    reject: float = 0.0
    timeout: float = 0.0
    price_off: float = 0.0
    partial_fill: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("seed", "reconnect_failures"):
                if f.name == "reconnect_failures" and value < 0:
                    raise ValueError("reconnect_failures must be >= 0")
            elif not 0.0 <= value <= 1.0:
                raise ValueError(f"fault probability {f.name}={value} is not within [0, 1]")

    @property
    def enabled(self) -> bool:
        return any(getattr(self, k) > 0 for k in ("disconnect", "partial_fill", *TRADE_FAULT_KINDS))


class FaultInjector:
    """Draws the configured faults; one ``random.Random`` stream per kind."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        kinds = ("disconnect", "partial_fill", "partial_size", *TRADE_FAULT_KINDS)
        self._rng = {k: random.Random(f"{config.seed}:{k}") for k in kinds}
        #: How often each kind fired, for tests and the bench report.
        self.fired: dict[str, int] = dict.fromkeys(kinds, 0)

    def _draw(self, kind: str, probability: float) -> bool:
        # Always consume the stream so other settings never shift this kind's sequence.
        hit = self._rng[kind].random() < probability
        if hit:
            self.fired[kind] += 1
        return hit

    def connection_drops(self) -> bool:
        if self.config.disconnect <= 0.0:
            return False
        return self._draw("disconnect", self.config.disconnect)

    def trade_fault(self) -> str | None:
        """The trade fault hitting this market order, if any (all streams advance)."""
        if not any(getattr(self.config, k) > 0 for k in TRADE_FAULT_KINDS):
            return None
        hits = [k for k in TRADE_FAULT_KINDS if self._draw(k, getattr(self.config, k))]
        return hits[0] if hits else None

    def partial_fraction(self) -> float | None:
        """For an IOC order: the filled fraction in (0, 1) when a partial fill fires."""
        if self.config.partial_fill <= 0.0:
            return None
        if not self._draw("partial_fill", self.config.partial_fill):
            return None
        return self._rng["partial_size"].uniform(0.1, 0.9)
