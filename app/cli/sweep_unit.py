"""How ``sweep list`` and ``sweep show`` name a trial's clusters: all of the study's
together, or the one it ran alone (the grid file's ``[sweep] unit``, ``app.sweep.plan``).

A row's ``cluster`` is None (or absent) for a trial of the clusters together.  Imported by
the command's module when the parser is built: nothing heavy at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.trials import TrialRow


def unit_text(cluster: str | None) -> str:
    """A trial's clusters: ``together`` (all the study's), or the one it ran alone."""
    return "together" if cluster is None else cluster


def shape_text(rows: Sequence[TrialRow]) -> str:
    """``C configurations x S spans``, and the clusters run alone when there are any."""
    configs = {r["config"] for r in rows}
    spans = {(r["fold"], r["sample"]) for r in rows}
    shape = f"{len(configs)} configurations x {len(spans)} spans"
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
