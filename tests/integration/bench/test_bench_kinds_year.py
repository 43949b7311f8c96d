"""``bench_kinds.py --year`` times each backtest as its own ``main.py`` process: a run gives
its wall and CPU seconds with the backtest's own summary line, and a run that fails is
reported with its error, not timed as if it had traded.  On the three weeks of
``tests/data/histdata`` (the same file names as the 2019 year)."""

from __future__ import annotations

import pytest
from helpers.paths import TEST_DATA

from bench.bench_kinds import timed_process, year_runs

#: The year's pair with windows that warm up within the three weeks.
SHORT_PAIR = """
[[cluster]]
name = "EUGB_PAIR"
kind = "pair"
symbols = ["EURUSD", "GBPUSD"]
magic = 720001

[cluster.pair]
hedge_window = 96
z_window = 48
"""


@pytest.mark.slow
def test_a_backtest_process_gives_its_times_and_summary(tmp_path):
    # Arrange: the year's pair arguments on a configuration the three weeks can warm up
    config = tmp_path / "pair.toml"
    config.write_text(SHORT_PAIR)
    (label, arguments), _tdi = year_runs(TEST_DATA / "histdata", config)

    # Act
    wall, cpu, summary = timed_process(arguments, tmp_path / "report")

    # Assert
    assert label == "pair EURUSD/GBPUSD, M30"
    assert wall > 0 and cpu > 0
    assert "baskets" in summary and "final balance" in summary
    assert (tmp_path / "report" / "trades.csv").is_file()


@pytest.mark.slow
def test_a_failed_backtest_process_is_reported_with_its_error(tmp_path):
    # Arrange: the year's own TDI run, whose windows three weeks cannot warm up
    config = tmp_path / "pair.toml"
    config.write_text(SHORT_PAIR)
    _pair, (label, arguments) = year_runs(TEST_DATA / "histdata", config)

    # Act
    _wall, _cpu, summary = timed_process(arguments, tmp_path / "report")

    # Assert
    assert label == "TDI USD_MAJORS, 4 symbols"
    assert summary.startswith("exit 2:") and "cannot warm the clusters up" in summary


@pytest.mark.slow
def test_the_floor_run_steps_the_whole_period_and_never_trades(tmp_path):
    # Arrange: the year's pair on the three weeks, once as it is and once with the null model
    from app.backtest import run_backtest
    from app.cli.backtest import spec_from_args
    from bench.bench_kinds import null_models
    from main import build_parser

    config = tmp_path / "pair.toml"
    config.write_text(SHORT_PAIR)
    (_label, arguments), _tdi = year_runs(TEST_DATA / "histdata", config)

    def spec(name):
        return spec_from_args(build_parser().parse_args(
            [*arguments, "--report", str(tmp_path / name)]))

    # Act
    traded = run_backtest(spec("model"))
    floor = run_backtest(spec("null"), on_session=null_models)

    # Assert: the same days marked; baskets with the model, none without
    assert floor.complete and traded.complete
    assert list(floor.equity.index) == list(traded.equity.index)
    assert len(traded.trades) == 5
    assert len(floor.trades) == 0
    assert set(floor.equity["balance"]) == set(floor.equity["equity"]) == {100_000.0}


def test_the_year_processes_may_cache_bytecode_as_a_users_python_does(monkeypatch):
    # Arrange: a shell that forbids Python's bytecode cache
    from bench.bench_kinds import ROOT, child_env

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")

    # Act
    env = child_env()

    # Assert
    assert "PYTHONDONTWRITEBYTECODE" not in env and env["PYTHONPATH"] == str(ROOT)


def test_the_shared_costs_bound_keeps_each_kinds_symbols_and_own_costs():
    # Arrange: warm years 2.41 / 2.84 s, floors 1.46 / 2.14 s, 0.38 s a symbol
    from bench.bench_kinds import shared_costs_bound

    # Act
    line = shared_costs_bound(2.41, 2.84, 1.46, 2.14, 0.38)

    # Assert: pair 0.76 + 0.95 = 1.71 s, TDI 1.52 + 0.70 = 2.22 s
    assert "pair  1.71 s (2 symbols  0.76 s, its model and trading  0.95 s)" in line
    assert "TDI  2.22 s (4 symbols  1.52 s, its model and trading  0.70 s)" in line
    assert line.endswith(f"pair / TDI would be {1.71 / 2.22:5.2f}")


@pytest.mark.slow
def test_the_stepping_run_times_each_run_and_its_stepping(tmp_path, capsys):
    # Arrange
    from bench.bench_kinds import STEPPING_RUNS, stepping_run

    config = tmp_path / "pair.toml"
    config.write_text(SHORT_PAIR)

    import app.backtest.run as backtest_run

    stepping = backtest_run.run_sync

    # Act
    stepping_run(TEST_DATA / "histdata", config, 0)

    # Assert: each run's whole and its stepping, the stepping a part of the whole; the
    # backtest's own stepping back in place
    pairs = [tuple(map(float, p.split("/"))) for p in capsys.readouterr().out.split()]
    assert len(pairs) == STEPPING_RUNS
    assert all(0 < step < whole for whole, step in pairs)
    assert backtest_run.run_sync is stepping
