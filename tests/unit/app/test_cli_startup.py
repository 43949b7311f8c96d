"""Start-up: building ``main.py``'s parser imports none of the commands' work.

``main.py`` builds every command's parser to read one command line; when that imported
the commands' modules, ``--help`` and every short command paid 1.4 s for pandas, numba,
pyarrow and the rest (bench/README.md, "Start-up").  The check runs in a fresh interpreter,
where ``sys.modules`` shows exactly what the command line loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from helpers.paths import REPO_ROOT

#: What a parser must not load: the GUI toolkit, the data frames, the compiled kernels,
#: the Parquet reader, the journal's SQLite layer.
HEAVY = ("PySide6", "pandas", "numba", "pyarrow", "sqlite_utils")

#: Every command of ``main.py``, and the sub-commands with their own options.
HELP_LINES = (
    (), ("tdi",), ("pairs", "scan"), ("journal", "summary"), ("journal", "export"),
    ("journal", "backup"), ("calendar", "list"), ("calendar", "coverage"),
    ("import", "ticks"), ("import", "bars"), ("import", "calendar"), ("data", "list"),
    ("data", "spreads"), ("run",), ("backtest",), ("walkforward",), ("audit",),
    ("replay",), ("terminal-server",), ("live-check",), ("gui",),
)


def _loaded_after(lines: tuple[tuple[str, ...], ...]) -> dict[str, object]:
    """Run ``main.main([*line, "--help"])`` for each line in one fresh interpreter; the
    heavy modules loaded afterwards, and each line's exit status."""
    script = textwrap.dedent(f"""
        import contextlib, io, json, sys
        import main
        statuses = []
        for line in {[list(line) for line in lines]!r}:
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    main.main([*line, "--help"])
                except SystemExit as exc:
                    statuses.append(exc.code)
        heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)
        print(json.dumps({{"heavy": heavy, "statuses": statuses}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_main_help_imports_none_of_the_heavy_modules():
    # Arrange: the top-level help only

    # Act
    loaded = _loaded_after(((),))

    # Assert
    assert loaded == {"heavy": [], "statuses": [0]}


def test_every_commands_help_imports_none_of_the_heavy_modules():
    # Act
    loaded = _loaded_after(HELP_LINES)

    # Assert: every help printed, and none of them loaded a command's work
    assert loaded["statuses"] == [0] * len(HELP_LINES)
    assert loaded["heavy"] == []


@pytest.mark.parametrize("module", ["pandas", "numba"])
def test_a_command_still_loads_its_work_when_it_runs(module, tmp_path):
    # Arrange: a command that fails on its first date, after the parser has done its part
    script = (f"import sys, main; status = main.main(['tdi', '--data', 'x', '--symbols', "
              f"'EURUSD,GBPUSD,AUDUSD', '--from', '2019-13-01', '--out', "
              f"{str(tmp_path / 'out.csv')!r}]); "
              f"print(status, {module!r} in sys.modules)")

    # Act
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})

    # Assert: the run reached the command's work (its modules), and refused the date
    assert proc.stdout.split() == ["2", "True"], proc.stderr
    assert "--from: not a date" in proc.stderr


def test_the_walkforward_min_baskets_default_is_the_one_the_sweep_names():
    # Arrange: the command line keeps its own literal (it starts without the engine)
    from app.walkforward.grid import DEFAULT_MIN_BASKETS
    from main import build_parser

    # Act
    args = build_parser().parse_args(["walkforward", "--market", "synthetic", "--from",
                                      "2024-01-08", "--to", "2024-01-20", "--grid", "g.toml",
                                      "--report", "r"])

    # Assert
    assert args.min_baskets == DEFAULT_MIN_BASKETS
