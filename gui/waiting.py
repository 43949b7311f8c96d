"""What the engine is waiting for, in one line for the status bar.

A demo or a replay can run for minutes without a basket; a trader who sees nothing happen
cannot tell a quiet market from a stuck program.  This line says which condition stands
between now and the next trade, from the same snapshot the rest of the window shows:
the account's state, warm-up, news blackouts, the open baskets' exit, or the cluster whose
score (a TDI, a pair's z) is nearest its entry level, and whether its kind locks entries.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QLabel

from engine.snapshot import ClusterView, EngineSnapshot
from gui.kind_columns import score_name
from gui.plain_text import plain, plain_tip

#: A cluster whose TDI is NaN has fewer signal bars than its TDI needs: (bars so far,
#: bars its first valid TDI needs) of a cluster.
WarmCounter = Callable[[str], tuple[int, int]]


def _nearest_entry(views: Sequence[ClusterView]) -> ClusterView | None:
    ready = [v for v in views if math.isfinite(v.tdi) and v.entry > 0 and v.trades]
    return min(ready, key=lambda v: v.entry - abs(v.tdi), default=None)


def _warming(views: Sequence[ClusterView], bars: WarmCounter | None) -> str:
    names = [v.name for v in views  # a kind's lock (a finished deal) is not a warm-up
             if not math.isfinite(v.tdi) and not getattr(v, "signal_lock", "")]
    if not names:
        return ""
    count = ""
    if bars is not None:
        have, need = bars(names[0])
        count = f": {have}/{need} signal bars"
    more = f" (+{len(names) - 1} more)" if len(names) > 1 else ""
    return f"{names[0]}{more} warming up{count}"


def waiting_text(snap: EngineSnapshot, bars: WarmCounter | None = None) -> str:
    """"Waiting for TDI beyond ±E on GBP_BLOC (now +1.02, E 1.20)", or what else blocks."""
    if snap.account_state != "ACTIVE":
        reason = f": {snap.account_reason}" if snap.account_reason else ""
        return f"No new baskets: account {snap.account_state}{reason}"
    views = list(snap.clusters)
    if not views:
        return "No cluster can trade this data (see the Journal tab)"
    parts: list[str] = []
    open_views = [v for v in views if v.basket_id]
    if open_views:
        v = open_views[0]
        more = f" (+{len(open_views) - 1} more open)" if len(open_views) > 1 else ""
        parts.append(f"{v.name} {v.direction} open, exit inside ±{v.exit_band:.2f} "
                     f"(now {v.tdi:+.2f}){more}")
    free = [v for v in views if not v.basket_id]
    blocked = [v for v in free if v.blackout_until is not None]
    if blocked:
        v = blocked[0]
        parts.append(f"news blackout on {v.name} until {v.blackout_until:%H:%M} UTC")
    active = [v for v in free if v.state == "ACTIVE" and v.blackout_until is None]
    warming = _warming(active, bars)
    if warming:
        parts.append(warming)
    nearest = _nearest_entry(active)
    if nearest is not None and abs(nearest.tdi) >= nearest.entry:
        lock = nearest.signal_lock.split(":", 1)[0]
        then = (f"but automatic entries are locked ({lock})" if lock
                else "but Algo Trading is off: no automatic entry" if not snap.automation
                else "entry checked at the next signal-bar close")
        parts.insert(0, f"{nearest.name}: {score_name(nearest)} {nearest.tdi:+.2f} beyond "
                        f"E {nearest.entry:.2f}, {then}")
    elif nearest is not None and not snap.automation:
        parts.insert(0, "Algo Trading is off: no automatic entry (exits and stops run; "
                        "open a basket by hand, or turn Algo Trading on)")
    elif nearest is not None:
        parts.insert(0, f"Waiting for {score_name(nearest)} beyond ±E on {nearest.name} "
                        f"(now {nearest.tdi:+.2f}, E {nearest.entry:.2f})")
    elif not parts:
        parts.append("No cluster is ACTIVE: every one is paused, halted or has a basket")
    return " · ".join(parts)


#: What the line says once a replay has reached the end of its data.
REPLAY_FINISHED = "Replay finished: replay again or open other files (bar at the top)"


class WaitingLabel(QLabel):
    """The status bar's line (the whole text in its tooltip when the bar is narrow)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("WaitingFor")
        plain(self)  # cluster names and reasons come from data: shown literally
        self.setMinimumWidth(1)

    def show_snapshot(self, snap: EngineSnapshot, notes: Sequence[str], replay_done: bool,
                      bars: WarmCounter | None = None) -> None:
        """From one snapshot; ``notes``: why no cluster runs on a replay's data."""
        if replay_done:
            text = REPLAY_FINISHED
        elif not snap.clusters and notes:
            text = "No cluster can run: " + "; ".join(notes)
        else:
            text = waiting_text(snap, bars)
        self.setText(text)
        self.setToolTip(plain_tip(text))
