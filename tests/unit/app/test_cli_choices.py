"""``app.cli.choices`` holds copies of values other modules own (so that building the
parser imports none of them): every copy must equal its owner's value."""

from __future__ import annotations

from app.cli import choices


def test_every_copy_equals_the_value_its_owner_defines():
    # Arrange: the owners (heavy to import, which is why the copies exist)
    from app.audit import DEFAULT_SEEDS, DEFAULT_WEEKS, MAX_SEEDS
    from app.spreads import DEFAULT_SPREAD_MODEL, FIXED, PROFILE, SPREAD_MODELS
    from app.walkforward import SCHEMES
    from engine.cluster import SPACES, TIMEFRAMES
    from engine.factor import DEFAULT_WINDOW, MIN_WINDOW, NO_FACTOR, PC1
    from engine.spread_profile import MIN_CELL_TICKS
    from engine.tdi import TdiParams
    from storage.importers import FORMATS
    from storage.marketdata import BARS, TICKS

    tdi = TdiParams()

    # Act
    owners = {
        "TIMEFRAMES": TIMEFRAMES, "CLUSTER_SPACES": SPACES,
        "TAU_F": tdi.tau_f, "TAU_S": tdi.tau_s, "TAU_Q": tdi.tau_q,
        "NO_FACTOR": NO_FACTOR, "PC1": PC1,
        "DEFAULT_FACTOR_WINDOW": DEFAULT_WINDOW, "MIN_FACTOR_WINDOW": MIN_WINDOW,
        "FIXED": FIXED, "PROFILE": PROFILE, "SPREAD_MODELS": SPREAD_MODELS,
        "DEFAULT_SPREAD_MODEL": DEFAULT_SPREAD_MODEL,
        "DEFAULT_SEEDS": DEFAULT_SEEDS, "MAX_SEEDS": MAX_SEEDS, "DEFAULT_WEEKS": DEFAULT_WEEKS,
        "SCHEMES": SCHEMES, "FORMATS": FORMATS, "TICKS": TICKS, "BARS": BARS,
        "MIN_CELL_TICKS": MIN_CELL_TICKS,
    }
    copies = {name: getattr(choices, name) for name in owners}

    # Assert: the same values, and no copy in the module left unchecked
    assert copies == owners
    public = {n for n in vars(choices) if n.isupper()}
    assert public == set(owners)
