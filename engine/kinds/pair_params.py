"""The settings of a ``pair`` cluster: the ``[cluster.pair]`` table of the cluster file.

Each field's name is its TOML key.  The shared settings of every kind stay on the cluster
(entry and exit z, the z-stop ``tdi_stop``, the factor and its window, the time stop in
bars when ``time_stop_half_lives`` is 0); these are the pair model's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import ranges

#: ``space``: log prices (a spread of returns, dollar legs) or prices (units of each leg).
RETURNS, PRICE = "returns", "price"
SPACES = (RETURNS, PRICE)
#: ``hedge``: how the weights of the legs are estimated on the trailing window.
OLS, TLS, KALMAN, JOHANSEN = "ols", "tls", "kalman", "johansen"
HEDGES = (OLS, TLS, KALMAN, JOHANSEN)
#: Legs of a pair or N-leg spread (the hedges are estimated for 2 to 6).
MIN_LEGS, MAX_LEGS = 2, 6
#: Johansen's first vector is one of several only from three legs on; with two the
#: Engle-Granger hedges say the same more simply.
MIN_JOHANSEN_LEGS = 3
#: The pair model's diagnostics, in the order of ``KindPoint.diagnostics``: the z-score;
#: ``hedge``, the hedge ratio of leg 2 (``-w[1]``; the other legs' weights are in the point's
#: state); the two Engle-Granger p-values (leg 1 on the others, the last leg on the others)
#: and the Johansen trace statistic of the latest test; half-life (bars); Hurst exponent;
#: mean crossings in the z window; the spread's distance from its z-window mean (log points
#: or price units).
DIAGNOSTICS = ("z", "hedge", "p_eg", "p_eg_rev", "trace", "half_life", "hurst",
               "crossings", "spread")
#: The Hurst estimator's largest lag (bars): a window needs more bars than this.
HURST_MAX_LAG = 20
#: The shortest hedge window: the Engle-Granger test's automatic lag choice on fewer than
#: 30 bars has almost nothing left to regress on, and the Hurst slope needs lags 2..20.
MIN_HEDGE_WINDOW = 30
#: The shortest z window: a mean and a standard deviation of fewer than 5 values swing
#: with every bar.
MIN_Z_WINDOW = 5


@dataclass(frozen=True)
class PairParams:
    """A pair (or N-leg) spread's model settings (docs/architecture.md, Strategy kinds: pair).

    Bar counts are of the cluster's signal timeframe; ``engine.ranges.MAX_ANY_BARS``
    (23,040) bounds them here and the cluster holds them to its timeframe's year.

    - ``space = "returns"``, ``returns`` or ``price``: ``returns`` takes log prices, spread
      ``sum w_i log P_i``, each leg a dollar exposure proportional to ``w_i`` (``w_i / P_i``
      units, the returns-space seed); ``price`` takes prices, spread ``P_1 - gamma P_2 ...``,
      ``w_i`` units of each leg (legs quoted in one currency).  A factor needs ``returns``:
      the factor stage removes it from log returns;
    - ``hedge = "ols"``, one of ``HEDGES``: ``ols`` regresses leg 1 on the others with an
      intercept; ``tls`` is the orthogonal regression (the smallest principal component of
      the window, symmetric in the order of the legs); ``kalman`` a state-space hedge (a
      random-walk state, see below); ``johansen`` the first cointegrating vector of
      statsmodels' ``coint_johansen`` (3 legs or more);
    - ``hedge_window = 250``, 30..MAX_ANY_BARS: bars of the hedge, the half-life, the Hurst
      exponent and the cointegration test.  A trading year on D1 (the daily pairs the
      literature tests on a year); on M30 five trading days and a fifth, on H1 ten and a
      half.  Fewer than 30 leaves the Engle-Granger test nothing to estimate its lags on;
    - ``z_window = 60``, 5..MAX_ANY_BARS: bars of the spread's mean and standard deviation:
      a quarter of the hedge window, so the z-score follows a mean that drifts within it;
    - ``kalman_delta = 1e-4``, (0, 0.5]: the state noise of the Kalman hedge,
      ``delta / (1 - delta)`` per bar on each coefficient (the customary 1e-4 lets a hedge
      ratio move by about 1% a bar; larger follows faster and fits noise);
    - ``kalman_obs_var = 1e-3``, (0, 1e6]: the observation noise variance, in the space's
      units squared (log prices: a residual of about 3%; in price space set it near the
      squared residual in price units);
    - ``coint_p_max = 0.10``, (0, 1]: the Engle-Granger p-value above which a test fails;
      two legs are tested in both orders and the larger p-value is read (both orders must
      reject: the answer does not depend on which leg is listed first).  With ``johansen``
      a test fails when the trace statistic (no cointegration against at least one vector)
      is below its 95% critical value; ``coint_p_max`` is then not read;
    - ``coint_lost_tests = 2``, 1..100: consecutive failed tests that lock entries
      (``COINT_LOST``); one pass unlocks.  Before that many tests exist, all of them failing
      locks too (a pair never seen cointegrated is not traded);
    - ``test_every = 20``, 1..MAX_ANY_BARS: bars between tests, counted from the model's
      first valid bar.  One test (both orders, ``engine.kinds.engle_granger``: statsmodels'
      ``coint`` arithmetic without its model objects) costs about 0.5 ms on 250 bars, some
      forty times a two-leg bar's other work (about 14 us compiled); every 20 bars (four
      trading weeks on D1, ten hours on M30) it is about two thirds of the model's cost,
      while successive windows overlap by 92% and the p-value moves little between tests;
    - ``half_life_min = 1.0``, [0, 1e6) and ``half_life_max = 100.0``, (min, 1e6]: bars;
      a half-life outside locks entries (``HALF_LIFE``): faster than a bar is noise, slower
      than 100 bars leaves fewer than three reversions in the 250-bar window;
    - ``time_stop_half_lives = 3.0``, [0, 100]: the basket's time stop is ceil(this x the
      half-life at entry) bars (three half-lives: seven eighths of the gap closed); 0 uses
      the cluster's ``time_stop_bars``.
    """

    space: str = RETURNS
    hedge: str = OLS
    hedge_window: int = 250
    z_window: int = 60
    kalman_delta: float = 1e-4
    kalman_obs_var: float = 1e-3
    coint_p_max: float = 0.10
    coint_lost_tests: int = 2
    test_every: int = 20
    half_life_min: float = 1.0
    half_life_max: float = 100.0
    time_stop_half_lives: float = 3.0

    def __post_init__(self) -> None:
        checked = {
            "space": ranges.choice("space", self.space, SPACES),
            "hedge": ranges.choice("hedge", self.hedge, HEDGES),
            "hedge_window": ranges.integer("hedge_window", self.hedge_window,
                                           MIN_HEDGE_WINDOW, ranges.MAX_ANY_BARS),
            "z_window": ranges.integer("z_window", self.z_window, MIN_Z_WINDOW,
                                       ranges.MAX_ANY_BARS),
            "kalman_delta": ranges.number("kalman_delta", self.kalman_delta, 0, 0.5,
                                          low_open=True),
            "kalman_obs_var": ranges.number("kalman_obs_var", self.kalman_obs_var, 0, 1e6,
                                            low_open=True),
            "coint_p_max": ranges.number("coint_p_max", self.coint_p_max, 0, 1,
                                         low_open=True),
            "coint_lost_tests": ranges.integer("coint_lost_tests", self.coint_lost_tests,
                                               1, 100),
            "test_every": ranges.integer("test_every", self.test_every, 1,
                                         ranges.MAX_ANY_BARS),
            "half_life_min": ranges.number("half_life_min", self.half_life_min, 0, 1e6,
                                           high_open=True),
            "half_life_max": ranges.number("half_life_max", self.half_life_max, 0, 1e6,
                                           low_open=True),
            "time_stop_half_lives": ranges.number("time_stop_half_lives",
                                                  self.time_stop_half_lives, 0, 100),
        }
        if checked["half_life_max"] <= checked["half_life_min"]:
            raise ranges.FieldError("half_life_max", f"must be above half_life_min "
                                    f"({checked['half_life_min']:g}), got "
                                    f"{checked['half_life_max']:g}")
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @property
    def window(self) -> int:
        """Bars of prices one point reads: the longer of the two windows."""
        return max(self.hedge_window, self.z_window)

    @property
    def warmup_bars(self) -> int:
        """Bars before the model's first valid point, a factor's window not counted."""
        return self.window - 1

    def check_symbols(self, symbols: tuple[str, ...]) -> None:
        """A pair is 2 to 6 distinct legs, and Johansen needs 3 or more: the cluster's
        symbols are refused here, when the file is read, rather than at the first bar."""
        if not MIN_LEGS <= len(symbols) <= MAX_LEGS or len(set(symbols)) != len(symbols):
            raise ranges.FieldError("symbols", f"a pair is {MIN_LEGS} to {MAX_LEGS} distinct "
                                               f"symbols, got {', '.join(symbols) or 'none'}")
        if self.hedge == JOHANSEN and len(symbols) < MIN_JOHANSEN_LEGS:
            raise ranges.FieldError("hedge", f"johansen needs {MIN_JOHANSEN_LEGS} legs or "
                                             f"more, got {len(symbols)}")
