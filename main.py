"""FX cluster console: the command-line entry point.

With no arguments it opens the console on the built-in demo market.  Every other action is
a subcommand; each command module exposes ``register(subparsers)`` and sets ``func`` on its
parser, so adding a command never touches the dispatch code below.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime

from app import cli
from engine.errors import UserError

#: Modules that contribute subcommands, in the order ``--help`` lists them: the command
#: line's own (``app.cli``), then the console.
COMMAND_MODULES: tuple[str, ...] = (*cli.COMMAND_MODULES, "gui.app")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="main.py",
        description="FX cluster mean-reversion console for MetaTrader 5. "
        "Run without arguments to open the console on the demo market.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def _report_crash(exc: BaseException) -> str:
    """Keep the full traceback in the crash log and return where it went."""
    from storage.paths import crash_log_path

    path = crash_log_path()
    with path.open("a", encoding="utf-8") as log:
        log.write(f"--- {datetime.now(UTC).isoformat()} {' '.join(sys.argv)}\n")
        log.write("".join(traceback.format_exception(exc)))
    return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or (words[0].startswith("-") and words[0] not in ("-h", "--help")):
        words = ["gui", *words]  # no command: the console (the options are the console's)
    args = parser.parse_args(words)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        where = _report_crash(exc)
        print(f"internal error: {type(exc).__name__}: {exc} (details in {where})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
