"""The rehearsal's answer: one row per check, a verdict each, the fix for each failure.

A check PASSes, WARNs (the live path works, but the trader should know: a market closed
now, a netting account, the server clock assumed rather than detected) or FAILs (a live
session would stop, or its orders would be refused).  The exit status follows the worst
verdict: 0 when nothing failed (warnings allowed), 1 when a check failed.
"""

from __future__ import annotations

import enum
import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["Check", "LiveCheckReport", "Verdict"]


class Verdict(enum.Enum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One row: ``name`` (``account``, ``symbol EURUSD``, ``basket USD_MAJORS long``), its
    verdict, what was found (``detail``) and, for a warning or a failure, what to do."""

    name: str
    verdict: Verdict
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"check": self.name, "verdict": self.verdict.value, "detail": self.detail,
                "fix": self.fix}


@dataclass
class LiveCheckReport:
    """The rows in the order they were checked, and what the header says: where the
    terminal is and which clock "now" was read from."""

    terminal: str
    clock: str = ""
    checks: list[Check] = field(default_factory=list)
    #: What the figures in the rows are, printed under the table.
    notes: list[str] = field(default_factory=list)

    def add(self, check: Check) -> None:
        self.checks.append(check)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def verdict_of(self, name: str) -> Verdict | None:
        """The verdict of the row ``name`` (None when there is no such row)."""
        return next((c.verdict for c in self.checks if c.name == name), None)

    def count(self, verdict: Verdict) -> int:
        return sum(c.verdict is verdict for c in self.checks)

    @property
    def exit_status(self) -> int:
        return 1 if self.count(Verdict.FAIL) else 0

    def summary(self) -> str:
        failed, warned = self.count(Verdict.FAIL), self.count(Verdict.WARN)
        passed = self.count(Verdict.PASS)
        verdict = "not ready: fix the failures above" if failed else "ready to trade live"
        return f"{failed} failed, {warned} warnings, {passed} passed: {verdict}"

    def as_json(self) -> str:
        return json.dumps({"terminal": self.terminal, "clock": self.clock,
                           "checks": [c.as_dict() for c in self.checks],
                           "notes": self.notes,
                           "failed": self.count(Verdict.FAIL),
                           "warnings": self.count(Verdict.WARN),
                           "passed": self.count(Verdict.PASS),
                           "exit_status": self.exit_status}, indent=2)

    def as_table(self, width: int = 100) -> str:
        """The rows as a fixed-width table; details wrap under themselves, the fix follows
        on its own line."""
        name_w = max([len("CHECK"), *(len(c.name) for c in self.checks)])
        lead = " " * (name_w + 10)
        text_w = max(40, width - len(lead))
        lines = [f"live-check of {self.terminal}", f"now: {self.clock}", "",
                 f"{'CHECK':<{name_w}}  RESULT  DETAIL"]
        for check in self.checks:
            detail = textwrap.wrap(check.detail, text_w) or [""]
            lines.append(f"{check.name:<{name_w}}  {check.verdict.value:<6}  {detail[0]}")
            lines.extend(lead + part for part in detail[1:])
            if check.fix:
                lines.extend(lead + part for part in textwrap.wrap("fix: " + check.fix, text_w))
        lines.append("")
        for note in self.notes:
            lines.extend(textwrap.wrap(note, width))
        lines.append(self.summary())
        return "\n".join(lines)
