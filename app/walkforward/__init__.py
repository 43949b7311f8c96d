"""Walk-forward: choose each cluster's parameters in-sample, freeze them, judge them
out-of-sample, fold after fold.

- :mod:`.grid`: the grid file (TOML lists whose product is the configurations) and how a
  configuration is applied to a cluster;
- :mod:`.folds`: the folds, anchored or rolling, or one explicit in-/out-of-sample pair;
- :mod:`.scores`: a run's figures, and each cluster's choice among its trials with the DSR of
  that choice (``engine.metrics.selection``);
- :mod:`.study`: the runs: per fold every cluster ALONE with every configuration in-sample,
  the choice, the frozen mix in-sample and out-of-sample;
- :mod:`.concat`: the out-of-sample windows chained into one curve, with its metrics (PSR,
  no deflation: nothing is selected out-of-sample);
- :mod:`.outputs`: the files (``walkforward.json``, the CSV tables, each mix's backtest files
  and the "Walk-forward" page).

Why alone: clusters share the account's caps, cooldowns and currency limit, so a cluster's
figures in a run with the others depend on what the others did; the choice a cluster makes
should be about itself.  The frozen mix is then run in-sample as well, so the effect of the
interaction on the chosen set is measured rather than assumed away.
"""

from app.walkforward.folds import SCHEMES, Fold, explicit_fold, make_folds
from app.walkforward.grid import GRID_KEYS, apply_params, load_grid, with_params
from app.walkforward.outputs import study_document, write_walkforward
from app.walkforward.study import FoldResult, Progress, WalkForwardResult, walk_forward

__all__ = [
    "GRID_KEYS",
    "SCHEMES",
    "Fold",
    "FoldResult",
    "Progress",
    "WalkForwardResult",
    "apply_params",
    "explicit_fold",
    "load_grid",
    "make_folds",
    "study_document",
    "walk_forward",
    "with_params",
    "write_walkforward",
]
