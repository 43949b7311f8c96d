"""The engine as a process that can be killed (the child half of the crash-recovery test).

``python tests/helpers/recovery_child.py ADDRESS JOURNAL CONFIG --until-msc T --secret-file S
[options]`` runs the engine over ``RemoteTerminal(ADDRESS, secret_file=S)`` (a simulated
terminal served by the parent test, which wrote its secret to S) with its journal at
JOURNAL, minute by minute on the terminal's virtual clock, and tells the parent where it is
through one flushed line per fact on stdout:

- ``READY <run_id> <now_msc> <open_baskets>``: started and reconciled; the child then waits
  for one line on stdin before it steps, so the parent can check the journal and the
  terminal against a quiet engine;
- ``SEND <n> <symbol> <OPEN|CLOSE> <comment>`` / ``SENT <n> <retcode>``: right before and
  right after the n-th ``order_send`` of this process reaches the terminal;
- ``HOLD <what> <n>``: the child stopped at the point named by ``--hold`` and waits, on
  stdin, for the SIGKILL the parent sends (a precise crash window, not a race);
- ``T <now_msc> <open_baskets>``: progress, every ``--progress-minutes`` virtual minutes;
- ``FLAT <ok> <message>``: ``--flatten`` submitted ``FlattenAll`` after the run;
- ``DONE <now_msc>``: stopped cleanly.

``--hold`` names the crash window: ``send-before:N`` (the request of the N-th order is
journaled, the order has not reached the terminal), ``send-after:N`` (the terminal filled
it, its result is not journaled) or ``journal:N`` (before the N-th trade-related journal
write: basket open/close, request, result, deal or cluster state, reconciliation's own
writes included).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from app.sessions import sim_session  # noqa: E402
from engine import commands as cmd  # noqa: E402
from engine.config import load_engine_config  # noqa: E402
from engine.loop import run_sync  # noqa: E402
from engine.model import RunMode  # noqa: E402
from engine.runner import Engine  # noqa: E402
from mt5bridge.remote import RemoteTerminal  # noqa: E402

#: The journal writes that carry trading facts (the ones a crash could lose or duplicate).
TRADE_WRITES = ("open_basket", "close_basket", "record_request", "record_result",
                "record_deal", "record_cluster_state")
HOLD_KINDS = ("send-before", "send-after", "journal")


def say(*parts: object) -> None:
    print(*parts, flush=True)


def hold(what: str, n: int) -> None:
    """Stop here until killed; the parent never answers a HOLD."""
    say("HOLD", what, n)
    sys.stdin.readline()
    raise SystemExit(f"HOLD {what} {n} was answered instead of killed")


class AnnouncingTerminal(RemoteTerminal):
    """A RemoteTerminal that announces every order, and can stop around one of them."""

    def __init__(self, address: str, secret_file: Path, hold_kind: str | None,
                 hold_at: int) -> None:
        super().__init__(address, secret_file=secret_file)
        self.sends = 0
        self._hold_kind = hold_kind
        self._hold_at = hold_at

    def order_send(self, request: Mapping[str, Any]) -> Any:
        self.sends += 1
        n = self.sends
        action = "CLOSE" if request.get("position") else "OPEN"
        say("SEND", n, request.get("symbol"), action, request.get("comment") or "-")
        if self._hold_kind == "send-before" and n == self._hold_at:
            hold("send-before", n)
        result = self._call_mt5("order_send", (request,), {})
        if self._hold_kind == "send-after" and n == self._hold_at:
            hold("send-after", n)
        say("SENT", n, getattr(result, "retcode", "none"))
        return result


def hold_before_journal_write(journal: Any, at: int) -> None:
    """Wrap the journal's trade writes so the ``at``-th one stops before it is made."""
    count = [0]

    def wrap(name: str, write: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            if count[0] == at:
                hold(f"journal-{name}", count[0])
            return write(*args, **kwargs)
        return wrapped

    for name in TRADE_WRITES:
        setattr(journal, name, wrap(name, getattr(journal, name)))


def parse_hold(text: str | None) -> tuple[str | None, int]:
    if not text:
        return None, 0
    kind, _, n = text.partition(":")
    if kind not in HOLD_KINDS or not n.isdigit() or int(n) < 1:
        raise SystemExit(f"--hold: expected one of {', '.join(HOLD_KINDS)} and :N, got {text!r}")
    return kind, int(n)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("address")
    p.add_argument("journal", type=Path)
    p.add_argument("config", type=Path)
    p.add_argument("--until-msc", type=int, required=True, help="end of the run (UTC ms)")
    p.add_argument("--secret-file", type=Path, required=True,
                   help="the terminal server's secret file (the server prints its path)")
    p.add_argument("--hold", default=None, help="send-before:N, send-after:N or journal:N")
    p.add_argument("--progress-minutes", type=int, default=5)
    p.add_argument("--flatten", action="store_true",
                   help="submit FlattenAll at the end of the run, then stop")
    args = p.parse_args(argv)
    hold_kind, hold_at = parse_hold(args.hold)

    remote = AnnouncingTerminal(args.address, args.secret_file, hold_kind, hold_at)
    config = load_engine_config(args.config)
    session = sim_session(config, remote, mode=RunMode.REPLAY, journal_path=args.journal)
    if hold_kind == "journal":
        hold_before_journal_write(session.journal, hold_at)
    engine = session.engine
    engine.start()
    say("READY", engine.run_id, engine.now_msc, len(engine.baskets))
    sys.stdin.readline()

    every_ms = args.progress_minutes * 60_000
    last_mark = [engine.now_msc // every_ms]

    def progress(e: Engine) -> None:
        # by bucket, not by exact minute: a fast loop may step over quiet minutes
        mark = e.now_msc // every_ms
        if mark != last_mark[0]:
            last_mark[0] = mark
            say("T", e.now_msc, len(e.baskets))

    run_sync(engine, args.until_msc, on_step=progress)
    if args.flatten:
        ok, message = engine.execute(cmd.FlattenAll(source="test"))
        say("FLAT", ok, message.replace(" ", "_"))
    engine.stop("end of run")
    session.close()
    say("DONE", engine.now_msc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
