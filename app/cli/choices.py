"""The choices and defaults the commands' options show, without importing their owners.

``main.py`` builds every command's parser to read one command line, so a parser must be
cheap to build: the modules that define these values also load pandas, numba kernels or
pyarrow (``engine.cluster`` compiles the TDI, ``storage.importers`` loads the readers), and
importing them only to print ``--help`` cost over a second.  Each value here is a copy of
the one its owner defines, named beside it; ``tests/unit/app/test_cli_choices.py`` checks
every copy against its owner, so a change there fails a test instead of drifting from the
help text.  Everything else a command needs is imported when it runs.
"""

from __future__ import annotations

# -- engine.cluster ----------------------------------------------------------------------

#: ``engine.cluster.TIMEFRAMES``: the signal timeframes.
TIMEFRAMES: tuple[str, ...] = ("M15", "M30", "H1", "H4", "D1")
#: ``engine.cluster.SPACES``: where a cluster's TDI is computed.
CLUSTER_SPACES: tuple[str, ...] = ("currency", "symbol")

# -- engine.tdi, engine.factor -----------------------------------------------------------

#: ``engine.tdi.TdiParams()``: the fast, slow and quantile windows' defaults.
TAU_F, TAU_S, TAU_Q = 8, 96, 480
#: ``engine.factor.NO_FACTOR`` and ``PC1``: no factor removed, or the first principal one.
NO_FACTOR, PC1 = "none", "pc1"
#: ``engine.factor.DEFAULT_WINDOW`` and ``MIN_WINDOW``: trailing returns of the loadings.
DEFAULT_FACTOR_WINDOW, MIN_FACTOR_WINDOW = 240, 20

# -- app.spreads -------------------------------------------------------------------------

#: ``app.spreads.FIXED``, ``PROFILE``, ``SPREAD_MODELS`` and ``DEFAULT_SPREAD_MODEL``.
FIXED, PROFILE = "fixed", "profile"
SPREAD_MODELS: tuple[str, ...] = (FIXED, PROFILE)
DEFAULT_SPREAD_MODEL = PROFILE

# -- app.audit, app.walkforward ----------------------------------------------------------

#: ``app.audit.DEFAULT_SEEDS``, ``MAX_SEEDS`` and ``DEFAULT_WEEKS``.
DEFAULT_SEEDS, MAX_SEEDS, DEFAULT_WEEKS = 5, 100, 4
#: ``app.walkforward.SCHEMES``: how folds choose their in-sample span.
SCHEMES: tuple[str, ...] = ("anchored", "rolling")

# -- storage.importers, storage.marketdata, engine.spread_profile ------------------------

#: ``storage.importers.FORMATS``: the file formats the importers read.
FORMATS: tuple[str, ...] = ("mt5", "histdata", "dukascopy")
#: ``storage.marketdata.TICKS`` and ``BARS``: the store's two kinds of series.
TICKS, BARS = "ticks", "bars_m1"
#: ``engine.spread_profile.MIN_CELL_TICKS``: ticks a weekday-hour needs to stand alone.
MIN_CELL_TICKS = 10
