"""The audit's report files: ``audit.json`` (every figure) and ``audit.html`` (the same
figures as a page), both from one document so that the page can be recomputed from the JSON.

The document is ``AuditResult.to_dict()`` (``app.audit``): the real run, (a) truncation,
(b) surrogates and (c) costs, each with its verdict, and the bases of the Sharpe and the P&L.
Both files are written under temporary names and renamed into place only when both are
written: a failure leaves neither half-written nor one without the other.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from app.report.errors import ReportWriteError
from app.report.markup import EMPTY_ICON, notes_list, section_open
from app.staged import staged_folder
from engine.formatting import NOT_AVAILABLE, format_money, traded_days
from engine.jsonform import json_ready

AUDIT_JSON = "audit.json"
AUDIT_HTML = "audit.html"


def write_audit_report(doc: Mapping[str, Any], report_dir: Path) -> list[Path]:
    """``audit.json`` and ``audit.html`` in ``report_dir`` (created), whole or not at all."""
    texts = {AUDIT_JSON: json.dumps(json_ready(doc), indent=2, allow_nan=False) + "\n",
             AUDIT_HTML: render_audit(doc)}
    try:
        with staged_folder(report_dir) as folder:
            for name, text in texts.items():
                (folder / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        where = exc.filename or report_dir
        raise ReportWriteError(f"cannot write the audit to {report_dir}: {where}: "
                               f"{exc.strerror or exc}") from exc
    return [report_dir / name for name in texts]


def _css() -> str:
    return resources.files("app.report").joinpath("report.css").read_text(encoding="utf-8")


def _sharpe(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) and math.isfinite(value) \
        else NOT_AVAILABLE


def _money(value: Any) -> str:
    return format_money(float(value), signed=True) if isinstance(value, int | float) \
        else NOT_AVAILABLE


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f'<table class="matrix"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _verdict(text: str, ok: bool) -> str:
    return f'<p class="checks {"ok" if ok else "bad"}"><b>{escape(text)}</b></p>'


def _truncation(t: Mapping[str, Any]) -> str:
    rows = [["D (the run cut here)", t["cut"]], ["D+k (the longer run)", t["later"]],
            ["signal scores compared (TDI, z, ...)", f"{t['signals_compared']:,}"],
            ["baskets closed before D compared", f"{t['baskets_compared']:,}"]]
    return (section_open("truncation", "(a) Truncation invariance",
                         "Backtests to D and to D+k: every TDI value at a bar before D and "
                         "every basket closed before D (id, legs, fills, exit, P&amp;L) must be "
                         "identical; a difference would mean look-ahead.")
            + _verdict(t["verdict"], t["passed"]) + _table(["", ""], rows) + "</section>")


def _run_row(label: str, run: Mapping[str, Any]) -> list[str]:
    return [label, _sharpe(run.get("sharpe")), _money(run.get("pnl")), str(run.get("baskets"))]


def _surrogates(s: Mapping[str, Any]) -> str:
    rows = [_run_row("real", s["real"])]
    rows += [_run_row(r["label"], r) for r in s["surrogates"]]
    summary = (f"Surrogate Sharpe: mean {_sharpe(s['mean'])}, min {_sharpe(s['min'])}, "
               f"max {_sharpe(s['max'])}; the real Sharpe's rank: "
               f"{s['rank'] if s['rank'] is not None else NOT_AVAILABLE} of {s['of']} "
               "(1 = highest).")
    return (section_open("surrogates", "(b) No-edge surrogates",
                         "The same configuration on surrogates of the data: each symbol an "
                         "independent random walk with its own volatility by UTC hour of the "
                         "week, on the data's timestamps, from the real first price, with the "
                         "data's spread model; one market per seed.")
            + _verdict(s["verdict"], True) + f"<p>{escape(summary)}</p>"
            + _table(["run", "Sharpe", "P&L", "baskets"], rows) + "</section>")


def _costs(c: Mapping[str, Any]) -> str:
    rows = [[f"x{r['spread_scale']:g}", f"x{r['commission_scale']:g}", *_run_row("", r)[1:]]
            for r in c["rows"]]
    return (section_open("costs", "(c) Cost sensitivity",
                         "Spreads x0, x1, x2 and commission x0, x1 (the x1, x1 row is the real "
                         "run); everything else as configured.")
            + _verdict(c["verdict"], c["monotone"])
            + _table(["spread", "commission", "Sharpe", "P&L", "baskets"], rows) + "</section>")


def render_audit(doc: Mapping[str, Any], generated_at: datetime | None = None) -> str:
    real = doc["real"]
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC)
    period = real["period"]
    meta = [("traded", traded_days(period["from"], period["to"])),
            ("backtests", str(doc["backtests"])),
            ("real Sharpe", _sharpe(real["sharpe"])), ("real P&L", _money(real["pnl"])),
            ("baskets closed", str(real["baskets"]))]
    dl = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in meta)
    data_rows = [[s, d["first"], d["last"], f"{d['bars']:,}"] for s, d in doc["data"].items()]
    bases = [f"Sharpe: {doc['sharpe_basis']}", f"P&L: {doc['pnl_basis']}"]
    body = [
        "<main><header><p class=\"kicker\">Audit</p><h1>Audit: truncation, surrogates, costs"
        f"</h1><dl class=\"meta\">{dl}</dl></header>",
        f'<div class="note-box"><h3>Bases</h3>{notes_list(bases)}</div>',
        _truncation(doc["truncation"]), _surrogates(doc["surrogates"]), _costs(doc["costs"]),
        section_open("data", "Data") + _table(["symbol", "first bar", "last bar", "bars"],
                                              data_rows) + notes_list(doc["notes"])
        + "</section>",
        f"<footer><p>Generated {stamp:%Y-%m-%d %H:%M:%S} UTC. Times are UTC. Amounts are in "
        "the account currency. Every figure is in audit.json.</p></footer></main>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" + EMPTY_ICON
            + "<title>Audit</title><style>\n" + _css() + "</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
