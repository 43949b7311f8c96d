"""The study's report from the command line: ``sweep ... --report DIR`` after a run, and
``sweep report STUDY --report DIR`` from a study file alone (opened read-only, nothing run).

``--heatmap X,Y[,METRIC]`` (repeatable) chooses the heatmaps: the metric (default
``sharpe``) of the in-sample trials by parameters X and Y; without it, the Sharpe by the
first two parameters of the grid that vary.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.args import path_argument
from app.cli.destinations import check_destination
from app.cli.report_kinds import check_report_kind
from engine.errors import UserError

if TYPE_CHECKING:
    from app.sweep.summary import HeatmapSpec

#: The metrics ``--heatmap`` takes (``app.sweep.summary.HEATMAP_METRICS``, imported only
#: when a report is written: the command line starts without numpy).
METRICS_HELP = "sharpe, total_return, max_drawdown, baskets"


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", type=path_argument, metavar="DIR",
                        help="write the study's report (sweep.json, trials.csv, heatmaps, "
                        "report.html) into DIR: after the run, or from STUDY with "
                        "'sweep report STUDY'")
    parser.add_argument("--heatmap", action="append", metavar="X,Y[,METRIC]",
                        help=f"a heatmap of METRIC ({METRICS_HELP}; default sharpe)"
                        " by parameters X and Y, in-sample; repeatable "
                        "(default: the Sharpe by the first two grid parameters that vary)")


def heatmap_specs(values: Sequence[str] | None,
                  parameters: Sequence[str] | None = None) -> list[HeatmapSpec] | None:
    """The ``--heatmap`` values as specs (None: the default heatmap), each checked, against
    the study's ``parameters`` when given."""
    from app.sweep.summary import HeatmapSpec

    if not values:
        return None
    specs = []
    for value in values:
        parts = [p.strip() for p in value.split(",")]
        if len(parts) not in (2, 3) or not all(parts):
            raise UserError(f"--heatmap: expected X,Y or X,Y,METRIC, got {value!r}")
        try:
            spec = HeatmapSpec(parts[0], parts[1], *parts[2:])
        except ValueError as exc:
            raise UserError(f"--heatmap: {exc}") from None
        for name in (spec.x, spec.y):
            if parameters is not None and name not in parameters:
                raise UserError(f"--heatmap: no parameter {name!r} in the grid (its "
                                f"parameters: {', '.join(parameters) or 'none'})")
        specs.append(spec)
    return specs


def write_study_report(study_path: Path, report_dir: Path,
                       heatmaps: Sequence[str] | None) -> None:
    """Read the study (read-only), write its report, say where."""
    from app.report.sweep import REPORT_HTML, write_sweep_report
    from app.sweep.reading import read_study
    from app.sweep.summary import parameters

    study = read_study(study_path)
    specs = heatmap_specs(heatmaps, parameters(study.rows))
    write_sweep_report(study, report_dir, specs)
    print(f"report: {report_dir / REPORT_HTML} ({len(study.rows)} trials)")


def run_report(args: argparse.Namespace) -> int:
    """``sweep report STUDY --report DIR`` (``--study STUDY`` is taken too)."""
    study = args.study_file or args.study
    if study is None:
        raise UserError("sweep report: give the study file (sweep report STUDY --report DIR)")
    if args.report is None:
        raise UserError("sweep report: --report DIR is required (where to write the report)")
    check_destination(args.report, "--report", folder=True)
    check_report_kind(args.report, "sweep")
    write_study_report(study, args.report, args.heatmap)
    return 0
