"""The EXTERNAL leg in the journal: bonds held at another venue and their hedge marks.

``engine.hedging_records.ExternalJournal`` on SQLite (tables ``external_positions`` and
``external_marks``, ``storage.journal_schema``).  Writes follow the journal's rules: one
transaction each, upserts on the natural key (bond id; bond id and time), a missing value
never erases one already there.
"""

from __future__ import annotations

import json
import math
from typing import Any

from engine.hedging_bond import bond_from_json
from engine.hedging_records import ExternalClose, ExternalMark, ExternalRecord
from storage.journal.writes import JournalWrites
from storage.migrations import parse_utc_text as parse_utc
from storage.migrations import utc_text


class JournalExternal(JournalWrites):
    """``open_external`` .. ``external_marks``: the EXTERNAL leg's rows."""

    def open_external(self, bond: Any) -> None:
        with self._write(bond.opened_at):
            self._upsert("external_positions", ("bond_id",), {
                "bond_id": bond.bond_id, "run_id": bond.run_id, "symbol": bond.symbol,
                "bonds": bond.bonds, "entry_price": bond.entry_price,
                "opened_at": utc_text(bond.opened_at), "magic": bond.magic,
                "terms": json.dumps(bond.as_json(), sort_keys=True), "note": bond.note})

    def close_external(self, close: ExternalClose) -> None:
        with self._write(close.closed_at):
            if not self._exists("external_positions", "bond_id = ?", (close.bond_id,)):
                raise ValueError(f"close_external: bond {close.bond_id!r} was never entered")
            # an UPDATE: the row exists (an upsert's INSERT would need every NOT NULL column)
            self._conn.execute(
                "UPDATE external_positions SET closed_at = ?, close_price = ?, pnl = ?, "
                "close_detail = ?, close_run_id = ? WHERE bond_id = ?",
                (utc_text(close.closed_at), _finite_or_none(close.close_price),
                 _finite_or_none(close.pnl), close.detail, close.run_id, close.bond_id))

    def record_external_mark(self, mark: ExternalMark) -> None:
        with self._write(mark.time):
            self._upsert("external_marks", ("bond_id", "time"), {
                "bond_id": mark.bond_id, "time": utc_text(mark.time), "run_id": mark.run_id,
                "spot": mark.spot, "price": mark.price, "delta": mark.delta,
                "gamma": mark.gamma, "target": mark.target, "held": mark.held,
                "split": _split_json(mark.split)})

    def open_externals(self) -> list[ExternalRecord]:
        """Every bond still held, oldest first, each with its latest mark."""
        return self._externals("closed_at IS NULL", ())

    def external_history(self, bond_id: str | None = None) -> list[ExternalRecord]:
        """Every bond (held or closed), oldest first; one bond's with ``bond_id``."""
        if bond_id is None:
            return self._externals("1 = 1", ())
        return self._externals("bond_id = ?", (bond_id,))

    def external_marks(self, bond_id: str) -> list[ExternalMark]:
        """The bond's journaled marks, oldest first."""
        rows = self._rows("SELECT * FROM external_marks WHERE bond_id = ? ORDER BY time",
                          (bond_id,))
        return [_mark(row) for row in rows]

    def _externals(self, where: str, params: tuple[Any, ...]) -> list[ExternalRecord]:
        with self._snapshot():
            rows = self._rows(f"SELECT * FROM external_positions WHERE {where} "
                              "ORDER BY opened_at, bond_id", params)
            out = []
            for row in rows:
                last = self._rows("SELECT * FROM external_marks WHERE bond_id = ? "
                                  "ORDER BY time DESC LIMIT 1", (row["bond_id"],))
                out.append(ExternalRecord(_bond(row), _close(row),
                                          _mark(last[0]) if last else None))
            return out


def _bond(row: dict[str, Any]) -> Any:
    return bond_from_json(row["bond_id"], row["symbol"], row["bonds"], row["entry_price"],
                          parse_utc(row["opened_at"]), row["magic"], json.loads(row["terms"]),
                          row["run_id"], row["note"])


def _close(row: dict[str, Any]) -> ExternalClose | None:
    if row["closed_at"] is None:
        return None
    return ExternalClose(row["bond_id"], parse_utc(row["closed_at"]),
                         _number(row["close_price"]), _number(row["pnl"]),
                         row["close_detail"] or "", row["close_run_id"] or "")


def _mark(row: dict[str, Any]) -> ExternalMark:
    split = tuple((str(k), _number(v)) for k, v in json.loads(row["split"]).items())
    return ExternalMark(row["bond_id"], parse_utc(row["time"]), _number(row["spot"]),
                        _number(row["price"]), _number(row["delta"]), _number(row["gamma"]),
                        _number(row["target"]), _number(row["held"]), split, row["run_id"])


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _split_json(split: tuple[tuple[str, float], ...]) -> str:
    """The split in its parts' order; an undefined part (NaN) is null."""
    return json.dumps({name: (value if math.isfinite(value) else None)
                       for name, value in split}, allow_nan=False)
