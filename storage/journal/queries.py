"""The journal's reads: baskets with their orders and deals, history, equity, cluster
states, TDI, refusals, commands, news actions, errors and runs.

Reads that must agree with each other (a basket with its legs, orders and deals) run inside
one ``_snapshot``, so a concurrent writer cannot show half of a change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.records import (
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
    Refusal,
    TdiSnapshot,
)
from storage.journal.connection import JournalConnection
from storage.journal.rows import (
    Row,
    _basket,
    _cluster_state,
    _cluster_stats,
    _command,
    _deal,
    _equity,
    _error,
    _news_action,
    _order_record,
    _refusal,
    _tdi,
)
from storage.migrations import utc_text


def _time_window(
    column: str, since: datetime | None, until: datetime | None
) -> tuple[list[str], list[Any]]:
    """WHERE clauses and parameters for ``since <= column <= until``; either end may be open.
    UTC text sorts in time order, so the bounds compare as text."""
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append(f"{column} >= ?")
        params.append(utc_text(since))
    if until is not None:
        clauses.append(f"{column} <= ?")
        params.append(utc_text(until))
    return clauses, params


class JournalQueries(JournalConnection):
    """Everything read back from the journal as records (``engine.records``)."""

    def basket(self, basket_id: str) -> BasketRecord | None:
        with self._snapshot():
            rows = self._rows(
                "SELECT * FROM baskets WHERE basket_id = ? AND opened_at IS NOT NULL",
                (basket_id,),
            )
            return self._baskets_from_rows(rows)[0] if rows else None

    def open_baskets(self) -> list[OpenBasketRecord]:
        """Every basket the journal holds open, with the account epoch of the run that
        opened it (reconciliation adopts only those of its own epoch)."""
        with self._snapshot():
            rows = self._rows(
                "SELECT b.*, COALESCE(r.epoch, '') AS run_epoch FROM baskets AS b "
                "LEFT JOIN runs AS r ON r.run_id = b.run_id "
                "WHERE b.closed_at IS NULL AND b.opened_at IS NOT NULL "
                "ORDER BY b.opened_at, b.basket_id"
            )
            return [
                OpenBasketRecord(
                    basket=self._basket_record(row),
                    orders=tuple(self.orders_for_basket(row["basket_id"])),
                    deals=tuple(self.deals_for_basket(row["basket_id"])),
                    epoch=row["run_epoch"],
                )
                for row in rows
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
        if where.run_id is not None:
            clauses.append("run_id = ?")
            params.append(where.run_id)
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

    def deals_for_position(self, position_id: int, epoch: str | None = None) -> list[Deal]:
        """The deals of a position of the account epoch ``epoch`` (default: the epoch of the
        run being journaled): position ids, like deal tickets, are only unique in one."""
        rows = self._rows(
            "SELECT * FROM deals WHERE epoch = ? AND position_id = ? ORDER BY time, ticket",
            (self._epoch if epoch is None else epoch, position_id),
        )
        return [_deal(row) for row in rows]

    def deal_tickets(self) -> set[int]:
        """Every deal ticket in the journal, of every account epoch."""
        return {int(row["ticket"]) for row in self._rows("SELECT ticket FROM deals")}

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
        return [_cluster_stats(row, codes.get(row["cluster"], {})) for row in totals]

    def cluster_states(self, epoch: str | None = None,
                       at: datetime | None = None) -> dict[str, ClusterStateChange]:
        """The latest state change of every cluster (ties on time: the later write wins).

        ``epoch``: only the records of runs in that account epoch (``RunStart.epoch``), and
        those written before records named their run.  A simulated account lives as long
        as its simulator, so the locks of an earlier simulator's runs (another replay into
        the same journal, say) are not this account's; a broker's account has one epoch.
        ``at``: only records made at or before that moment (a record dated after the
        clock is another run's future)."""
        scope, params = "", []
        if epoch is not None:
            scope += " AND (run_id = '' OR run_id IN (SELECT run_id FROM runs WHERE epoch = ?))"
            params.append(epoch)
        if at is not None:
            scope += " AND time <= ?"
            params.append(utc_text(at))
        rows = self._rows(
            "SELECT * FROM cluster_states AS c WHERE c.rowid = ("
            f"  SELECT rowid FROM cluster_states WHERE cluster = c.cluster{scope} "
            "  ORDER BY time DESC, rowid DESC LIMIT 1"
            ") ORDER BY cluster",
            tuple(params),
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
        return [_refusal(row) for row in rows]

    def commands(self) -> list[ManualCommand]:
        rows = self._rows("SELECT * FROM manual_commands ORDER BY time, rowid")
        return [_command(row) for row in rows]

    def news_actions(self) -> list[NewsAction]:
        rows = self._rows("SELECT * FROM news_actions ORDER BY time, rowid")
        return [_news_action(row) for row in rows]

    def errors(self, limit: int = 100) -> list[ErrorRecord]:
        rows = self._rows("SELECT * FROM errors ORDER BY time DESC, rowid DESC LIMIT ?", (limit,))
        rows.reverse()
        return [_error(row) for row in rows]

    def runs(self) -> list[Row]:
        """Run rows as stored (``versions`` decoded), oldest first."""
        rows = self._rows("SELECT * FROM runs ORDER BY started_at, rowid")
        for row in rows:
            row["versions"] = json.loads(row["versions"])
        return rows

    def _baskets_from_rows(self, rows: Sequence[Row]) -> list[BasketRecord]:
        return [self._basket_record(row) for row in rows]

    def _basket_record(self, row: Row) -> BasketRecord:
        legs = self._rows(
            "SELECT * FROM legs WHERE basket_id = ? ORDER BY rowid", (row["basket_id"],)
        )
        return _basket(row, legs)
