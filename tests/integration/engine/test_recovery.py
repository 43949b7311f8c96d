"""Crash recovery of the trading engine: SIGKILL, restart, reconcile.

The rules are those of docs/architecture.md, Execution and recovery.

The crash test serves one persistent simulated terminal from this process
(``TerminalServer`` on a background thread) and runs the engine in a child process
(``tests/helpers/recovery_child.py``) over ``RemoteTerminal``, as a trader's program runs beside a
real MT5 terminal.  It runs a second time over the bridge a Linux trader uses: the terminal
served by ``main.py terminal-server --module`` in a process of its own, the served module's
functions being the same simulated terminal's.  The child is killed with SIGKILL twenty
times at points drawn from a seeded RNG, and a fresh child restarts on the same journal file
and the same terminal (the virtual clock goes on where the terminal is).  The kill points
are of five kinds:

- ``send-before``: the child stops right before its k-th ``order_send`` reaches the terminal
  (the request is journaled, the order does not exist);
- ``send-after``: right after the terminal filled the k-th order, before its result is
  journaled;
- ``journal``: right before the k-th trade-related journal write (basket open/close,
  request, result, deal, cluster state), reconciliation's own writes included;
- ``send-race``: SIGKILL as soon as the child announces its k-th order, without stopping it
  (the kill lands somewhere in the next few milliseconds of sending);
- ``clock``: SIGKILL after the k-th progress line (every five virtual minutes).

The first three are exact crash windows (the child waits for the kill), the last two are
races.  After every kill, after every restart's reconciliation and at the end, the journal
and the terminal are checked against each other (``check_invariants``):

- no lost basket: every position with one of our magic numbers belongs to a basket the
  journal holds open (and nothing is ever flagged EXTERNAL: every position is ours);
- no duplicated order: at most one IN deal per basket and symbol, never more IN deals than
  planned legs, no two journaled results claiming the same order, and every deal at the
  terminal explained by exactly one journaled request of the same symbol and side;
- no orphan position: after a last clean run that flattens, no position with our magic is
  left, every basket is closed, and its journaled P&L and costs equal its deals' to the cent;
- journal integrity: ``PRAGMA integrity_check`` is ok after every kill.

Two in-process tests pin the two restarts the architecture names: a cold start (empty journal,
positions with our magic at the terminal: flagged EXTERNAL, never traded) and a warm
restart (the engine object dropped without ``stop()``: its open basket is adopted with its
tickets and later closes by its own exit rule).
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from helpers.paths import HELPERS, REPO_ROOT

from app.sessions import sim_session
from engine.config import EngineConfig, load_engine_config
from engine.loop import run_sync
from engine.model import ClusterState, ExitCode, RunMode
from mt5bridge import constants as c
from mt5bridge.remote import RemoteTerminal, TerminalServer
from mt5bridge.sim import SimConfig, SimTerminal
from mt5bridge.sim.market import MarketConfig, SyntheticMarket
from storage.journal import SqliteJournal

CHILD = HELPERS / "recovery_child.py"

SYMBOLS = ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF", "USDJPY", "XAUUSD")
#: Monday: the whole crash run stays inside one trading week (no weekend closes).
START = datetime(2024, 1, 8, tzinfo=UTC)
START_MSC = int(START.timestamp() * 1000)
HOUR, DAY = 3_600_000, 86_400_000
#: Friday 18:00 UTC: the crash run must have made its twenty kills before this.
WEEK_END_MSC = START_MSC + 4 * DAY + 18 * HOUR
MARKET_SEED = 5
KILL_SEED = 20240108
KILLS = 20
#: No line from a child for this long means it hung (a test failure, never a wait).
LINE_TIMEOUT_S = 60.0
MAGICS = {"USD_MAJORS": 710001, "GOLD_HAVENS": 710003}
HISTORY_FROM = datetime(2000, 1, 1, tzinfo=UTC)
HISTORY_TO = datetime(2038, 1, 1, tzinfo=UTC)  # MT5 dates are a 32-bit C long

#: The two clusters of these six symbols, with E lowered to 0.8 so that baskets open and
#: close many times a day (every other setting keeps its default).
CONFIG_TOML = """\
[defaults]
entry = 0.8

[[cluster]]
name = "USD_MAJORS"
symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
magic = 710001

[[cluster]]
name = "GOLD_HAVENS"
symbols = ["XAUUSD", "EURUSD", "USDCHF", "USDJPY"]
magic = 710003
"""

NATURAL_EXITS = {ExitCode.MR, ExitCode.OS, ExitCode.TP, ExitCode.HS, ExitCode.TS, ExitCode.TO}
DEAL_ENTRY_IN = c.DEAL_ENTRY_IN
SIDE_OF_DEAL_TYPE = {c.DEAL_TYPE_BUY: "BUY", c.DEAL_TYPE_SELL: "SELL"}


# --------------------------------------------------------------------------- the market


def make_terminal(seed: int = MARKET_SEED) -> SimTerminal:
    """The simulated terminal on the synthetic market of the six symbols (latency on and
    pinned, so the clusters disalign and re-align through the day whatever the default)."""
    market = SyntheticMarket(MarketConfig(seed=seed, start=START, symbols=SYMBOLS,
                                          latency=True, latency_strength=2.0))
    sim = SimTerminal(feed=market, config=SimConfig())
    assert sim.initialize()
    return sim


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "clusters.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    return path


@pytest.fixture
def config(config_path: Path) -> EngineConfig:
    return load_engine_config(config_path)


# --------------------------------------------------------------------------- the child


class Child:
    """One engine process: its stdout read line by line (with a timeout) on a thread."""

    def __init__(self, name: str, address: str, journal: Path, config: Path, until_msc: int,
                 log_dir: Path, *, secret_file: Path, hold: str | None = None,
                 flatten: bool = False) -> None:
        args = [sys.executable, str(CHILD), address, str(journal), str(config),
                "--until-msc", str(until_msc), "--secret-file", str(secret_file)]
        if hold:
            args += ["--hold", hold]
        if flatten:
            args.append("--flatten")
        self.stderr_path = log_dir / f"{name}.stderr"
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(args, cwd=REPO_ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                     bufsize=1)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def next_line(self) -> list[str]:
        try:
            line = self._lines.get(timeout=LINE_TIMEOUT_S)
        except queue.Empty:
            self.kill()
            pytest.fail(f"the engine process said nothing for {LINE_TIMEOUT_S:g} s\n"
                        f"{self.stderr()}")
        if line is None:
            code = self.proc.wait(timeout=LINE_TIMEOUT_S)
            pytest.fail(f"the engine process ended (exit {code}) unexpectedly\n{self.stderr()}")
        return line.split()

    def go(self) -> None:
        """Let a READY child step (if it died meanwhile, ``next_line`` reports it)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write("go\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=LINE_TIMEOUT_S)

    def close(self) -> None:
        """Always: no child outlives its test."""
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-4000:]


# --------------------------------------------------------------------------- the checks


@dataclass
class JournalView:
    baskets: dict[str, dict[str, Any]]
    planned: dict[str, set[str]]
    orders: list[dict[str, Any]]
    deals: dict[int, dict[str, Any]]
    external_locks: list[str]

    @property
    def pending(self) -> list[dict[str, Any]]:
        return [o for o in self.orders if o["received_at"] is None]


def read_journal(path: Path) -> JournalView:
    """The journal as a reader sees it (plain sqlite3, no engine code)."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        assert check == "ok", f"journal integrity: {check}"
        rows = [dict(r) for r in conn.execute("SELECT * FROM baskets")]
        planned: dict[str, set[str]] = defaultdict(set)
        for r in conn.execute("SELECT basket_id, symbol FROM legs"):
            planned[r["basket_id"]].add(r["symbol"])
        orders = [dict(r) for r in conn.execute("SELECT * FROM orders ORDER BY rowid")]
        deals = {r["ticket"]: dict(r) for r in conn.execute("SELECT * FROM deals")}
        external = [r["reason"] for r in conn.execute(
            "SELECT reason FROM cluster_states WHERE reason LIKE 'EXTERNAL%'")]
    finally:
        conn.close()
    return JournalView({r["basket_id"]: r for r in rows}, planned, orders, deals, external)


def our_deals(terminal: Any) -> list[Any]:
    deals = terminal.history_deals_get(HISTORY_FROM, HISTORY_TO)
    assert deals is not None, terminal.last_error()
    return [d for d in deals if int(d.magic) in MAGICS.values()]


def our_positions(terminal: Any) -> list[Any]:
    positions = terminal.positions_get()
    assert positions is not None, terminal.last_error()
    return [p for p in positions if int(p.magic) in MAGICS.values()]


def check_invariants(journal_path: Path, terminal: Any, stage: str) -> JournalView:
    """Journal and terminal agree: nothing lost, nothing duplicated (see the module doc).

    ``stage``: ``killed`` (the engine just died: a request may still await its result),
    ``reconciled`` (a restarted engine has reconciled) or ``final`` (flattened, stopped).
    """
    j = read_journal(journal_path)
    deals = our_deals(terminal)
    positions = our_positions(terminal)
    where = f"[{stage}]"

    assert not j.external_locks, f"{where} a position of ours was flagged: {j.external_locks}"
    basket_of_position = _check_entry_deals(j, deals, where)
    _check_open_positions(j, positions, basket_of_position, where)
    _check_orders(j, deals, stage, where)
    _check_amounts(j, deals, basket_of_position, where)
    if stage == "final":
        assert not positions, f"{where} orphan positions: {[p.ticket for p in positions]}"
        still_open = [b for b, row in j.baskets.items() if row["closed_at"] is None]
        assert not still_open, f"{where} baskets left open: {still_open}"
    return j


def _check_entry_deals(j: JournalView, deals: list[Any], where: str) -> dict[int, str]:
    # Every IN deal opened a leg of a journaled basket, at most once per symbol, never more
    # legs than planned; positions map to their basket through the IN deal's comment.
    basket_of_position: dict[int, str] = {}
    ins: dict[str, Counter[str]] = defaultdict(Counter)
    for d in deals:
        if int(d.entry) != DEAL_ENTRY_IN:
            continue
        basket_id = str(d.comment)
        assert basket_id in j.baskets, f"{where} deal #{d.ticket} for unknown basket {basket_id}"
        assert d.symbol in j.planned[basket_id], \
            f"{where} deal #{d.ticket}: {d.symbol} is no planned leg of {basket_id}"
        assert int(d.magic) == j.baskets[basket_id]["magic"], f"{where} deal #{d.ticket} magic"
        ins[basket_id][d.symbol] += 1
        basket_of_position[int(d.position_id)] = basket_id
    for basket_id, per_symbol in ins.items():
        twice = {s: n for s, n in per_symbol.items() if n > 1}
        assert not twice, f"{where} {basket_id}: a leg was filled twice: {twice}"
        assert sum(per_symbol.values()) <= len(j.planned[basket_id]), \
            f"{where} {basket_id}: more IN deals than planned legs"

    return basket_of_position


def _check_open_positions(j: JournalView, positions: list[Any],
                          basket_of_position: dict[int, str], where: str) -> None:
    # No lost basket: an open position belongs to a basket the journal holds open.
    for p in positions:
        basket_id = basket_of_position.get(int(p.ticket))
        assert basket_id is not None, f"{where} position #{p.ticket} has no IN deal of ours"
        assert j.baskets[basket_id]["closed_at"] is None, \
            f"{where} position #{p.ticket} is open but basket {basket_id} is closed"


def _check_orders(j: JournalView, deals: list[Any], stage: str, where: str) -> None:
    # No duplicated order: each order at the terminal is one journaled request's, with
    # that request's symbol and side; a request without result only in the crash window.
    claimed: dict[int, str] = {}
    for o in j.orders:
        if o["received_at"] is None or not o["order_ticket"]:
            continue
        assert o["order_ticket"] not in claimed, \
            f"{where} order #{o['order_ticket']} claimed by {claimed[o['order_ticket']]} " \
            f"and {o['request_id']}"
        claimed[o["order_ticket"]] = o["request_id"]
    requests = {o["request_id"]: o for o in j.orders}
    by_order: dict[int, list[Any]] = defaultdict(list)
    for d in deals:
        by_order[int(d.order)].append(d)
    for order_ticket, request_id in claimed.items():
        o = requests[request_id]
        if o["retcode"] not in (c.TRADE_RETCODE_DONE, c.TRADE_RETCODE_DONE_PARTIAL):
            continue
        filled = by_order.get(order_ticket, [])
        assert filled, f"{where} {request_id} says order #{order_ticket} filled; no such deal"
        for d in filled:
            assert (d.symbol, SIDE_OF_DEAL_TYPE[int(d.type)]) == (o["symbol"], o["side"]), \
                f"{where} {request_id} ({o['side']} {o['symbol']}) claims deal #{d.ticket} " \
                f"({SIDE_OF_DEAL_TYPE[int(d.type)]} {d.symbol})"
    unexplained = [d for d in deals if int(d.order) not in claimed]
    if stage == "killed":
        # only the request that was in flight may still lack its result
        in_flight = Counter((o["symbol"], o["side"]) for o in j.pending)
        for d in unexplained:
            key = (d.symbol, SIDE_OF_DEAL_TYPE[int(d.type)])
            assert in_flight[key] > 0, f"{where} deal #{d.ticket} without a journaled request"
            in_flight[key] -= 1
    else:
        assert not j.pending, f"{where} requests left without result: {j.pending}"
        assert not unexplained, \
            f"{where} deals without a journaled request: {[d.ticket for d in unexplained]}"


def _check_amounts(j: JournalView, deals: list[Any], basket_of_position: dict[int, str],
                   where: str) -> None:
    # Journaled deals are the terminal's, and closed baskets add up to them to the cent.
    terminal_deals = {int(d.ticket): d for d in deals}
    for ticket, row in j.deals.items():
        d = terminal_deals.get(ticket)
        assert d is not None, f"{where} journaled deal #{ticket} is not at the terminal"
        assert round(row["profit"] - float(d.profit), 2) == 0, f"{where} deal #{ticket} profit"
        owner = basket_of_position.get(int(d.position_id))
        assert owner is None or row["basket_id"] == owner, \
            f"{where} deal #{ticket} journaled for {row['basket_id']}, belongs to {owner}"
    net: dict[str, float] = defaultdict(float)
    costs: dict[str, float] = defaultdict(float)
    for d in deals:
        basket_id = basket_of_position.get(int(d.position_id))
        if basket_id is not None:
            net[basket_id] += float(d.profit) + float(d.commission) + float(d.swap) + \
                float(d.fee)
            costs[basket_id] += float(d.commission) + float(d.swap)
    for basket_id, b in j.baskets.items():
        if b["closed_at"] is None:
            continue
        assert abs(b["pnl"] - net[basket_id]) < 0.005, \
            f"{where} {basket_id}: journal P&L {b['pnl']:.2f} != deals {net[basket_id]:.2f}"
        assert abs(b["costs"] - costs[basket_id]) < 0.005, \
            f"{where} {basket_id}: journal costs {b['costs']:.2f} != {costs[basket_id]:.2f}"


# --------------------------------------------------------------------------- the crash run


KINDS = ("send-before", "send-after", "journal", "send-race", "clock")


@dataclass(frozen=True)
class KillPoint:
    kind: str
    at: int

    @property
    def hold(self) -> str | None:
        return f"{self.kind}:{self.at}" if self.kind in ("send-before", "send-after",
                                                        "journal") else None


def kill_plan(seed: int, kills: int) -> list[KillPoint]:
    """Every kind four times, in a seeded order, each at a seeded depth."""
    rng = random.Random(seed)
    kinds = [KINDS[i % len(KINDS)] for i in range(kills)]
    rng.shuffle(kinds)
    depth = {"send-before": (1, 6), "send-after": (1, 6), "send-race": (1, 6),
             "journal": (1, 16), "clock": (1, 36)}
    return [KillPoint(kind, rng.randint(*depth[kind])) for kind in kinds]


@dataclass
class KillReport:
    point: KillPoint
    clock_msc: int = 0
    open_baskets: int = 0
    positions: int = 0
    pending: int = 0
    pending_filled: int = 0


def run_until_kill(child: Child, point: KillPoint, journal: Path, terminal: Any
                   ) -> KillReport | None:
    """Drive one child to its kill point; None if it ran to the end instead."""
    report = KillReport(point)
    sends = progress = 0
    while True:
        words = child.next_line()
        tag = words[0]
        if tag == "READY":
            check_invariants(journal, terminal, "reconciled")
            child.go()
        elif tag == "HOLD":
            child.kill()
            return report
        elif tag == "SEND":
            sends += 1
            if point.kind == "send-race" and sends == point.at:
                child.kill()
                return report
        elif tag == "T":
            progress += 1
            if point.kind == "clock" and progress == point.at:
                child.kill()
                return report
        elif tag == "DONE":
            child.kill()
            return None


@pytest.fixture(params=["in-process", "module-server"])
def served_terminal(request: pytest.FixtureRequest
                    ) -> Iterator[tuple[str, Path, RemoteTerminal]]:
    """A persistent simulated terminal, its secret file, and a client for the checks.

    ``in-process``: a ``TerminalServer`` on a thread of this process.  ``module-server``:
    the chain a Linux trader runs, ``main.py terminal-server --module`` in a process of its
    own serving a module whose functions are the same simulated terminal's
    (``tests/helpers/fake_mt5_module.py``), as it serves the real ``MetaTrader5`` package.
    """
    if request.param == "module-server":
        yield from _module_server()
        return
    server = TerminalServer(make_terminal()).start()
    client = RemoteTerminal(server.address, secret_file=server.secret_file)
    try:
        assert client.initialize()
        yield str(server.address), server.secret_file, client
    finally:
        client.close()
        server.stop()


def _module_server() -> Iterator[tuple[str, Path, RemoteTerminal]]:
    market = {"seed": MARKET_SEED, "start": START.isoformat(), "symbols": list(SYMBOLS),
              "latency_strength": 2.0}
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FXCLUSTER_FAKE_MT5": json.dumps(market)}
    server = subprocess.Popen(
        [sys.executable, "main.py", "terminal-server", "--module", "tests.helpers.fake_mt5_module",
         "--simulator-controls"], cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client: RemoteTerminal | None = None
    try:
        address, secret_file = (server.stdout.readline().strip() for _ in range(2))
        assert address and secret_file, server.stderr.read()
        client = RemoteTerminal(address, secret_file=secret_file)
        assert client.initialize()
        yield address, Path(secret_file), client
    finally:
        if client is not None:
            client.close()
        server.terminate()
        server.wait(timeout=LINE_TIMEOUT_S)
        server.stdout.close()
        server.stderr.close()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_twenty_sigkills_lose_nothing_and_duplicate_nothing(
        served_terminal: tuple[str, Path, RemoteTerminal], config_path: Path, tmp_path: Path
) -> None:
    # Arrange
    address, secret_file, terminal = served_terminal
    journal = tmp_path / "journal.sqlite"
    plan = kill_plan(KILL_SEED, KILLS)
    reports: list[KillReport] = []
    lives = 0

    # Act: kill, check, restart, twenty times
    while len(reports) < KILLS:
        point = plan[len(reports)]
        assert int(terminal.sim_now_msc()) < WEEK_END_MSC - 2 * HOUR, \
            f"the week ran out after {len(reports)} kills: {reports}"
        lives += 1
        child = Child(f"life-{lives:02d}", address, journal, config_path, WEEK_END_MSC,
                      tmp_path, secret_file=secret_file, hold=point.hold)
        try:
            report = run_until_kill(child, point, journal, terminal)
        finally:
            child.close()
        if report is None:
            continue
        view = check_invariants(journal, terminal, "killed")
        report.clock_msc = int(terminal.sim_now_msc())
        report.open_baskets = sum(1 for b in view.baskets.values() if b["closed_at"] is None)
        report.positions = len(our_positions(terminal))
        report.pending = len(view.pending)
        report.pending_filled = sum(1 for o in view.pending if _reached_market(o, terminal))
        reports.append(report)

    # A last clean run: reconcile, trade an hour, flatten everything, stop.
    final = Child("final", address, journal, config_path, int(terminal.sim_now_msc()) + HOUR,
                  tmp_path, secret_file=secret_file, flatten=True)
    try:
        flat: list[str] = []
        while True:
            words = final.next_line()
            if words[0] == "READY":
                check_invariants(journal, terminal, "reconciled")
                final.go()
            elif words[0] == "FLAT":
                flat = words
            elif words[0] == "DONE":
                break
        assert final.proc.wait(timeout=LINE_TIMEOUT_S) == 0, final.stderr()
    finally:
        final.close()

    # Assert
    view = check_invariants(journal, terminal, "final")
    assert flat[1] == "True", flat
    summary = "\n".join(
        f"{i + 1:2d} {r.point.kind:11s} at {r.point.at:2d}: "
        f"{datetime.fromtimestamp(r.clock_msc / 1000, UTC):%a %H:%M} open baskets "
        f"{r.open_baskets}, positions {r.positions}, pending {r.pending} "
        f"({r.pending_filled} filled)" for i, r in enumerate(reports))
    print(f"\n{lives} engine processes, {len(reports)} SIGKILLs, {len(view.baskets)} baskets, "
          f"{len(view.orders)} orders\n{summary}")
    # The exact windows were really hit: a request journaled and not sent, one filled and
    # not journaled, and kills with baskets half open or half closed.
    before = [r for r in reports if r.point.kind == "send-before"]
    after = [r for r in reports if r.point.kind == "send-after"]
    assert before and all(r.pending == 1 and r.pending_filled == 0 for r in before)
    assert after and all(r.pending == 1 for r in after)
    assert any(r.pending_filled for r in after), "no kill between a fill and its result"
    assert any(r.open_baskets for r in reports), "no kill caught a basket open"
    assert len(view.baskets) >= 5, "too few baskets for a meaningful run"


def _reached_market(order: dict[str, Any], terminal: Any) -> bool:
    """Whether a request left without result was filled (its position closed, or opened)."""
    raw = json.loads(order["request_json"] or "{}")
    position = int(raw.get("position", 0) or 0)
    if position:
        return not terminal.positions_get(ticket=position)
    opened = [p for p in our_positions(terminal)
              if str(p.comment) == order["comment"] and p.symbol == order["symbol"]]
    return bool(opened)


# --------------------------------------------------------------------------- cold and warm


def _send(sim: SimTerminal, symbol: str, side: int, volume: float, magic: int,
          comment: str) -> int:
    assert sim.symbol_select(symbol, True)
    tick = sim.symbol_info_tick(symbol)
    result = sim.order_send({
        "action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume, "type": side,
        "price": tick.ask if side == c.ORDER_TYPE_BUY else tick.bid, "deviation": 20,
        "magic": magic, "comment": comment, "type_filling": c.ORDER_FILLING_IOC,
        "type_time": c.ORDER_TIME_GTC,
    })
    assert result is not None and result.retcode == c.TRADE_RETCODE_DONE, result
    return int(result.order)


def test_cold_start_flags_positions_with_our_magic_and_never_trades_them(
        config: EngineConfig, tmp_path: Path) -> None:
    # Arrange: positions at the terminal, an empty journal
    sim = make_terminal()
    sim.sim_advance_to(START_MSC + 2 * HOUR)
    ours = [_send(sim, "EURUSD", c.ORDER_TYPE_BUY, 0.1, MAGICS["USD_MAJORS"], "by hand"),
            _send(sim, "GBPUSD", c.ORDER_TYPE_SELL, 0.2, MAGICS["USD_MAJORS"], "")]
    foreign = _send(sim, "USDJPY", c.ORDER_TYPE_BUY, 0.1, 424242, "another expert")
    journal_path = tmp_path / "journal.sqlite"

    # Act
    session = sim_session(config, sim, mode=RunMode.REPLAY, journal_path=journal_path)
    engine = session.engine
    engine.start()
    adopted_at_start = dict(engine.baskets)
    run_sync(engine, engine.now_msc + DAY)
    engine.stop("end of test")
    session.close()
    restarted = sim_session(config, sim, mode=RunMode.REPLAY, journal_path=journal_path)
    restarted.engine.start()
    restarted.engine.stop("end of test")
    restarted.close()

    # Assert
    assert adopted_at_start == {}
    with SqliteJournal.open(journal_path) as journal:
        history = journal.cluster_state_history()
        states = journal.cluster_states()
        baskets = [b for b in journal.basket_history() if b.opening.cluster == "USD_MAJORS"]
        open_baskets = journal.open_baskets()
    for ticket in ours:
        flagged = [h for h in history if f"EXTERNAL position #{ticket} " in h.reason]
        assert flagged, f"position #{ticket} was not flagged"
        assert all(h.cluster == "USD_MAJORS" and h.state is ClusterState.CLOSE_ONLY
                   for h in flagged)
    assert states["USD_MAJORS"].state is ClusterState.CLOSE_ONLY
    assert "GOLD_HAVENS" not in states or states["GOLD_HAVENS"].state is ClusterState.ACTIVE
    assert all(f"#{foreign}" not in h.reason for h in history)
    assert baskets == [] and open_baskets == []
    for ticket in [*ours, foreign]:
        position = sim.positions_get(ticket=ticket)
        assert position and len(sim.history_deals_get(position=ticket)) == 1, \
            f"position #{ticket} was traded"
    all_deals = sim.history_deals_get(HISTORY_FROM, HISTORY_TO)
    majors_deals = [d for d in all_deals if int(d.magic) == MAGICS["USD_MAJORS"]]
    assert len(majors_deals) == 2, "the flagged cluster must not trade"
    assert any(int(d.magic) == MAGICS["GOLD_HAVENS"] for d in all_deals), \
        "the other cluster trades as usual"


def test_warm_restart_adopts_the_open_basket_and_closes_it_by_its_exit_rule(
        config: EngineConfig, tmp_path: Path) -> None:
    # Arrange: an engine with an open basket, then dropped without stop()
    sim = make_terminal()
    journal_path = tmp_path / "journal.sqlite"
    first = sim_session(config, sim, mode=RunMode.REPLAY, journal_path=journal_path)
    dropped = first.engine
    dropped.start()
    run_sync(dropped, START_MSC + 3 * DAY, should_stop=lambda: bool(dropped.baskets))
    assert dropped.baskets, "no basket opened in three days"
    cluster, basket = next(iter(dropped.baskets.items()))
    tickets = {leg.symbol: (leg.position, leg.lots) for leg in basket.legs}
    first.journal.close()  # the process is gone: no stop(), no end of run

    # Act
    second = sim_session(config, sim, mode=RunMode.REPLAY, journal_path=journal_path)
    engine = second.engine
    engine.start()
    adopted = engine.baskets.get(cluster)
    adopted_tickets = ({leg.symbol: (leg.position, leg.lots) for leg in adopted.legs}
                       if adopted else {})
    run_sync(engine, engine.now_msc + 3 * DAY,
             should_stop=lambda: engine.baskets.get(cluster) is not adopted)
    engine.stop("end of test")
    record = second.journal.basket(basket.basket_id)
    second.close()

    # Assert
    assert adopted is not None and adopted.basket_id == basket.basket_id
    assert adopted_tickets == tickets
    assert record is not None and record.closing is not None, "the basket never closed"
    assert record.closing.exit_code in NATURAL_EXITS
    for ticket, _lots in tickets.values():
        assert not sim.positions_get(ticket=ticket)
    deals = [d for t, _ in tickets.values() for d in sim.history_deals_get(position=t)]
    net = sum(float(d.profit) + float(d.commission) + float(d.swap) for d in deals)
    assert abs(record.closing.pnl - net) < 0.005


PAIR_TOML = """\
[[cluster]]
name = "EUGB_PAIR"
kind = "pair"
symbols = ["EURUSD", "GBPUSD"]
magic = 720001
entry = 1.0

[cluster.pair]
hedge_window = 96
z_window = 48
coint_p_max = 1.0
half_life_max = 100000
"""


def test_a_warm_restart_keeps_a_pair_baskets_half_life_time_stop(tmp_path: Path) -> None:
    # Arrange: a pair basket with its own time stop, then the process dropped
    path = tmp_path / "pair.toml"
    path.write_text(PAIR_TOML, encoding="utf-8")
    pair_config = load_engine_config(path)
    sim = make_terminal()
    journal_path = tmp_path / "journal.sqlite"
    first = sim_session(pair_config, sim, mode=RunMode.REPLAY, journal_path=journal_path)
    dropped = first.engine
    dropped.start()
    run_sync(dropped, START_MSC + 3 * DAY, should_stop=lambda: bool(dropped.baskets))
    assert dropped.baskets, "no pair basket opened in three days"
    basket = dropped.baskets["EUGB_PAIR"]
    assert basket.time_stop_bars is not None
    first.journal.close()
    # Act
    second = sim_session(pair_config, sim, mode=RunMode.REPLAY, journal_path=journal_path)
    second.engine.start()
    adopted = second.engine.baskets.get("EUGB_PAIR")
    second.engine.stop("end of test")
    second.close()
    # Assert
    assert adopted is not None and adopted.basket_id == basket.basket_id
    assert adopted.time_stop_bars == basket.time_stop_bars
