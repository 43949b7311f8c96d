"""The audit on one screen: each check's verdict and its table, every figure's basis named."""

from __future__ import annotations

import math
from typing import Any

from app.audit.audit import AuditResult
from app.audit.checks import CostCheck, SurrogateCheck, TruncationCheck
from app.audit.runs import RunFigures
from engine.formatting import NOT_AVAILABLE, format_money, traded_days


def sharpe_text(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) and math.isfinite(value) else NOT_AVAILABLE


def _row(run: RunFigures) -> str:
    return (f"{sharpe_text(run.sharpe):>8}  {format_money(run.pnl, signed=True):>12}  "
            f"{run.baskets:>7}")


def _truncation(check: TruncationCheck) -> list[str]:
    return [
        f"(a) Truncation invariance: D = {check.cut:%Y-%m-%d %H:%M}, "
        f"D+k = {check.later:%Y-%m-%d %H:%M} UTC",
        f"    {check.verdict}",
    ]


def _surrogates(check: SurrogateCheck) -> list[str]:
    s = check.summary()
    lines = [
        f"(b) No-edge surrogates: {len(check.runs)} seed(s); each symbol an independent random "
        "walk with its own volatility by UTC hour of the week, on the data's timestamps",
        f"    {'run':<10}{'Sharpe':>8}  {'P&L':>12}  {'baskets':>7}",
        f"    {'real':<10}{_row(check.real)}",
        *(f"    {r.label:<10}{_row(r)}" for r in check.runs),
        f"    surrogate Sharpe: mean {sharpe_text(s['mean'])}, min {sharpe_text(s['min'])}, "
        f"max {sharpe_text(s['max'])}",
        f"    {check.verdict}",
    ]
    return lines


def _costs(check: CostCheck) -> list[str]:
    lines = [
        "(c) Cost sensitivity: spreads x0, x1, x2 and commission x0, x1",
        f"    {'spread':>6}  {'commission':>10}{'Sharpe':>8}  {'P&L':>12}  {'baskets':>7}",
    ]
    lines += [f"    {'x' + format(r.spread_scale, 'g'):>6}  "
              f"{'x' + format(r.commission_scale, 'g'):>10}{_row(r.run)}" for r in check.rows]
    lines.append(f"    {check.verdict}")
    return lines


def audit_text(result: AuditResult) -> str:
    real = result.real
    lines = [
        f"Audit: {len(result.data)} symbols, traded {traded_days(*real.period)}, "
        f"{result.runs} backtests",
        f"Real run: Sharpe {sharpe_text(real.sharpe)}, P&L "
        f"{format_money(real.pnl, signed=True)}, {real.baskets} baskets closed",
        f"  Sharpe basis: {real.sharpe_basis}",
        "  P&L basis: final equity (open baskets marked to market) - start capital",
        "",
        *_truncation(result.truncation),
        "",
        *_surrogates(result.surrogates),
        "",
        *_costs(result.costs),
    ]
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)
