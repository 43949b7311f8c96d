"""A sweep's trial is the backtest ``main.py backtest`` runs alone.

A small study (two configurations, two folds, the news calendar on) runs in two spawned
worker processes; each stored trial is then run again by ``main.py backtest`` in this
process, with a configuration file that holds the trial's values, the trial's span and the
same options.  Every metric must be bit for bit the trial's (compared as canonical JSON,
where ``-0.0`` and ``0.0`` differ), and so must the daily returns.

The span: a trial ends a minute before its span's end (``END_MARGIN``); ``backtest --to``
takes an instant as the period's exclusive end, so ``--to 2024-01-11T23:59`` asks for the
very same run.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta

import pandas as pd
import pytest

from app.sweep.plan import canonical_json
from app.sweep.trial import build_spec
from app.walkforward.study import END_MARGIN
from engine.metrics.returns import daily_returns
from main import main
from storage.trials import TrialsStore

#: Two clusters as the shipped file has them, and one line where a trial's values go.
CONFIG = """\
[defaults]
tau_f = 8
tau_s = 96
tau_q = 480
exit = 0.25

[[cluster]]
name = "USD_MAJORS"
symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
magic = 710001
{values}
[[cluster]]
name = "GOLD_HAVENS"
symbols = ["XAUUSD", "EURUSD", "USDCHF", "USDJPY"]
magic = 710003
{values}
"""
GRID = "tau_f = [4]\nentry = [1.2, 1.5]\n"
SPAN = ["--from", "2024-01-08", "--to", "2024-01-19"]
#: metrics.json's keys that are not the run's metrics (a trial stores the metrics only).
NOT_METRICS = ("complete", "notes", "params", "data_ranges")


def _calendar_text() -> str:
    """High-impact USD releases at 08:30, 13:30 and 15:00 UTC on every day from the study's
    first to two days past its last, so the calendar covers each run and its look-ahead
    horizon (a calendar that does not would block entries as stale, not as news)."""
    lines = ["time_utc,currency,impact,title,actual,forecast,previous"]
    day = datetime(2024, 1, 7)
    while day <= datetime(2024, 1, 22):
        for hour, minute in ((8, 30), (13, 30), (15, 0)):
            when = day.replace(hour=hour, minute=minute)
            lines.append(f"{when:%Y-%m-%dT%H:%M:%SZ},USD,High,Release {when:%d %H%M},,,")
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


def _config_text(params: dict) -> str:
    values = "".join(f"{key} = {json.dumps(value)}\n" for key, value in params.items())
    return CONFIG.format(values=values)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """2 configurations x 2 folds x 2 spans = 8 trials, with the calendar, in 2 workers."""
    folder = tmp_path_factory.mktemp("sweep-unit")
    (folder / "base.toml").write_text(_config_text({}), encoding="utf-8")
    (folder / "grid.toml").write_text(GRID, encoding="utf-8")
    (folder / "calendar.csv").write_text(_calendar_text(), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("FXCLUSTER_HOME", str(folder / "home"))
    try:
        code = main(["sweep", "--market", "synthetic", "--config", str(folder / "base.toml"),
                     *SPAN, "--folds", "2", "--grid", str(folder / "grid.toml"),
                     "--calendar", str(folder / "calendar.csv"), "--workers", "2",
                     "--study", str(folder / "study.sqlite")])
    finally:
        mp.undo()
    assert code == 0
    with TrialsStore(folder / "study.sqlite", create=False) as store:
        rows = [r.values for r in store.rows()]
    return folder, rows


def _instant(text: str) -> str:
    return f"{datetime.fromisoformat(text):%Y-%m-%dT%H:%M}"


def _backtest_alone(folder, row, home):
    """``main.py backtest`` of the trial: its values in a configuration file, its span."""
    name = f"c{row['config']}-f{row['fold']}-{row['sample']}"
    config = folder / f"{name}.toml"
    config.write_text(_config_text(row["params"]), encoding="utf-8")
    end = datetime.fromisoformat(row["span_to"]) - END_MARGIN
    report = home / name
    code = main(["backtest", "--market", "synthetic", "--config", str(config),
                 "--from", _instant(row["span_from"]), "--to", f"{end:%Y-%m-%dT%H:%M}",
                 "--calendar", str(folder / "calendar.csv"), "--report", str(report)])
    assert code == 0
    return report


def _returns_of(report, capital: float) -> list[list]:
    """The daily returns of equity.csv, as a trial stores them (trading-day basis)."""
    with (report / "equity.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    equity = pd.Series([float(r["equity"]) for r in rows],
                       index=pd.DatetimeIndex([r["date"] for r in rows], tz="UTC"))
    return [[f"{d:%Y-%m-%d}", float(r)]
            for d, r in daily_returns(equity, capital, "trading").items()]


def test_the_study_is_two_configurations_on_two_folds_with_trades(study):
    _, rows = study
    assert [(r["config"], r["fold"], r["sample"]) for r in rows] == [
        (c, f, s) for c in (1, 2) for f in (1, 2) for s in ("is", "oos")]
    assert all(r["status"] == "done" for r in rows)
    assert sum(r["baskets"] for r in rows) > 0


def test_every_trial_equals_backtest_run_alone_bit_for_bit(study, tmp_path, monkeypatch,
                                                            capsys):
    folder, rows = study
    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path / "home"))
    for row in rows:
        # Act
        report = _backtest_alone(folder, row, tmp_path)
        # Assert: every metric, and the daily returns
        document = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
        metrics = {k: v for k, v in document.items() if k not in NOT_METRICS}
        where = f"config {row['config']} fold {row['fold']} {row['sample']}"
        assert canonical_json(metrics) == canonical_json(row["metrics"]), where
        returns = _returns_of(report, document["params"]["start_capital"])
        assert canonical_json(returns) == canonical_json(row["daily_returns"]), where
        assert document["params"]["calendar"] == "given"
    capsys.readouterr()


def test_the_news_calendar_acts_on_the_trials(study):
    """The calendar is not decoration: entries are refused for news in the study's runs."""
    from app.backtest import run_backtest
    from app.sweep.plan import spans_of

    folder, rows = study
    row = next(r for r in rows if r["params"]["entry"] == 1.2 and r["sample"] == "is")
    span = spans_of(None, datetime.fromisoformat(row["span_from"]),
                    datetime.fromisoformat(row["span_to"]))[0].as_dict()
    run = {"source": "synthetic", "paths": [], "store": None, "seed": 0, "latency": True,
           "config_path": str(folder / "base.toml"), "clusters": None, "tick_mode": "ohlc",
           "spread_model": "fixed", "spread_profiles": [], "metrics_basis": "trading",
           "calendar": str(folder / "calendar.csv")}
    task = {"params": row["params"], "span": span, "run": run}
    with_news = run_backtest(build_spec(task))
    without = run_backtest(build_spec({**task, "run": {**run, "calendar": None}}))
    assert with_news.stats.refusals.get("NEWS_BLACKOUT", 0) > 0
    assert not with_news.equity.equals(without.equity)
