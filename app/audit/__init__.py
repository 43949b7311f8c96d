"""``main.py audit``: honesty checks of a configuration on the user's own data.

- ``data``: the user's files as M1 bars in memory, replayed by every run;
- ``runs``: one backtest per call, with its scratch journal, and the figures kept of it;
- ``compare``: truncation invariance, the first difference before the cut;
- ``checks``: (a) truncation, (b) no-edge surrogates, (c) cost sensitivity;
- ``audit``: ``run_audit``, the three in order; ``text``: the one screen of text.

The report files (``audit.json``, ``audit.html``) are written by ``app.report.audit``.
"""

from app.audit.audit import (
    CUT_SHARE,
    DEFAULT_SEEDS,
    DEFAULT_WEEKS,
    MAX_SEEDS,
    AuditResult,
    AuditSpec,
    cut_points,
    run_audit,
)
from app.audit.text import audit_text

__all__ = [
    "CUT_SHARE",
    "DEFAULT_SEEDS",
    "DEFAULT_WEEKS",
    "MAX_SEEDS",
    "AuditResult",
    "AuditSpec",
    "audit_text",
    "cut_points",
    "run_audit",
]
