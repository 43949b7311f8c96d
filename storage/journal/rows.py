"""Journal rows back into the engine's records: plain functions of a row, no SQL.

Times are UTC text (``storage.migrations``), raw dicts JSON text, and a NULL number becomes
NaN, the engine's "not known" for a float.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from engine.records import (
    BasketClose,
    BasketOpen,
    BasketRecord,
    ClusterStateChange,
    ClusterStats,
    Deal,
    EquitySnapshot,
    ErrorRecord,
    ManualCommand,
    NewsAction,
    NumeraireBalance,
    OrderRecord,
    OrderRequest,
    OrderResult,
    PlannedLeg,
    Refusal,
    TdiSnapshot,
)
from storage.migrations import optional_parse_utc_text, parse_utc_text

Row = Mapping[str, Any]


def _nan_if_null(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _basket(row: Row, legs: Sequence[Row]) -> BasketRecord:
    """A basket row and its leg rows; ``closing`` is None while the basket is open."""
    opening = BasketOpen(
        basket_id=row["basket_id"],
        run_id=row["run_id"] or "",
        cluster=row["cluster"] or "",
        direction=row["direction"],
        opened_at=parse_utc_text(row["opened_at"]),
        entry_tdi=_nan_if_null(row["entry_tdi"]),
        risk_budget=_nan_if_null(row["risk_budget"]),
        legs=tuple(
            PlannedLeg(
                symbol=leg["symbol"],
                side=leg["side"],
                volume=float(leg["volume"]),
                exposure=float(leg["exposure"]),
            )
            for leg in legs
        ),
        magic=int(row["magic"] or 0),
        time_stop_bars=(int(row["time_stop_bars"]) if row["time_stop_bars"] is not None
                        else None),
        balance=NumeraireBalance(
            space=row["space"] or "", numeraire=row["numeraire"] or "",
            net=_nan_if_null(row["net_numeraire_exposure"]),
            gross=_nan_if_null(row["gross_exposure"])),
    )
    closing = None
    if row["closed_at"] is not None:
        closing = BasketClose(
            basket_id=row["basket_id"],
            closed_at=parse_utc_text(row["closed_at"]),
            exit_tdi=_nan_if_null(row["exit_tdi"]),
            exit_code=row["exit_code"],
            pnl=_nan_if_null(row["pnl"]),
            costs=_nan_if_null(row["costs"]),
            detail=row["exit_detail"] or "",
        )
    return BasketRecord(opening=opening, closing=closing)


def _order_record(row: Row) -> OrderRecord:
    request = OrderRequest(
        request_id=row["request_id"],
        basket_id=row["basket_id"],
        purpose=row["purpose"],
        symbol=row["symbol"],
        side=row["side"],
        volume=_nan_if_null(row["volume"]),
        price=_nan_if_null(row["price"]),
        deviation=int(row["deviation"] or 0),
        magic=int(row["magic"] or 0),
        comment=row["comment"] or "",
        filling=int(row["filling"] or 0),
        sent_at=parse_utc_text(row["sent_at"]),
        raw=json.loads(row["request_json"] or "{}"),
    )
    result = None
    if row["received_at"] is not None:
        result = OrderResult(
            request_id=row["request_id"],
            received_at=parse_utc_text(row["received_at"]),
            retcode=int(row["retcode"]),
            deal=int(row["deal"] or 0),
            order=int(row["order_ticket"] or 0),
            volume=_nan_if_null(row["filled_volume"]),
            price=_nan_if_null(row["fill_price"]),
            comment=row["result_comment"] or "",
            raw=json.loads(row["result_json"] or "{}"),
        )
    return OrderRecord(request=request, result=result)


def _deal(row: Row) -> Deal:
    return Deal(
        ticket=int(row["ticket"]),
        order=int(row["order_ticket"] or 0),
        position_id=int(row["position_id"] or 0),
        symbol=row["symbol"],
        type=int(row["type"]),
        entry=int(row["entry"]),
        volume=_nan_if_null(row["volume"]),
        price=_nan_if_null(row["price"]),
        commission=_nan_if_null(row["commission"]),
        swap=_nan_if_null(row["swap"]),
        profit=_nan_if_null(row["profit"]),
        fee=_nan_if_null(row["fee"]),
        time=parse_utc_text(row["time"]),
        magic=int(row["magic"] or 0),
        comment=row["comment"] or "",
        basket_id=row["basket_id"],
    )


def _equity(row: Row) -> EquitySnapshot:
    return EquitySnapshot(
        run_id=row["run_id"],
        time=parse_utc_text(row["time"]),
        balance=_nan_if_null(row["balance"]),
        equity=_nan_if_null(row["equity"]),
        margin=_nan_if_null(row["margin"]),
        free_margin=_nan_if_null(row["free_margin"]),
        margin_level=_nan_if_null(row["margin_level"]),
        open_risk=_nan_if_null(row["open_risk"]),
    )


def _cluster_state(row: Row) -> ClusterStateChange:
    return ClusterStateChange(
        time=parse_utc_text(row["time"]),
        cluster=row["cluster"],
        state=row["state"],
        reason=row["reason"],
        who=row["who"],
        side=row["side"] or None,
        expires_at=optional_parse_utc_text(row["expires_at"]),
        run_id=row["run_id"],
    )


def _tdi(row: Row) -> TdiSnapshot:
    return TdiSnapshot(
        run_id=row["run_id"],
        cluster=row["cluster"],
        timeframe=row["timeframe"],
        bar_time=parse_utc_text(row["bar_time"]),
        tdi=_nan_if_null(row["tdi"]),
        phi=_nan_if_null(row["phi"]),
        eigengap=_nan_if_null(row["eigengap"]),
        explained=_nan_if_null(row["explained"]),
        decision=row["decision"],
        reason=row["reason"],
    )


def _cluster_stats(row: Row, exit_codes: dict[str, int]) -> ClusterStats:
    """One cluster's grouped totals (``JournalQueries.cluster_stats``) and its exit counts."""
    return ClusterStats(
        cluster=row["cluster"],
        baskets=int(row["baskets"]),
        wins=int(row["wins"] or 0),
        losses=int(row["losses"] or 0),
        pnl=float(row["pnl"]),
        costs=float(row["costs"]),
        best=_nan_if_null(row["best"]),
        worst=_nan_if_null(row["worst"]),
        exit_codes=exit_codes,
    )


def _refusal(row: Row) -> Refusal:
    return Refusal(
        time=parse_utc_text(row["time"]),
        cluster=row["cluster"],
        reason=row["reason"],
        detail=row["detail"],
        run_id=row["run_id"] or None,
    )


def _command(row: Row) -> ManualCommand:
    return ManualCommand(
        command_id=row["command_id"],
        time=parse_utc_text(row["time"]),
        source=row["source"],
        command=row["command"],
        arguments=json.loads(row["arguments"]),
        result=row["result"],
    )


def _news_action(row: Row) -> NewsAction:
    return NewsAction(
        time=parse_utc_text(row["time"]),
        cluster=row["cluster"],
        action=row["action"],
        event_time=parse_utc_text(row["event_time"]),
        currency=row["currency"],
        impact=row["impact"],
        title=row["title"],
        run_id=row["run_id"] or None,
    )


def _error(row: Row) -> ErrorRecord:
    return ErrorRecord(
        time=parse_utc_text(row["time"]),
        component=row["component"],
        message=row["message"],
        detail=row["detail"],
        run_id=row["run_id"] or None,
    )
