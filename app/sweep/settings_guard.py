"""One study, one set of settings: a rerun into a study file must ask for what it holds.

A trial's id covers everything its figures depend on (``app.sweep.plan``), so a rerun with
another calendar, metrics basis, spread model, data or code version plans trials of new ids
and would store them beside the old ones.  The study's figures (``app.sweep.summary``)
count and choose among all of a file's trials per configuration, fold and group: the two
runs' trials would be pooled into one choice, one N for the DSR, one PBO matrix, two rows
per configuration in ``sweep list`` with nothing to tell them apart.  So the first run
stores what its trials were asked for (``trial_settings`` in the study's settings), and a
later run that asks for anything else is refused before any backtest, naming what
differs.  Another grid or period with the same settings is the same study, extended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import UserError
from storage.trials import TrialsStore

#: The study setting that holds what its trials were asked for.
TRIAL_SETTINGS = "trial_settings"

#: How each entry of a trial's settings is named to the user.
_NAMES = {
    "config_sha256": "configuration file (its content)",
    "clusters": "clusters",
    "tick_mode": "--tick-mode",
    "spread_model": "--spread-model",
    "spread_profiles": "--spread-profile (its content)",
    "metrics_basis": "--metrics-basis",
    "calendar_sha256": "--calendar (its content)",
    "data": "data",
    "code": "code version",
}


def trial_settings(task: Mapping[str, Any]) -> dict[str, Any]:
    """What a planned trial's figures depend on besides its configuration and span."""
    return {**task["settings"], "data": task["data_fingerprint"], "code": task["code_version"]}


def claim_study(store: TrialsStore, tasks: Sequence[Mapping[str, Any]]) -> None:
    """Refuse, in one line, a run whose trials would be asked for other settings than the
    study's; otherwise record the run's as the study's (on its first run).

    A study written before the settings were recorded is judged by its trials' data and
    code versions, the part of the settings each row keeps."""
    if not tasks:
        return
    mine = trial_settings(tasks[0])
    stored = store.settings().get(TRIAL_SETTINGS)
    if stored is not None:
        differ = [key for key in sorted(set(mine) | set(stored))
                  if mine.get(key) != stored.get(key)]
    else:
        rows = store.rows()
        differ = [key for key, column in (("data", "data_fingerprint"),
                                          ("code", "code_version"))
                  if any(r[column] != mine[key] for r in rows)]
    if differ:
        names = ", ".join(_NAMES.get(key, key) for key in differ)
        raise UserError(
            f"{store.path}: its trials were run with another {names}; this run's would be "
            "pooled with them into one set of figures: give another --study (or ask for "
            "what the study holds: main.py sweep show STUDY)")
    store.put_setting(TRIAL_SETTINGS, mine)
