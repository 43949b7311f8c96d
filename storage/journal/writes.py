"""The journal's writes: one transaction each, idempotent on each record's natural key.

Each write is an upsert on its key (basket id, request id, account + epoch + deal ticket,
...), and a field given as None (or NaN) never overwrites a value already there: replaying
events after a crash cannot duplicate or erase anything, and a result arriving after its
request completes the same row.

``start_run`` is where a journal meets its account: it binds the journal to the run's account
(or refuses another's), and closes the books of every earlier run still marked running.  The
writer lock guarantees no other process journals meanwhile, so such a run is dead: it is
marked interrupted, at the time of its last equity snapshot and with that equity.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from engine.jsonform import json_ready
from engine.model import RunMode
from engine.records import (
    BasketClose,
    BasketOpen,
    ClusterStateChange,
    Deal,
    EquitySnapshot,
    ErrorRecord,
    ManualCommand,
    NewsAction,
    OrderRequest,
    OrderResult,
    Refusal,
    RunEnd,
    RunStart,
    TdiSnapshot,
)
from storage.journal.connection import JournalConnection
from storage.migrations import optional_utc_text, utc_text


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), sort_keys=True, default=str, separators=(",", ":"))


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


#: ``PRAGMA synchronous``'s answer for NORMAL.
_NORMAL = 1

#: A run's last equity snapshot's ``column`` (inside an UPDATE of ``runs``).
_LAST_EQUITY = ("SELECT e.{column} FROM equity AS e WHERE e.run_id = runs.run_id "
                "ORDER BY e.time DESC, e.rowid DESC LIMIT 1")


class JournalWrites(JournalConnection):
    """``start_run`` .. ``record_error``: everything the engine records as it runs."""

    def _upsert(self, table: str, key: tuple[str, ...], record: Mapping[str, Any]) -> None:
        """Insert or update on ``key``; missing values (None/NaN) never overwrite a value.

        A missing value's column is left out of the statement, so a new row takes the
        column's default and an existing row keeps its value (``_upsert_sql``)."""
        clean = {k: v for k, v in record.items() if k in key or not _is_missing(v)}
        self._conn.execute(_upsert_sql(table, key, tuple(clean)), tuple(clean.values()))

    def _exists(self, table: str, where: str, params: Sequence[Any]) -> bool:
        sql = f"SELECT 1 FROM {table} WHERE {where} LIMIT 1"
        return self._conn.execute(sql, params).fetchone() is not None

    def start_run(self, run: RunStart) -> None:
        """Bind, close the books of dead runs, record the run.

        A backtest's run in a journal opened with ``synchronous=NORMAL`` (what sessions
        give backtests and replays) then writes in one transaction per simulated day
        (``JournalConnection._write``); any other keeps a commit per write."""
        account = run.account
        self._end_day_batches()
        with self._write():
            if account is not None:
                self._bind(account)
            self._interrupt_unfinished(run.run_id)
            self._upsert(
                "runs",
                ("run_id",),
                {
                    "run_id": run.run_id,
                    "mode": run.mode.value,
                    "config_hash": run.config_hash,
                    "versions": _json(run.versions),
                    "started_at": utc_text(run.started_at),
                    "account": account.key if account is not None else "",
                    "server": account.server if account is not None else "",
                    "login": account.login if account is not None else None,
                    "currency": account.currency if account is not None else "",
                    "epoch": run.epoch,
                },
            )
        self._account_key = account.key if account is not None else ""
        self._epoch = run.epoch
        self._run_id = run.run_id
        if run.mode is RunMode.BACKTEST and self._synchronous() == _NORMAL:
            self._start_day_batches()

    def _interrupt_unfinished(self, run_id: str) -> None:
        """Mark every other run still without an end as interrupted (see the module doc)."""
        self._conn.execute(
            f"UPDATE runs SET end_reason = 'interrupted', "
            f"ended_at = COALESCE(({_LAST_EQUITY.format(column='time')}), started_at), "
            f"last_equity = ({_LAST_EQUITY.format(column='equity')}) "
            f"WHERE ended_at IS NULL AND run_id <> ?",
            (run_id,),
        )

    def end_run(self, end: RunEnd) -> None:
        with self._write():
            if not self._exists("runs", "run_id = ?", (end.run_id,)):
                raise ValueError(f"end_run: run {end.run_id!r} was never started")
            self._conn.execute(
                "UPDATE runs SET ended_at = ?, end_reason = ? WHERE run_id = ?",
                (utc_text(end.ended_at), end.reason, end.run_id),
            )
            self._conn.execute(
                f"UPDATE runs SET last_equity = ({_LAST_EQUITY.format(column='equity')}) "
                f"WHERE run_id = ?",
                (end.run_id,),
            )
        self._end_day_batches()  # a backtest's last day: the run is whole on disk

    def record_tdi(self, snapshot: TdiSnapshot) -> None:
        with self._write(snapshot.bar_time, single=True):
            self._upsert(
                "tdi_snapshots",
                ("run_id", "cluster", "timeframe", "bar_time"),
                {
                    "run_id": snapshot.run_id,
                    "cluster": snapshot.cluster,
                    "timeframe": snapshot.timeframe,
                    "bar_time": utc_text(snapshot.bar_time),
                    "tdi": snapshot.tdi,
                    "phi": snapshot.phi,
                    "eigengap": snapshot.eigengap,
                    "explained": snapshot.explained,
                    "decision": snapshot.decision,
                    "reason": snapshot.reason,
                    "kind": snapshot.kind,
                    "diagnostics": _diagnostics_json(snapshot.diagnostics),
                },
            )

    def open_basket(self, basket: BasketOpen) -> None:
        with self._write(basket.opened_at):
            self._upsert(
                "baskets",
                ("basket_id",),
                {
                    "basket_id": basket.basket_id,
                    "run_id": basket.run_id,
                    "cluster": basket.cluster,
                    "direction": basket.direction.value,
                    "opened_at": utc_text(basket.opened_at),
                    "entry_tdi": basket.entry_tdi,
                    "risk_budget": basket.risk_budget,
                    "magic": basket.magic,
                    "space": basket.balance.space,
                    "numeraire": basket.balance.numeraire,
                    "net_numeraire_exposure": basket.balance.net,
                    "gross_exposure": basket.balance.gross,
                    "time_stop_bars": basket.time_stop_bars,
                },
            )
            for leg in basket.legs:
                self._upsert(
                    "legs",
                    ("basket_id", "symbol"),
                    {
                        "basket_id": basket.basket_id,
                        "symbol": leg.symbol,
                        "side": leg.side.value,
                        "volume": leg.volume,
                        "exposure": leg.exposure,
                    },
                )

    def close_basket(self, close: BasketClose) -> None:
        with self._write(close.closed_at):
            opened = "basket_id = ? AND opened_at IS NOT NULL"
            if not self._exists("baskets", opened, (close.basket_id,)):
                raise ValueError(f"close_basket: basket {close.basket_id!r} was never opened")
            self._upsert(
                "baskets",
                ("basket_id",),
                {
                    "basket_id": close.basket_id,
                    "closed_at": utc_text(close.closed_at),
                    "exit_tdi": close.exit_tdi,
                    "exit_code": close.exit_code.value,
                    "pnl": close.pnl,
                    "costs": close.costs,
                    "exit_detail": close.detail,
                },
            )

    def record_request(self, request: OrderRequest) -> None:
        with self._write(request.sent_at):
            self._upsert(
                "orders",
                ("request_id",),
                {
                    "request_id": request.request_id,
                    "basket_id": request.basket_id,
                    "purpose": request.purpose.value,
                    "symbol": request.symbol,
                    "side": request.side.value,
                    "volume": request.volume,
                    "price": request.price,
                    "deviation": request.deviation,
                    "magic": request.magic,
                    "comment": request.comment,
                    "filling": request.filling,
                    "request_json": _json(request.raw),
                    "sent_at": utc_text(request.sent_at),
                    "account": self._account_key,
                    "epoch": self._epoch,
                },
            )

    def record_result(self, result: OrderResult) -> None:
        with self._write(result.received_at):
            if not self._exists("orders", "request_id = ?", (result.request_id,)):
                raise ValueError(
                    f"record_result: request {result.request_id!r} was never journaled; "
                    "journal each request before sending it"
                )
            self._upsert(
                "orders",
                ("request_id",),
                {
                    "request_id": result.request_id,
                    "retcode": result.retcode,
                    "deal": result.deal,
                    "order_ticket": result.order,
                    "filled_volume": result.volume,
                    "fill_price": result.price,
                    "result_comment": result.comment,
                    "result_json": _json(result.raw),
                    "received_at": utc_text(result.received_at),
                },
            )

    def record_deal(self, deal: Deal) -> None:
        with self._write(deal.time):
            self._upsert(
                "deals",
                ("account", "epoch", "ticket"),
                {
                    "account": self._account_key,
                    "epoch": self._epoch,
                    "ticket": deal.ticket,
                    "order_ticket": deal.order,
                    "position_id": deal.position_id,
                    "symbol": deal.symbol,
                    "type": deal.type,
                    "entry": deal.entry,
                    "volume": deal.volume,
                    "price": deal.price,
                    "commission": deal.commission,
                    "swap": deal.swap,
                    "profit": deal.profit,
                    "fee": deal.fee,
                    "time": utc_text(deal.time),
                    "magic": deal.magic,
                    "comment": deal.comment,
                    "basket_id": deal.basket_id,
                },
            )

    def record_equity(self, snapshot: EquitySnapshot) -> None:
        with self._write(snapshot.time, single=True):
            self._upsert(
                "equity",
                ("run_id", "time"),
                {
                    "run_id": snapshot.run_id,
                    "time": utc_text(snapshot.time),
                    "balance": snapshot.balance,
                    "equity": snapshot.equity,
                    "margin": snapshot.margin,
                    "free_margin": snapshot.free_margin,
                    "margin_level": snapshot.margin_level,
                    "open_risk": snapshot.open_risk,
                },
            )

    def record_cluster_state(self, change: ClusterStateChange) -> None:
        """One lock record, under its run (the run being journaled when it names none):
        two runs that lock a cluster alike at the same moment keep a row each."""
        with self._write(change.time):
            self._upsert(
                "cluster_states",
                ("run_id", "cluster", "time", "state", "side", "reason"),
                {
                    "cluster": change.cluster,
                    "time": utc_text(change.time),
                    "state": change.state.value,
                    "side": change.side.value if change.side is not None else "",
                    "reason": change.reason,
                    "who": change.who,
                    "expires_at": optional_utc_text(change.expires_at),
                    "run_id": change.run_id or self._run_id,
                },
            )

    def record_command(self, command: ManualCommand) -> None:
        with self._write(command.time):
            self._upsert(
                "manual_commands",
                ("command_id",),
                {
                    "command_id": command.command_id,
                    "time": utc_text(command.time),
                    "source": command.source,
                    "command": command.command,
                    "arguments": _json(command.arguments),
                    "result": command.result,
                },
            )

    def record_news_action(self, action: NewsAction) -> None:
        with self._write(action.time):
            self._upsert(
                "news_actions",
                ("run_id", "cluster", "action", "event_time", "currency", "title"),
                {
                    "cluster": action.cluster,
                    "action": action.action,
                    "event_time": utc_text(action.event_time),
                    "currency": action.currency,
                    "title": action.title,
                    "impact": action.impact,
                    "time": utc_text(action.time),
                    "run_id": action.run_id or "",
                },
            )

    def record_refusal(self, refusal: Refusal) -> None:
        with self._write(refusal.time, single=True):
            self._upsert(
                "refusals",
                ("run_id", "time", "cluster", "reason"),
                {
                    "run_id": refusal.run_id or "",
                    "time": utc_text(refusal.time),
                    "cluster": refusal.cluster,
                    "reason": refusal.reason,
                    "detail": refusal.detail,
                },
            )

    def record_error(self, error: ErrorRecord) -> None:
        with self._write(error.time):
            self._upsert(
                "errors",
                ("run_id", "time", "component", "message"),
                {
                    "run_id": error.run_id or "",
                    "time": utc_text(error.time),
                    "component": error.component,
                    "message": error.message,
                    "detail": error.detail,
                },
            )


@functools.lru_cache(maxsize=256)
def _upsert_sql(table: str, key: tuple[str, ...], columns: tuple[str, ...]) -> str:
    """``INSERT .. ON CONFLICT (key) DO UPDATE`` of exactly ``columns``, as one fixed text per
    table and set of columns: SQLite prepares each once, and a write looks nothing up."""
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join("?" for _ in columns)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in key)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    conflict = ", ".join(f'"{c}"' for c in key)
    return f'INSERT INTO "{table}" ({names}) VALUES ({values}) ON CONFLICT ({conflict}) {action}'


def _diagnostics_json(diagnostics: Sequence[tuple[str, float]]) -> str:
    """A kind's diagnostics as a JSON object, in the kind's order; an undefined figure
    (NaN, infinite) is null, so any JSON reader takes it."""
    return json.dumps({str(name): json_ready(value) for name, value in diagnostics},
                      allow_nan=False)
