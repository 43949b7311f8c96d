"""Every config field is checked against its documented range when the file is loaded.

Each row of ``BAD_VALUES`` is one value that used to load and then crash or quietly
misbehave (a hard stop of 0 divided by zero at the first trade and left a basket open with
``sl=0``; ``take_profit_r = -1`` closed every basket at once as TP; ...), or one just past a
documented bound.  Each must be a ``ConfigError`` naming the file and the key, and through
``main.py run --config`` one line on stderr, exit 2, no crash.log and nothing written.
"""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.paths import REPO_ROOT

from engine.cluster import ClusterSpec, StopParams, load_clusters
from engine.config import EngineConfig, ExecutionConfig, load_engine_config
from engine.errors import ConfigError
from engine.news import NewsConfig
from engine.ranges import MAX_ANY_BARS, MAX_BARS, FieldError
from engine.risk import RiskConfig
from engine.tdi import TdiParams

#: The cluster every row starts from: its name has the full 11 characters a basket id
#: leaves, so any comment prefix at all overflows the 29-character order comment.
CLUSTER = {
    "name": '"GOLD_HAVENS"',
    "symbols": '["XAUUSD", "EURUSD", "USDCHF", "USDJPY"]',
    "magic": "710003",
}

#: (the file's key, the bad value as TOML, a fragment of the reason).  ``cluster.KEY`` is a
#: key of the one ``[[cluster]]`` table; ``defaults.KEY``, ``risk.KEY``, ``news.KEY`` and
#: ``execution.KEY`` are keys of those tables.
BAD_VALUES = [
    # the stops: HS, TP, TO, TS and the basket ATR
    ("cluster.hard_stop_atr", "0", "[0.1, 100]"),
    ("cluster.hard_stop_atr", "-5.0", "[0.1, 100]"),
    ("cluster.hard_stop_atr", "nan", "finite"),
    ("cluster.hard_stop_atr", "inf", "finite"),
    ("cluster.hard_stop_atr", "1e400", "finite"),
    ("cluster.hard_stop_atr", "true", "expected float"),
    ("defaults.hard_stop_atr", "0.0", "[0.1, 100]"),
    ("cluster.take_profit_r", "-1", "(0, 100]"),
    ("cluster.take_profit_r", "0", "(0, 100]"),
    ("cluster.take_profit_r", "nan", "finite"),
    ("cluster.time_stop_bars", "-5", f"1..{MAX_ANY_BARS}"),
    ("cluster.time_stop_bars", "0", f"1..{MAX_ANY_BARS}"),
    ("cluster.time_stop_bars", "96.0", "expected int"),
    ("cluster.tdi_stop", "nan", "finite"),
    ("cluster.tdi_stop", "-inf", "finite"),
    ("cluster.tdi_stop", "1.0", "must exceed entry"),
    ("cluster.tdi_stop", "1000.0", "(0, 100]"),
    ("cluster.atr_bars", "0", f"1..{MAX_ANY_BARS}"),
    ("cluster.atr_bars", "-1", f"1..{MAX_ANY_BARS}"),
    ("cluster.atr_bars", "11000", "start-up history"),
    # the thresholds and the eigengap floor
    ("cluster.min_eigengap", "nan", "finite"),
    ("cluster.min_eigengap", "0.5", "[1, 100]"),
    ("cluster.min_eigengap", "1e6", "[1, 100]"),
    ("cluster.entry", "nan", "finite"),
    ("cluster.entry", "-1.2", "(0, 100)"),
    ("cluster.exit", "1.5", "(0, 1.2)"),
    ("cluster.exit", "0", "(0, 1.2)"),
    ("defaults.exit", "nan", "finite"),
    # the TDI windows: a year of M1 data must warm them up
    ("cluster.tau_q", "1e8", "expected int"),
    ("cluster.tau_q", "100000000", f"2..{MAX_ANY_BARS}"),
    ("cluster.tau_f", "0", f"1..{MAX_ANY_BARS}"),
    ("cluster.tau_s", "2", f"3..{MAX_ANY_BARS}"),
    ("cluster.tau_s", "6000", "warm-up"),
    ("defaults.tau_f", "4.0", "expected int"),
    # the cluster's identity at the broker
    ("cluster.magic", "-1", "1..9223372036854775807"),
    ("cluster.magic", "0", "1..9223372036854775807"),
    ("cluster.magic", "18446744073709551616", "1..9223372036854775807"),
    ("cluster.name", '""', "1 to 11 characters"),
    ("cluster.name", '"GOLD_HAVENS_X"', "1 to 11 characters"),
    ("cluster.name", '"GOLD HAVENS"', "not allowed"),
    ("cluster.name", '"GOLD,HAVEN"', "not allowed"),
    ("cluster.symbols", '["XAUUSD", "XAUUSD", "EURUSD"]', "duplicate symbol"),
    ("cluster.symbols", '["XAU", "EURUSD", "USDCHF"]', "6 to 31 characters"),
    ("cluster.symbols", '["EURUSD", "GBPUSD"]', "3 to 6 symbols"),
    # the spaces, timeframes and exits of the signal
    ("cluster.space", '"dollar"', "currency, symbol"),
    ("cluster.space", "1", "expected str"),
    ("cluster.timeframe", '"M5"', "M15, M30, H1, H4, D1"),
    ("defaults.timeframe", '"h4"', "M15, M30, H1, H4, D1"),
    ("cluster.overshoot", '"entry"', "E, X"),
    # the bounds follow the timeframe: what a year of M1 data fills in it
    ("cluster.tau_s", "600", "1440 H4 bars"),  # with timeframe = "H4" (see config_text)
    ("cluster.time_stop_bars", "1441", "1..1440"),  # with timeframe = "H4"
    ("cluster.factor", '""', "1 to 31 characters"),
    ("cluster.factor", '"a b"', "not allowed"),
    # risk
    ("risk.max_lots_per_leg", "1e300", "(0, 10000]"),
    ("risk.max_lots_per_leg", "nan", "finite"),
    ("risk.max_lots_per_leg", "0", "(0, 10000]"),
    ("risk.risk_per_trade", "inf", "between 0 and 1"),
    ("risk.cooldown_bars", "-1", f"0..{MAX_BARS}"),
    ("risk.cooldown_bars", "4.0", "expected int"),
    ("risk.max_currency_exposure", "10000.0", "(0, 500]"),
    ("risk.margin_level_floor", "nan", "finite"),
    ("risk.max_open_risk", "0.001", "below risk_per_trade"),
    # news
    ("news.pre_minutes", "100000", "0..1440"),
    ("news.post_minutes", "-30", "0..1440"),
    ("news.fresh_horizon_hours", "1000", "0..168"),
    ("news.enabled", "1", "expected true or false"),
    # execution
    ("execution.max_retries", "-1", "0..10"),
    ("execution.max_retries", "1000", "0..10"),
    ("execution.deviation_points", "-1", "0..1000"),
    ("execution.deviation_points", "20.0", "expected int"),
    ("execution.equity_snapshot_minutes", "0", "1..1440"),
    ("execution.comment_prefix", '"ABCDEFGHIJK"', "0 to 10 characters"),
    ("execution.comment_prefix", '"FX"', "order comment keeps 29"),
]


#: Rows checked on a cluster of another timeframe than M30: (key, value) -> timeframe.
ROW_TIMEFRAME = {("cluster.tau_s", "600"): '"H4"', ("cluster.time_stop_bars", "1441"): '"H4"'}


def config_text(key: str, value: str) -> str:
    """The base file with ``key = value`` put into its table (or replacing a cluster key)."""
    table, leaf = key.split(".")
    cluster = {**CLUSTER, leaf: value} if table == "cluster" else CLUSTER
    if (key, value) in ROW_TIMEFRAME:
        cluster = {**cluster, "timeframe": ROW_TIMEFRAME[key, value]}
    lines = [f"[defaults]\n{leaf} = {value}\n"] if table == "defaults" else []
    lines.append("[[cluster]]\n" + "".join(f"{k} = {v}\n" for k, v in cluster.items()))
    if table not in ("cluster", "defaults"):
        lines.append(f"[{table}]\n{leaf} = {value}\n")
    return "\n".join(lines)


def error_key(key: str) -> str:
    """The key a ConfigError names: ``cluster[0].KEY`` for the one cluster table."""
    table, leaf = key.split(".")
    return f"cluster[0].{leaf}" if table == "cluster" else key


def write_config(tmp_path: Path, key: str, value: str) -> Path:
    path = tmp_path / "engine.toml"
    path.write_text(config_text(key, value), encoding="utf-8")
    return path


def row_id(row: tuple[str, str, str]) -> str:
    return f"{row[0]}={row[1]}"


def test_the_base_file_of_the_table_loads(tmp_path):
    # Arrange
    path = tmp_path / "engine.toml"
    path.write_text(config_text("cluster.why", '"base"'), encoding="utf-8")

    # Act
    config = load_engine_config(path)

    # Assert
    assert [c.name for c in config.clusters] == ["GOLD_HAVENS"]


@pytest.mark.parametrize(("key", "value", "fragment"), BAD_VALUES, ids=map(row_id, BAD_VALUES))
def test_a_bad_value_is_a_config_error_naming_the_file_and_the_key(tmp_path, key, value,
                                                                   fragment):
    # Arrange
    path = write_config(tmp_path, key, value)

    # Act
    with pytest.raises(ConfigError) as info:
        load_engine_config(path)

    # Assert
    assert (info.value.path, info.value.key) == (str(path), error_key(key))
    assert fragment in info.value.reason
    assert str(info.value) == f"{path}: {error_key(key)}: {info.value.reason}"


@pytest.mark.parametrize(("key", "value", "fragment"), BAD_VALUES, ids=map(row_id, BAD_VALUES))
def test_main_run_says_it_in_one_line_and_exits_2(tmp_path, capsys, key, value, fragment):
    # Arrange
    from main import main

    path = write_config(tmp_path, key, value)
    home = Path(os.environ["FXCLUSTER_HOME"])
    journal = tmp_path / "journal.sqlite"

    # Act
    code = main(["run", "--demo", "--days", "1", "--config", str(path),
                 "--journal", str(journal)])

    # Assert
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith(f"error: {path}: {error_key(key)}: ")
    assert fragment in err
    assert out == ""
    assert not (home / "crash.log").exists()
    assert not journal.exists()


def test_a_real_process_exits_2_with_one_line_and_no_crash_log(tmp_path):
    # Arrange: the measured case, through the interpreter's own exit path.
    path = write_config(tmp_path, "cluster.hard_stop_atr", "0")
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "FXCLUSTER_HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": str(REPO_ROOT)}

    # Act
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), "run", "--demo", "--days", "1",
         "--config", str(path)],
        capture_output=True, text=True, env=env, timeout=120, check=False)

    # Assert
    assert done.returncode == 2
    assert done.stderr == f"error: {path}: cluster[0].hard_stop_atr: must be a number in " \
                          "[0.1, 100], got 0\n"
    assert done.stdout == ""
    assert list(home.iterdir()) == []


def test_load_clusters_names_the_key_too(tmp_path):
    # Arrange
    path = write_config(tmp_path, "cluster.atr_bars", "0")

    # Act
    with pytest.raises(ConfigError) as info:
        load_clusters(path)

    # Assert
    assert info.value.key == "cluster[0].atr_bars"


@pytest.mark.parametrize("text", ["cluster = [1, 2]\n", "cluster = ['EURUSD']\n"])
def test_a_cluster_that_is_not_a_table_is_a_config_error(tmp_path, text):
    # Arrange
    path = tmp_path / "engine.toml"
    path.write_text(text, encoding="utf-8")

    # Act
    with pytest.raises(ConfigError) as info:
        load_engine_config(path)

    # Assert
    assert (info.value.key, info.value.reason) == ("cluster[0]", "must be a table")


def test_a_directory_as_config_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="is a folder; give a TOML file"):
        load_engine_config(tmp_path)


# --------------------------------------------------------------------------- the dataclasses

#: Every config dataclass with the arguments it needs besides its defaults.
CLASSES = {
    TdiParams: {},
    StopParams: {},
    ClusterSpec: {"name": "A", "symbols": ("EURUSD", "GBPUSD", "AUDUSD"), "magic": 1},
    RiskConfig: {},
    NewsConfig: {},
    ExecutionConfig: {},
}


def typed_fields(kind: str) -> list[tuple[type, str]]:
    return [(cls, f.name) for cls in CLASSES for f in dataclasses.fields(cls) if f.type == kind]


@pytest.mark.parametrize(("cls", "name"), typed_fields("float"),
                         ids=[f"{c.__name__}.{n}" for c, n in typed_fields("float")])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_no_float_field_takes_nan_or_an_infinity(cls, name, bad):
    with pytest.raises(FieldError) as info:
        cls(**{**CLASSES[cls], name: bad})
    assert info.value.field == name


@pytest.mark.parametrize(("cls", "name"), typed_fields("int"),
                         ids=[f"{c.__name__}.{n}" for c, n in typed_fields("int")])
@pytest.mark.parametrize("bad", [8.0, True], ids=["float", "bool"])
def test_no_int_field_takes_a_float_or_a_bool(cls, name, bad):
    with pytest.raises(FieldError) as info:
        cls(**{**CLASSES[cls], name: bad})
    assert info.value.field == name


@pytest.mark.parametrize("cls", [*CLASSES, EngineConfig], ids=lambda c: c.__name__)
def test_every_field_is_documented_beside_its_default(cls):
    doc = cls.__doc__ or ""
    missing = [f.name for f in dataclasses.fields(cls) if f"``{f.name}" not in doc]
    assert missing == []


def test_the_defaults_are_inside_their_ranges_and_stay_as_they_were():
    # Arrange / Act: constructing validates every field.
    built = {cls: cls(**kwargs) for cls, kwargs in CLASSES.items()}

    # Assert: ints stay ints and floats become floats, so the journaled hash is stable.
    assert built[StopParams] == StopParams(2.5, 96, 5.0, 1.0, 14)
    assert built[TdiParams] == TdiParams(8, 96, 480)
    assert isinstance(StopParams(hard_stop_atr=5).hard_stop_atr, float)


def test_the_shipped_config_loads_and_every_cluster_has_its_full_comment_budget():
    config = load_engine_config()
    assert len(config.clusters) == 8
    assert max(len(c.name) for c in config.clusters) <= 11


def test_a_prefix_that_fits_every_cluster_name_loads(tmp_path):
    # Arrange: "A" + 18 characters of basket id leave 10 for the prefix.
    path = tmp_path / "engine.toml"
    path.write_text('[[cluster]]\nname = "A"\nsymbols = ["EURUSD", "GBPUSD", "AUDUSD"]\n'
                    'magic = 1\n[execution]\ncomment_prefix = "FXC-12345_"\n', encoding="utf-8")

    # Act
    config = load_engine_config(path)

    # Assert
    assert config.execution.comment_prefix == "FXC-12345_"


def test_replacing_a_field_checks_it_again():
    spec = load_engine_config().clusters[0]
    with pytest.raises(FieldError, match="hard_stop_atr"):
        dataclasses.replace(spec, stops=dataclasses.replace(spec.stops, hard_stop_atr=0.0))


@pytest.mark.parametrize(("timeframe", "tau_s", "limit"), [
    ("M15", 11_000, 23_040), ("M30", 5_500, 11_520), ("H1", 2_700, 5_760),
    ("H4", 378, 1_440), ("D1", 63, 240)])
def test_the_windows_may_fill_what_a_year_of_m1_data_gives_in_the_timeframe(timeframe, tau_s,
                                                                             limit):
    # Arrange: a short tau_q so that tau_s sets the warm-up.
    kwargs = {**CLASSES[ClusterSpec], "timeframe": timeframe}
    tdi = TdiParams(tau_f=1, tau_s=tau_s, tau_q=10)

    # Act / Assert: the window fits its timeframe; twice as long does not.
    spec = ClusterSpec(**kwargs, tdi=tdi)
    assert spec.history_bars <= limit
    with pytest.raises(FieldError, match=f"more than the {limit} {timeframe} bars") as info:
        ClusterSpec(**kwargs, tdi=TdiParams(tau_f=1, tau_s=2 * tau_s, tau_q=10))
    assert info.value.field == "tau_s"
