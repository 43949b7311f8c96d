"""A sweep's trial is the backtest ``main.py backtest`` runs alone.

Two small studies, each of two configurations on two folds with the news calendar on: one
on the synthetic market (a calendar written here, releases every day), one on the HistData
slice of ``tests/data`` (the real 2019 FOMC week, with the real calendar of that week).  The
trials run in two spawned worker processes; each stored trial is then run again by
``main.py backtest`` in this process, with a configuration file that holds the trial's
values, the trial's span and the same options.  Every metric must be bit for bit the
trial's (compared as canonical JSON, where ``-0.0`` and ``0.0`` differ), and so must the
daily returns.

The span: a trial ends a minute before its span's end (``END_MARGIN``); ``backtest --to``
takes an instant as the period's exclusive end, so ``--to 2019-10-30T23:59`` asks for the
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
from tests.helpers.paths import TEST_DATA

#: Two clusters as the shipped file has them, with windows short enough for the three weeks
#: of the HistData slice to warm them up, and one line where a trial's values go.
CONFIG = """\
[defaults]
tau_f = 8
tau_s = 24
tau_q = 96
exit = 0.25
time_stop_bars = 48

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
GRID = "tau_f = [4]\nentry = [1.0, 1.5]\n"
#: Each market: its data options, its span (two folds, each span of two days or more: a
#: shorter one has no metrics), its calendar (None: written here).  The calendar slice
#: covers the HistData slice's last week only, so entries before it wait (a stale calendar
#: blocks them) and fold 1's in-sample span trades nothing: a trial too.
MARKETS = {
    "synthetic": (["--market", "synthetic"], ["--from", "2024-01-08", "--to", "2024-01-19"],
                  None),
    "histdata": (["--data", str(TEST_DATA / "histdata")],
                 ["--from", "2019-10-21", "--to", "2019-11-01"],
                 TEST_DATA / "calendar" / "economic_calendar_2019_UTC_slice.csv"),
}
#: metrics.json's keys that are not the run's metrics (a trial stores the metrics only).
NOT_METRICS = ("complete", "notes", "params", "data_ranges")


def _calendar_text() -> str:
    """High-impact USD releases at 08:30, 13:30 and 15:00 UTC on every day from the
    synthetic study's first to two days past its last, so the calendar covers each run and
    its look-ahead horizon (a calendar that does not would block entries as stale, not as
    news)."""
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


@pytest.fixture(scope="module", params=list(MARKETS))
def study(request, tmp_path_factory):
    """2 configurations x 2 folds x 2 spans = 8 trials, with the calendar, in 2 workers."""
    data, span, calendar = MARKETS[request.param]
    folder = tmp_path_factory.mktemp(f"sweep-{request.param}")
    (folder / "base.toml").write_text(_config_text({}), encoding="utf-8")
    (folder / "grid.toml").write_text(GRID, encoding="utf-8")
    if calendar is None:
        calendar = folder / "calendar.csv"
        calendar.write_text(_calendar_text(), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("FXCLUSTER_HOME", str(folder / "home"))
    try:
        code = main(["sweep", *data, "--config", str(folder / "base.toml"), *span,
                     "--folds", "2", "--grid", str(folder / "grid.toml"), "--calendar",
                     str(calendar), "--workers", "2", "--study", str(folder / "study.sqlite")])
    finally:
        mp.undo()
    assert code == 0
    with TrialsStore(folder / "study.sqlite", create=False) as store:
        rows = [r.values for r in store.rows()]
    return {"folder": folder, "data": data, "calendar": calendar, "rows": rows}


def _instant(text: str) -> str:
    return f"{datetime.fromisoformat(text):%Y-%m-%dT%H:%M}"


def _backtest_alone(study, row, home):
    """``main.py backtest`` of the trial: its values in a configuration file, its span."""
    name = f"c{row['config']}-f{row['fold']}-{row['sample']}"
    config = home / f"{name}.toml"
    config.write_text(_config_text(row["params"]), encoding="utf-8")
    end = datetime.fromisoformat(row["span_to"]) - END_MARGIN
    report = home / name
    code = main(["backtest", *study["data"], "--config", str(config),
                 "--from", _instant(row["span_from"]), "--to", f"{end:%Y-%m-%dT%H:%M}",
                 "--calendar", str(study["calendar"]), "--report", str(report)])
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
    rows = study["rows"]
    assert [(r["config"], r["fold"], r["sample"]) for r in rows] == [
        (c, f, s) for c in (1, 2) for f in (1, 2) for s in ("is", "oos")]
    assert all(r["status"] == "done" for r in rows)
    assert sum(r["baskets"] for r in rows) > 0


def test_every_trial_equals_backtest_run_alone_bit_for_bit(study, tmp_path, monkeypatch,
                                                            capsys):
    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path / "home"))
    for row in study["rows"]:
        # Act
        report = _backtest_alone(study, row, tmp_path)
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
    """The calendar is not decoration: entries are refused for news in the study's runs,
    and the run differs from the same run without it."""
    from app.backtest import run_backtest

    row = next(r for r in study["rows"] if r["params"]["entry"] == 1.0 and r["fold"] == 2
               and r["sample"] == "is")
    data = study["data"]
    run = {"source": "synthetic" if "--market" in data else "files",
           "paths": [] if "--market" in data else [data[1]], "store": None, "seed": 0,
           "latency": True, "config_path": str(study["folder"] / "base.toml"),
           "clusters": None, "tick_mode": "ohlc", "spread_model": "fixed",
           "spread_profiles": [], "metrics_basis": "trading",
           "calendar": str(study["calendar"])}
    span = {"fold": 2, "sample": "is", "from": row["span_from"], "to": row["span_to"]}
    task = {"params": row["params"], "span": span, "run": run}
    with_news = run_backtest(build_spec(task))
    without = run_backtest(build_spec({**task, "run": {**run, "calendar": None}}))
    assert with_news.stats.refusals.get("NEWS_BLACKOUT", 0) > 0
    assert not with_news.equity.equals(without.equity)
