"""Running the walk-forward: per fold, every cluster alone with every configuration
in-sample, the choice, the frozen mix in-sample, the frozen mix out-of-sample; then the
out-of-sample windows end to end.

Runs per fold: clusters x configurations trials plus two mixes.  Each is an ordinary
backtest (``app.backtest.run_backtest``) on the same data, so what is chosen is measured by
the code that would trade it.  A run that fails midway fails the walk-forward: a choice made
on part of a span would be reported as if made on all of it.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from app.backtest import BacktestResult, BacktestSpec, load_market, run_backtest
from app.sessions import cluster_gaps, fit_clusters
from app.walkforward.concat import ConcatenatedOos, concatenate_oos
from app.walkforward.folds import Fold
from app.walkforward.grid import DEFAULT_MIN_BASKETS, alone, check_grid, describe, with_params
from app.walkforward.scores import Choice, RunScore, Trial, choose
from engine.errors import UserError
from engine.metrics.selection import combined_trials

#: Each run stops this much before its span's end.  A basket that closes at the very midnight
#: ending a span is booked on a day the run's equity marks do not have (the mark at 00:00
#: closes the previous day), and the backtest's metrics refuse it; ending a minute earlier
#: keeps every exit inside the marked days.
END_MARGIN = timedelta(minutes=1)


class Progress(Protocol):
    """Told when each backtest starts; may return a callback for its fraction done."""

    def start(self, label: str, number: int, total: int) -> Callable[[float], None] | None: ...

    def finish(self) -> None: ...


@dataclass
class FoldResult:
    """One fold: its trials, each cluster's choice, and the frozen mix in and out of sample."""

    fold: Fold
    trials: list[Trial]
    choices: dict[str, Choice]
    in_sample: BacktestResult
    out_of_sample: BacktestResult

    @property
    def chosen(self) -> dict[str, dict[str, Any]]:
        return {name: c.params for name, c in self.choices.items()}


@dataclass
class WalkForwardResult:
    grid: list[dict[str, Any]]
    clusters: list[str]
    folds: list[FoldResult]
    min_baskets: int
    scheme: str
    oos: ConcatenatedOos
    notes: list[str] = field(default_factory=list)
    #: The days of every run's daily returns (``engine.metrics.basis``): the Sharpes the
    #: selection compares, the DSRs and the chained out-of-sample figures.
    metrics_basis: str = "trading"

    @property
    def combined_trials(self) -> int:
        """Mixes the per-cluster selections searched in a fold: G ** clusters."""
        return combined_trials([len(self.grid)] * len(self.clusters))

    @property
    def complete(self) -> bool:
        return all(f.out_of_sample.complete for f in self.folds)


def traded_clusters(base: BacktestSpec, folds: list[Fold]) -> tuple[list[str], list[str]]:
    """The configured clusters the data can feed (read once, as a backtest would), and a
    note for each it cannot (``cluster_gaps``: the symbols it lacks).  A fold whose
    out-of-sample span starts after the data ends is refused here, before any trial: its
    run would fail only once every in-sample trial before it had run."""
    spec = dataclasses.replace(base, start=folds[0].is_start, end=folds[-1].oos_end)
    with tempfile.TemporaryDirectory(prefix="walkforward-") as scratch:
        market = load_market(spec, Path(scratch))
        symbols = set(market.feed.symbols)
        fitted = fit_clusters(base.config, symbols)
        _check_spans(folds, getattr(market.feed, "end_msc", None))
    return [c.name for c in fitted.clusters], cluster_gaps(base.config, symbols)


def _check_spans(folds: list[Fold], data_end_msc: int | None) -> None:
    if data_end_msc is None:
        return
    for fold in folds:
        if fold.oos_start.timestamp() * 1000 >= data_end_msc:
            last_day = fold.oos_end - timedelta(days=1)
            ends = pd.Timestamp(data_end_msc, unit="ms", tz="UTC")
            raise UserError(f"fold {fold.number}: its out-of-sample span "
                            f"{fold.oos_start:%Y-%m-%d} .. {last_day:%Y-%m-%d} starts after "
                            f"the data ends ({ends:%Y-%m-%d %H:%M} UTC)")


class _Runs:
    """Numbers the backtests and reports each to ``progress``."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress

    def run(self, spec: BacktestSpec, label: str) -> BacktestResult:
        self.done += 1
        callback = None
        if self.progress is not None:
            callback = self.progress.start(label, self.done, self.total)
        try:
            result = run_backtest(spec, progress=callback)
            if result.interrupted is not None:  # the whole study stops, not this run alone
                raise result.interrupted
        finally:
            if self.progress is not None:
                self.progress.finish()
        return result


def _must_finish(result: BacktestResult) -> BacktestResult:
    if result.failure is not None:
        raise result.failure
    return result


def walk_forward(base: BacktestSpec, grid: list[dict[str, Any]], folds: list[Fold], *,
                 scheme: str = "anchored", min_baskets: int = DEFAULT_MIN_BASKETS,
                 progress: Progress | None = None,
                 grid_file: Path | None = None) -> WalkForwardResult:
    """The whole study (see the module docstring); ``grid_file`` is named in a refusal of
    the grid."""
    check_grid(base.config, grid, grid_file)
    names, notes = traded_clusters(base, folds)
    config = base.config.with_clusters(names)
    runs = _Runs(len(folds) * (len(names) * len(grid) + 2), progress)
    trial_notes: dict[str, list[tuple[int, str, int]]] = {}
    results = []
    for fold in folds:
        where = f"fold {fold.number}/{len(folds)}"
        is_spec = dataclasses.replace(base, config=config, start=fold.is_start,
                                      end=fold.is_end - END_MARGIN, trials=1)
        trials = []
        for name in names:
            for number, params in enumerate(grid, start=1):
                spec = dataclasses.replace(is_spec, config=alone(config, name, params))
                label = (f"{where} in-sample: {name} alone, configuration {number}/{len(grid)} "
                         f"({describe(params)})")
                result = _must_finish(runs.run(spec, label))
                for note in result.notes:
                    trial_notes.setdefault(note, []).append((fold.number, name, number))
                trials.append(Trial(fold.number, name, number, params, RunScore.of(result),
                                    result.equity["equity"]))
        choices = {name: choose(name, [t for t in trials if t.cluster == name], min_baskets)
                   for name in names}
        frozen = with_params(config, {n: c.params for n, c in choices.items()})
        in_sample = _must_finish(runs.run(dataclasses.replace(is_spec, config=frozen),
                                          f"{where} in-sample: the frozen mix"))
        oos_spec = dataclasses.replace(is_spec, config=frozen, start=fold.oos_start,
                                       end=fold.oos_end - END_MARGIN)
        out_of_sample = runs.run(oos_spec, f"{where} out-of-sample: the frozen mix")
        results.append(FoldResult(fold, trials, choices, in_sample, out_of_sample))
        if out_of_sample.failure is not None:
            notes.append(f"{where}: the out-of-sample run failed midway; later folds not run")
            break
    oos = concatenate_oos([(f.fold.number, f.out_of_sample) for f in results])
    notes += [f"{_trials_text(trials)}: {note}" for note, trials in trial_notes.items()]
    return WalkForwardResult(grid, names, results, min_baskets, scheme, oos, notes,
                             base.metrics_basis)


def _trials_text(trials: list[tuple[int, str, int]]) -> str:
    """The in-sample trials a note came from: "in-sample, fold 1: GOLD_HAVENS alone,
    configurations 2, 4" (a note of a trial, such as a late start after the warm-up of its
    windows, says why its figures cover less than its fold's span)."""
    by_fold: dict[int, dict[str, list[int]]] = {}
    for fold, cluster, number in trials:
        by_fold.setdefault(fold, {}).setdefault(cluster, []).append(number)
    parts = []
    for fold, clusters in by_fold.items():
        each = "; ".join(f"{cluster} alone, configuration{'s' if len(numbers) > 1 else ''} "
                         f"{', '.join(str(n) for n in numbers)}"
                         for cluster, numbers in clusters.items())
        parts.append(f"fold {fold}: {each}")
    return "in-sample, " + "; ".join(parts)


def trials_frame(result: WalkForwardResult) -> pd.DataFrame:
    """Every trial's daily equity marks, long form: fold, cluster, config, date, equity."""
    frames = []
    for fold in result.folds:
        for t in fold.trials:
            frames.append(pd.DataFrame({"fold": t.fold, "cluster": t.cluster,
                                        "config": t.config, "date": t.equity.index,
                                        "equity": t.equity.to_numpy()}))
    columns = ["fold", "cluster", "config", "date", "equity"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
