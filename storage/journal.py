"""The trade journal on SQLite: the ``engine.ports.Journal`` implementation.

One file per account, WAL mode, rows written through sqlite-utils.  Three promises, each
tested:

- **One transaction per write.**  Every public write takes the write lock up front
  (``BEGIN IMMEDIATE``) and commits before returning, so a killed process leaves every
  returned-from write on disk and nothing half-written.  ``synchronous=FULL`` by default
  also makes it survive a power cut (see ``storage.migrations``); backtests may pass NORMAL.
- **Idempotent on natural keys.**  Each write is an upsert on its key (basket id, request
  id, deal ticket, ...), and a field given as None (or NaN) never overwrites a value
  already there: replaying events after a crash cannot duplicate or erase anything, and a
  result arriving after its request completes the same row.
- **Readable anywhere.**  Plain tables, UTC text times, JSON text for raw dicts; exports
  and backups go through SQLite (backup API), never a file copy of a live WAL database.

The connection is shared by the engine thread and GUI readers under one lock; SQLite
calls are short, so readers never wait long.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from engine.errors import UserError
from engine.records import (
    BasketClose,
    BasketOpen,
    BasketRecord,
    ClusterStateChange,
    ClusterStats,
    Deal,
    EquitySnapshot,
    ErrorRecord,
    HistoryFilter,
    ManualCommand,
    NewsAction,
    OpenBasketRecord,
    OrderRecord,
    OrderRequest,
    OrderResult,
    PlannedLeg,
    Refusal,
    RunEnd,
    RunStart,
    TdiSnapshot,
)
from storage.journal_schema import JOURNAL_SCHEMA, JOURNAL_TABLES
from storage.migrations import (
    open_database,
    optional_parse_utc_text,
    optional_utc_text,
    parse_utc_text,
    schema_version,
    utc_text,
)
from storage.paths import default_journal_path

Row = Mapping[str, Any]


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), sort_keys=True, default=str, separators=(",", ":"))


def _nan_if_null(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class JournalSummary:
    """What ``journal summary`` prints: size, activity, results, health."""

    path: Path
    schema_version: int
    table_rows: Mapping[str, int]
    last_run: Row | None
    open_baskets: int
    closed_baskets: int
    net_pnl: float
    last_equity: EquitySnapshot | None
    clusters: tuple[ClusterStats, ...]
    integrity: str


class SqliteJournal:
    """The journal of one account in one SQLite file (see the module docstring)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        self.path = path

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        create: bool = True,
        synchronous: str = "FULL",
    ) -> SqliteJournal:
        """Open the journal at ``path`` (default: the demo account's), upgrading its schema.

        ``create=False`` is for tools that only inspect: a missing file is then a UserError.
        """
        resolved = Path(path) if path is not None else default_journal_path()
        conn = open_database(resolved, JOURNAL_SCHEMA, create=create, synchronous=synchronous)
        return cls(conn, resolved)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema_version(self._conn)

    # ------------------------------------------------------------------ plumbing

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction holding SQLite's write lock from its first statement.

        IMMEDIATE avoids the deferred-transaction trap where a read lock cannot be upgraded
        because another connection wrote meanwhile (SQLITE_BUSY without waiting).
        """
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that must agree (a basket with its orders and deals) see one
        committed state, even while another process writes (WAL read transaction)."""
        with self._lock:
            if self._conn.in_transaction:
                yield
                return
            self._conn.execute("BEGIN")
            try:
                yield
            finally:
                self._conn.execute("COMMIT")

    def _upsert(self, table: str, key: Sequence[str], record: Mapping[str, Any]) -> None:
        """Insert or update on ``key``; missing values (None/NaN) never overwrite a value."""
        clean = {k: v for k, v in record.items() if k in key or not _is_missing(v)}
        self._db.table(table).upsert(clean, pk=tuple(key))

    def _rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
        with self._lock:
            cursor = self._conn.cursor()
            cursor.row_factory = sqlite3.Row
            return [dict(row) for row in cursor.execute(sql, params).fetchall()]

    def _exists(self, table: str, where: str, params: Sequence[Any]) -> bool:
        sql = f"SELECT 1 FROM {table} WHERE {where} LIMIT 1"
        return self._conn.execute(sql, params).fetchone() is not None

    # ------------------------------------------------------------------ writes

    def start_run(self, run: RunStart) -> None:
        with self._write():
            self._upsert(
                "runs",
                ("run_id",),
                {
                    "run_id": run.run_id,
                    "mode": run.mode.value,
                    "config_hash": run.config_hash,
                    "versions": _json(run.versions),
                    "started_at": utc_text(run.started_at),
                    "account": run.account,
                },
            )

    def end_run(self, end: RunEnd) -> None:
        with self._write():
            if not self._exists("runs", "run_id = ?", (end.run_id,)):
                raise ValueError(f"end_run: run {end.run_id!r} was never started")
            self._db.table("runs").update(
                end.run_id, {"ended_at": utc_text(end.ended_at), "end_reason": end.reason}
            )

    def record_tdi(self, snapshot: TdiSnapshot) -> None:
        with self._write():
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
                },
            )

    def open_basket(self, basket: BasketOpen) -> None:
        with self._write():
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
        with self._write():
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
        with self._write():
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
                },
            )

    def record_result(self, result: OrderResult) -> None:
        with self._write():
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
        with self._write():
            self._upsert(
                "deals",
                ("ticket",),
                {
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
        with self._write():
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
        with self._write():
            self._upsert(
                "cluster_states",
                ("cluster", "time", "state", "side", "reason"),
                {
                    "cluster": change.cluster,
                    "time": utc_text(change.time),
                    "state": change.state.value,
                    "side": change.side.value if change.side is not None else "",
                    "reason": change.reason,
                    "who": change.who,
                    "expires_at": optional_utc_text(change.expires_at),
                    "run_id": change.run_id,
                },
            )

    def record_command(self, command: ManualCommand) -> None:
        with self._write():
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
        with self._write():
            self._upsert(
                "news_actions",
                ("cluster", "action", "event_time", "currency", "title"),
                {
                    "cluster": action.cluster,
                    "action": action.action,
                    "event_time": utc_text(action.event_time),
                    "currency": action.currency,
                    "title": action.title,
                    "impact": action.impact,
                    "time": utc_text(action.time),
                    "run_id": action.run_id,
                },
            )

    def record_refusal(self, refusal: Refusal) -> None:
        with self._write():
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
        with self._write():
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

    # ------------------------------------------------------------------ reads

    def basket(self, basket_id: str) -> BasketRecord | None:
        with self._snapshot():
            rows = self._rows(
                "SELECT * FROM baskets WHERE basket_id = ? AND opened_at IS NOT NULL",
                (basket_id,),
            )
            return self._baskets_from_rows(rows)[0] if rows else None

    def open_baskets(self) -> list[OpenBasketRecord]:
        with self._snapshot():
            rows = self._rows(
                "SELECT * FROM baskets WHERE closed_at IS NULL AND opened_at IS NOT NULL "
                "ORDER BY opened_at, basket_id"
            )
            return [
                OpenBasketRecord(
                    basket=record,
                    orders=tuple(self.orders_for_basket(record.basket_id)),
                    deals=tuple(self.deals_for_basket(record.basket_id)),
                )
                for record in self._baskets_from_rows(rows)
            ]

    def basket_history(self, where: HistoryFilter | None = None) -> list[BasketRecord]:
        """Closed baskets matching ``where``, oldest close first; ``limit`` keeps the latest."""
        where = where or HistoryFilter()
        clauses = ["closed_at IS NOT NULL", "opened_at IS NOT NULL"]
        params: list[Any] = []
        if where.cluster is not None:
            clauses.append("cluster = ?")
            params.append(where.cluster)
        if where.since is not None:
            clauses.append("closed_at >= ?")
            params.append(utc_text(where.since))
        if where.until is not None:
            clauses.append("closed_at <= ?")
            params.append(utc_text(where.until))
        if where.exit_code is not None:
            clauses.append("exit_code = ?")
            params.append(where.exit_code.value)
        sql = (
            f"SELECT * FROM baskets WHERE {' AND '.join(clauses)} "
            "ORDER BY closed_at DESC, basket_id DESC"
        )
        if where.limit is not None:
            sql += " LIMIT ?"
            params.append(int(where.limit))
        with self._snapshot():
            rows = self._rows(sql, params)
            rows.reverse()
            return self._baskets_from_rows(rows)

    def orders_for_basket(self, basket_id: str) -> list[OrderRecord]:
        rows = self._rows(
            "SELECT * FROM orders WHERE basket_id = ? ORDER BY sent_at, rowid", (basket_id,)
        )
        return [_order_record(row) for row in rows]

    def pending_requests(self) -> list[OrderRequest]:
        """Requests journaled without a result: sent (or about to be) when the process died."""
        rows = self._rows(
            "SELECT * FROM orders WHERE received_at IS NULL AND sent_at IS NOT NULL "
            "ORDER BY sent_at, rowid"
        )
        return [_order_record(row).request for row in rows]

    def deals_for_basket(self, basket_id: str) -> list[Deal]:
        rows = self._rows(
            "SELECT * FROM deals WHERE basket_id = ? ORDER BY time, ticket", (basket_id,)
        )
        return [_deal(row) for row in rows]

    def deals_for_position(self, position_id: int) -> list[Deal]:
        rows = self._rows(
            "SELECT * FROM deals WHERE position_id = ? ORDER BY time, ticket", (position_id,)
        )
        return [_deal(row) for row in rows]

    def deal_tickets(self) -> set[int]:
        with self._lock:
            return {ticket for (ticket,) in self._conn.execute("SELECT ticket FROM deals")}

    def equity_series(
        self,
        run_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[EquitySnapshot]:
        clauses, params = _time_window("time", since, until)
        if run_id is not None:
            clauses.append("run_id = ?")
            params.append(run_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._rows(f"SELECT * FROM equity {where} ORDER BY time, run_id", params)
        return [_equity(row) for row in rows]

    def cluster_stats(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[ClusterStats]:
        """Per-cluster results of baskets closed in ``[since, until]``, by cluster name."""
        clauses, params = _time_window("closed_at", since, until)
        clauses += ["closed_at IS NOT NULL", "opened_at IS NOT NULL"]
        where = " AND ".join(clauses)
        totals = self._rows(
            "SELECT cluster, COUNT(*) AS baskets, "
            "SUM(pnl > 0) AS wins, SUM(pnl < 0) AS losses, "
            "TOTAL(pnl) AS pnl, TOTAL(costs) AS costs, MAX(pnl) AS best, MIN(pnl) AS worst "
            f"FROM baskets WHERE {where} GROUP BY cluster ORDER BY cluster",
            params,
        )
        codes: dict[str, dict[str, int]] = {}
        for row in self._rows(
            f"SELECT cluster, exit_code, COUNT(*) AS n FROM baskets WHERE {where} "
            "GROUP BY cluster, exit_code ORDER BY cluster, exit_code",
            params,
        ):
            codes.setdefault(row["cluster"], {})[row["exit_code"]] = int(row["n"])
        return [
            ClusterStats(
                cluster=row["cluster"],
                baskets=int(row["baskets"]),
                wins=int(row["wins"] or 0),
                losses=int(row["losses"] or 0),
                pnl=float(row["pnl"]),
                costs=float(row["costs"]),
                best=_nan_if_null(row["best"]),
                worst=_nan_if_null(row["worst"]),
                exit_codes=codes.get(row["cluster"], {}),
            )
            for row in totals
        ]

    def cluster_states(self) -> dict[str, ClusterStateChange]:
        """The latest state change of every cluster (ties on time: the later write wins)."""
        rows = self._rows(
            "SELECT * FROM cluster_states AS c WHERE c.rowid = ("
            "  SELECT rowid FROM cluster_states WHERE cluster = c.cluster "
            "  ORDER BY time DESC, rowid DESC LIMIT 1"
            ") ORDER BY cluster"
        )
        return {row["cluster"]: _cluster_state(row) for row in rows}

    def cluster_state_history(self, cluster: str | None = None) -> list[ClusterStateChange]:
        sql = "SELECT * FROM cluster_states"
        params: tuple[Any, ...] = ()
        if cluster is not None:
            sql += " WHERE cluster = ?"
            params = (cluster,)
        rows = self._rows(sql + " ORDER BY time, rowid", params)
        return [_cluster_state(row) for row in rows]

    def tdi_history(
        self,
        cluster: str,
        since: datetime | None = None,
        until: datetime | None = None,
        timeframe: str = "M30",
        run_id: str | None = None,
    ) -> list[TdiSnapshot]:
        clauses, params = _time_window("bar_time", since, until)
        clauses += ["cluster = ?", "timeframe = ?"]
        params += [cluster, timeframe]
        if run_id is not None:
            clauses.append("run_id = ?")
            params.append(run_id)
        rows = self._rows(
            f"SELECT * FROM tdi_snapshots WHERE {' AND '.join(clauses)} ORDER BY bar_time, run_id",
            params,
        )
        return [_tdi(row) for row in rows]

    def recent_refusals(self, limit: int = 100, cluster: str | None = None) -> list[Refusal]:
        """The latest refusals, oldest first (the GUI's "why not trading" list)."""
        sql = "SELECT * FROM refusals"
        params: list[Any] = []
        if cluster is not None:
            sql += " WHERE cluster = ?"
            params.append(cluster)
        rows = self._rows(sql + " ORDER BY time DESC, rowid DESC LIMIT ?", [*params, limit])
        rows.reverse()
        return [
            Refusal(
                time=parse_utc_text(row["time"]),
                cluster=row["cluster"],
                reason=row["reason"],
                detail=row["detail"],
                run_id=row["run_id"] or None,
            )
            for row in rows
        ]

    def commands(self) -> list[ManualCommand]:
        rows = self._rows("SELECT * FROM manual_commands ORDER BY time, rowid")
        return [
            ManualCommand(
                command_id=row["command_id"],
                time=parse_utc_text(row["time"]),
                source=row["source"],
                command=row["command"],
                arguments=json.loads(row["arguments"]),
                result=row["result"],
            )
            for row in rows
        ]

    def news_actions(self) -> list[NewsAction]:
        rows = self._rows("SELECT * FROM news_actions ORDER BY time, rowid")
        return [
            NewsAction(
                time=parse_utc_text(row["time"]),
                cluster=row["cluster"],
                action=row["action"],
                event_time=parse_utc_text(row["event_time"]),
                currency=row["currency"],
                impact=row["impact"],
                title=row["title"],
                run_id=row["run_id"],
            )
            for row in rows
        ]

    def errors(self, limit: int = 100) -> list[ErrorRecord]:
        rows = self._rows("SELECT * FROM errors ORDER BY time DESC, rowid DESC LIMIT ?", (limit,))
        rows.reverse()
        return [
            ErrorRecord(
                time=parse_utc_text(row["time"]),
                component=row["component"],
                message=row["message"],
                detail=row["detail"],
                run_id=row["run_id"] or None,
            )
            for row in rows
        ]

    def runs(self) -> list[Row]:
        """Run rows as stored (``versions`` decoded), oldest first."""
        rows = self._rows("SELECT * FROM runs ORDER BY started_at, rowid")
        for row in rows:
            row["versions"] = json.loads(row["versions"])
        return rows

    # ------------------------------------------------------------------ maintenance

    def table_counts(self) -> dict[str, int]:
        with self._lock:
            return {
                table: int(self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in JOURNAL_TABLES
            }

    def integrity_check(self) -> str:
        """``ok`` or SQLite's first complaint (``PRAGMA integrity_check``)."""
        with self._lock:
            rows = self._conn.execute("PRAGMA integrity_check").fetchall()
            return "; ".join(str(r[0]) for r in rows[:5])

    def summary(self) -> JournalSummary:
        with self._snapshot():
            last_run = self._rows("SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1")
            counts = self._rows(
                "SELECT SUM(closed_at IS NULL) AS open, SUM(closed_at IS NOT NULL) AS closed, "
                "TOTAL(pnl) AS pnl FROM baskets WHERE opened_at IS NOT NULL"
            )[0]
            equity = self._rows("SELECT * FROM equity ORDER BY time DESC, rowid DESC LIMIT 1")
            return JournalSummary(
                path=self.path,
                schema_version=self.schema_version,
                table_rows=self.table_counts(),
                last_run=last_run[0] if last_run else None,
                open_baskets=int(counts["open"] or 0),
                closed_baskets=int(counts["closed"] or 0),
                net_pnl=float(counts["pnl"]),
                last_equity=_equity(equity[0]) if equity else None,
                clusters=tuple(self.cluster_stats()),
                integrity=self.integrity_check(),
            )

    def backup(self, destination: Path | str, *, overwrite: bool = False) -> Path:
        """Write a consistent copy with SQLite's online backup API, then check it.

        The copy is built under a temporary name and renamed into place, so a failed
        backup never leaves a half-written file where a good one was expected.
        """
        destination = Path(destination)
        if destination.exists() and not overwrite:
            raise UserError(f"{destination}: already exists (use --force to replace it)")
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + ".partial")
        partial.unlink(missing_ok=True)
        target = sqlite3.connect(str(partial))
        try:
            with self._lock:
                self._conn.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")
            verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
        if verdict != "ok":
            partial.unlink(missing_ok=True)
            raise UserError(f"{destination}: backup failed its integrity check ({verdict})")
        os.replace(partial, destination)
        return destination

    def export_csv(
        self,
        out_dir: Path | str,
        tables: Sequence[str] | None = None,
        *,
        overwrite: bool = False,
    ) -> dict[str, int]:
        """Write ``<table>.csv`` per table from one consistent snapshot; return row counts.

        NULL is written as an empty field; times stay UTC text; raw dicts stay JSON text.
        """
        chosen = list(tables) if tables else list(JOURNAL_TABLES)
        unknown = [t for t in chosen if t not in JOURNAL_TABLES]
        if unknown:
            raise UserError(
                f"unknown journal table(s): {', '.join(unknown)} "
                f"(tables: {', '.join(JOURNAL_TABLES)})"
            )
        out = Path(out_dir)
        targets = {table: out / f"{table}.csv" for table in chosen}
        clashes = [str(p) for p in targets.values() if p.exists()]
        if clashes and not overwrite:
            raise UserError(f"{clashes[0]}: already exists (use --force to replace it)")
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, int] = {}
        with self._snapshot():  # every table from the same committed state
            for table, target in targets.items():
                written[table] = self._export_table(table, target)
        return written

    def _export_table(self, table: str, target: Path) -> int:
        cursor = self._conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        header = [d[0] for d in cursor.description]
        count = 0
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in cursor:
                writer.writerow(["" if v is None else v for v in row])
                count += 1
        return count

    def _baskets_from_rows(self, rows: Sequence[Row]) -> list[BasketRecord]:
        return [self._basket_record(row) for row in rows]

    def _basket_record(self, row: Row) -> BasketRecord:
        legs = self._rows(
            "SELECT * FROM legs WHERE basket_id = ? ORDER BY rowid", (row["basket_id"],)
        )
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


def _time_window(
    column: str, since: datetime | None, until: datetime | None
) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(utc_text(since))
    if until is not None:
        clauses.append(f"{column} <= ?")
        params.append(utc_text(until))
    return clauses, params


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
