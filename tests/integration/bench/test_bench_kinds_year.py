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
