"""How ``sweep list`` and ``sweep show`` name a trial's clusters: all of the study's
together, or the one it ran alone (the grid file's ``[sweep] unit``, ``app.sweep.plan``).

A row's ``cluster`` is None (or absent) for a trial of the clusters together.  Imported by
the command's module when the parser is built: nothing heavy at import time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.trials import TrialRow


def unit_text(cluster: str | None) -> str:
    """A trial's clusters: ``together`` (all the study's), or the one it ran alone."""
    return "together" if cluster is None else cluster


def shape_text(rows: Sequence[TrialRow]) -> str:
    """``C configurations x S spans``, and the clusters run alone when there are any.

    A file holds every trial ever run into it, so it may hold two studies: another grid
    (its configuration 1 other values than this one's), another period.  Configurations
    are therefore told apart by their values and spans by their dates, not by their
    numbers, and a number that stands for more than one set of values is said."""
    values_of: dict[int, set[str]] = {}
    for r in rows:
        values_of.setdefault(r["config"], set()).add(json.dumps(r["params"], sort_keys=True))
    configs = set().union(*values_of.values())
    spans = {(r["fold"], r["sample"], r["span_from"], r["span_to"]) for r in rows}
    shape = f"{len(configs)} configurations x {len(spans)} spans"
    reused = sorted(n for n, values in values_of.items() if len(values) > 1)
    if reused:
        shape += (f"; configuration {', '.join(map(str, reused))} stands for other values in "
                  "other trials: the file holds trials of more than one grid (sweep list "
                  "shows each trial's values)")
    alone = sorted({r.cluster for r in rows if r.cluster is not None})
    if alone:
        shape += f" x {len(alone)} clusters alone ({', '.join(alone)})"
        together = sum(1 for r in rows if r.cluster is None)
        if together:
            shape += f"; {together} trials together"
    return shape


def best_lines(rows: Sequence[TrialRow]) -> list[str]:
    """The best in-sample trial: of the study, or of each cluster run alone (each cluster
    chooses its own configuration, as in the walk-forward)."""
    from app.walkforward.grid import describe

    lines = []
    for cluster in sorted({r.cluster for r in rows}, key=lambda c: (c is not None, c or "")):
        label = "best in-sample Sharpe" + (f" of {cluster} alone" if cluster else "")
        sharpes = [r for r in rows if r.cluster == cluster and r["sharpe"] is not None
                   and r["sample"] != "oos"]
        if not sharpes:
            lines.append(f"{label}: n/a (no in-sample trial has a defined Sharpe)")
            continue
        best = max(sharpes, key=lambda r: r["sharpe"])
        lines.append(f"{label}: {best['sharpe']:.2f}, trial {best['id'][:12]} "
                     f"(config {best['config']}, fold {best['fold']} {best['sample']}: "
                     f"{describe(best['params'])})")
    return lines or ["best in-sample Sharpe: n/a (no in-sample trial has a defined Sharpe)"]
