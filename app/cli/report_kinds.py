"""Before any work: a ``--report`` folder holds no other command's report.

``backtest``, ``walkforward``, ``sweep`` and ``audit`` each write a folder of files, some of
the same names (``report.html``).  Run into a folder holding another command's report, one
replaced the other's page and left the rest of its files beside: a folder that said two
things at once.  Each kind is told by the one file only it writes (its mark); a run again
into a folder of its own kind replaces its files, as the README says.  Files of no report
are left alone (the writers replace only the files they name), unless one of them has a
name the report would write over: a user's own ``trades.csv`` is not replaced.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import UserError

__all__ = ["REPORT_KINDS", "check_report_kind"]

#: Each command's report: its mark (the file only it writes), then the other files at the
#: top of the folder that a run writes over (app.backtest.outputs, app.walkforward.outputs,
#: app.report.sweep, app.report.audit).
REPORT_KINDS: dict[str, tuple[str, ...]] = {
    "backtest": ("metrics.json", "trades.csv", "legs.csv", "equity.csv", "report.html",
                 "journal.sqlite"),
    "walkforward": ("walkforward.json", "grid.csv", "selection.csv", "mix.csv",
                    "trials_equity.csv", "oos_equity.csv", "report.html"),
    "sweep": ("sweep.json", "trials.csv", "report.html"),
    "audit": ("audit.json", "audit.html"),
}


def check_report_kind(folder: Path, kind: str, option: str = "--report") -> None:
    """``folder`` may take ``kind``'s report, or a ``UserError`` naming what it holds."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    present = {path.name for path in folder.iterdir()}
    for other, (mark, *_) in REPORT_KINDS.items():
        if other != kind and mark in present:
            raise UserError(f"{option}: {folder} holds a {other} report ({mark}); give "
                            f"another folder for the {kind} report")
    mark, *names = REPORT_KINDS[kind]
    clobbered = sorted(present.intersection(names))
    if clobbered and mark not in present:
        raise UserError(f"{option}: {folder / clobbered[0]} is not part of a {kind} report "
                        f"(no {mark}) and would be replaced; give another folder")
