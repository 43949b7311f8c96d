"""The walk-forward's folds: where each in-sample span ends and its out-of-sample span runs.

``make_folds(start, end, folds, scheme, oos_fraction)`` splits ``[start, end)`` in whole UTC
days: the last ``oos_fraction`` of the days is out-of-sample, cut into ``folds`` consecutive
windows of (nearly) equal length that never overlap and together cover it; each fold chooses
on the days before its window:

- ``anchored``: in-sample from ``start`` to the window (it grows fold by fold);
- ``rolling``: in-sample the same length as the first fold's, ending at the window.

The first fold is the same in both schemes; with ``folds = 1`` and ``oos_fraction = 0.5`` it
is the classic half/half split.  In-sample always ends where its out-of-sample window starts:
no day is used to choose and to judge the same choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.errors import UserError

SCHEMES = ("anchored", "rolling")
MAX_FOLDS = 52

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Fold:
    """One fold: ``[is_start, is_end)`` chooses, ``[oos_start, oos_end)`` is judged."""

    number: int
    is_start: datetime
    is_end: datetime
    oos_start: datetime
    oos_end: datetime

    def as_dict(self) -> dict[str, object]:
        """The spans as instants (``*_to`` excluded) and as the days they cover (``*_first``
        and ``*_last`` included, as the command line's FROM:TO reads)."""
        return {"fold": self.number, "is_from": self.is_start.isoformat(),
                "is_to": self.is_end.isoformat(), "oos_from": self.oos_start.isoformat(),
                "oos_to": self.oos_end.isoformat(),
                "is_days": f"{self.is_start:%Y-%m-%d}..{_last_day(self.is_end)}",
                "oos_days": f"{self.oos_start:%Y-%m-%d}..{_last_day(self.oos_end)}"}


def _last_day(end: datetime) -> str:
    """The last day a span ending (excluded) at ``end`` touches."""
    return f"{end - timedelta(milliseconds=1):%Y-%m-%d}"


def make_folds(start: datetime, end: datetime, folds: int, scheme: str = "anchored",
               oos_fraction: float = 0.5) -> list[Fold]:
    """The folds of ``[start, end)`` (see the module docstring); a split that leaves a span
    without a day is refused with the option to change."""
    if scheme not in SCHEMES:
        raise UserError(f"--scheme: {scheme!r} is not one of {', '.join(SCHEMES)}")
    if isinstance(folds, bool) or not isinstance(folds, int) or not 1 <= folds <= MAX_FOLDS:
        raise UserError(f"--folds: expected a whole number of folds in 1..{MAX_FOLDS}, "
                        f"got {folds!r}")
    if not 0.0 < oos_fraction < 1.0:  # NaN fails too
        raise UserError(f"--oos-fraction: expected a fraction strictly between 0 and 1, got "
                        f"{oos_fraction!r}")
    if end <= start:
        raise UserError("--to must come after --from")
    days = -(-(end - start) // _DAY)  # a partial day counts as one
    oos_days = round(days * oos_fraction)
    is_days = days - oos_days
    if is_days < 1 or oos_days < folds:
        raise UserError(f"--from..--to holds {days} day(s): with --oos-fraction "
                        f"{oos_fraction:g} that is {is_days} in-sample and {oos_days} "
                        f"out-of-sample day(s), too few for {folds} fold(s) of at least a day")
    first_oos = start + is_days * _DAY
    out = []
    for k in range(folds):
        # window k covers days [k * oos_days // folds, (k + 1) * oos_days // folds)
        oos_start = first_oos + (k * oos_days // folds) * _DAY
        oos_end = min(end, first_oos + ((k + 1) * oos_days // folds) * _DAY)
        is_start = start if scheme == "anchored" else oos_start - is_days * _DAY
        out.append(Fold(k + 1, is_start, oos_start, oos_start, oos_end))
    return out


def explicit_fold(is_span: tuple[datetime, datetime],
                  oos_span: tuple[datetime, datetime]) -> list[Fold]:
    """The one fold of ``--is FROM:TO --oos FROM:TO``."""
    if is_span[0] >= is_span[1] or oos_span[0] >= oos_span[1]:
        raise UserError("each span must end after it starts (FROM:TO)")
    if oos_span[0] < is_span[1]:
        raise UserError("the out-of-sample span must start after the in-sample span ends")
    return [Fold(1, is_span[0], is_span[1], oos_span[0], oos_span[1])]
