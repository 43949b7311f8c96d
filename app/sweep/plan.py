"""A sweep's plan: its trials as plain data, each with a content id.

A trial is one configuration of the grid on one span, a backtest with all the study's
clusters together (they share the account's risk), or, when the grid file says
``[sweep] unit = "cluster"`` (``app.walkforward.grid.sweep_unit``), a backtest of one of the
study's clusters alone: then each configuration and span is one trial per cluster, as the
walk-forward tries each configuration on each cluster to choose per cluster.  The spans are
the folds' in-sample and out-of-sample spans (``app.walkforward.folds``), or the whole
period when no folds are asked for (``fold`` 0, sample ``all``).

The **content id** is the SHA-256 of the canonical JSON (sorted keys, no spaces, no NaN) of:

- ``params``: the configuration's grid values (the cluster fields it sets);
- ``settings``: everything else the run is asked for: the engine configuration file's
  SHA-256, the clusters, the tick mode, the spread model and profiles' SHA-256, the metrics
  basis;
- ``fold``: the span's fold number, sample (``is``, ``oos``, ``all``) and its UTC bounds;
- ``data``: the data fingerprint (:func:`data_fingerprint`);
- ``code``: the code version (:func:`code_version`);
- ``cluster``: only for a trial of one cluster alone, its name.

A trial of cluster A alone in a study of A and B has the figures of the trial of the same
configuration and span in a study of A alone (the same backtest), but not its id: the
settings name the study's clusters, and the id says which study's trial it is.  A together
trial's id is what it was before trials could run alone.

So the same inputs always give the same id, and any change to one of them a new id: a rerun
finds the trials it already has, and never mistakes stale figures for current ones.  A
rerun whose settings, data or code differ from the study's is refused
(``app.sweep.settings_guard``), so one file never pools two studies' trials.

A task is a dict of builtins (no engine objects, nothing pickled from a file): a worker
process rebuilds the backtest from it (``app.sweep.trial``).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.errors import UserError

#: The source trees a trial's figures come from, relative to the repository root.  The
#: command line, the reports, the console and the sweep's driver are left out: changing how
#: a study is shown does not change what a trial computes.  The one sweep module that does
#: compute (the trial's runner) is in.
CODE_ROOTS = ("engine", "app", "storage", "mt5bridge")
CODE_EXCLUDED = ("app/cli/", "app/report/", "app/sweep/")
CODE_INCLUDED = ("app/sweep/trial.py",)
_REPO = Path(__file__).resolve().parents[2]

_CHUNK = 1 << 20


def canonical_json(value: Any) -> str:
    """The one text of ``value`` hashed for ids (sorted keys, no whitespace, no NaN)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def code_version(root: Path = _REPO) -> str:
    """SHA-256 over the path and content of every Python source a trial runs
    (:data:`CODE_ROOTS` less :data:`CODE_EXCLUDED`, plus :data:`CODE_INCLUDED`): no git
    needed, and an uncommitted edit counts as a new version."""
    digest = hashlib.sha256()
    for top in CODE_ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(CODE_EXCLUDED) and rel not in CODE_INCLUDED:
                continue
            digest.update(rel.encode("utf-8") + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _files_under(paths: Sequence[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out += sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    return out


def data_fingerprint(source: str, paths: Sequence[str] = (), store: str | None = None,
                     seed: int = 0, latency: bool = True) -> str:
    """SHA-256 of what the market is made of: for files and a store every file's name, size
    and content hash (in path order); for the synthetic market its seed and latency switch
    (the market is a function of them and the code)."""
    if source == "synthetic":
        parts: Any = {"source": source, "seed": seed, "latency": latency}
    else:
        roots = [Path(p) for p in paths] if source == "files" else [Path(store or "")]
        files = []
        for f in _files_under(roots):
            if not f.exists():
                raise UserError(f"--data: no such file or directory: {f}")
            files.append([f.name, f.stat().st_size, file_sha256(f)])
        parts = {"source": source, "files": files, "latency": latency}
    return sha256_text(canonical_json(parts))


@dataclass(frozen=True)
class Span:
    """One span a configuration is tried on: ``[start, end)`` UTC, or the whole data."""

    fold: int
    sample: str
    start: datetime | None
    end: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"fold": self.fold, "sample": self.sample,
                "from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None}


def spans_of(folds: Sequence[Any] | None, start: datetime | None,
             end: datetime | None) -> list[Span]:
    """Each fold's in-sample and out-of-sample span, or the whole period (fold 0)."""
    if not folds:
        return [Span(0, "all", start, end)]
    out = []
    for f in folds:
        out += [Span(f.number, "is", f.is_start, f.is_end),
                Span(f.number, "oos", f.oos_start, f.oos_end)]
    return out


def sample_configurations(grid: list[dict[str, Any]], count: int | None,
                          seed: int) -> list[tuple[int, dict[str, Any]]]:
    """The configurations to try, numbered by their place in the grid (1-based): all of
    them, or ``count`` drawn without replacement with ``random.Random(seed)`` (kept in grid
    order, so the numbers mean the same in every study of the grid)."""
    numbered = list(enumerate(grid, start=1))
    if count is None:
        return numbered
    if not 1 <= count <= len(grid):
        raise UserError(f"--random: expected 1..{len(grid)} configurations (the grid's size), "
                        f"got {count}")
    picked = sorted(random.Random(seed).sample(range(len(grid)), count))
    return [numbered[i] for i in picked]


def make_tasks(configs: Sequence[tuple[int, dict[str, Any]]], spans: Sequence[Span],
               run: dict[str, Any], settings: dict[str, Any], data: str,
               code: str, *, alone: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One task per configuration and span, in that order, with the study's clusters
    together; with ``alone`` (cluster names), one per configuration, cluster and span, in
    that order, each running its ``cluster`` alone.  ``run`` is how a worker rebuilds the
    backtest, ``settings`` what of it enters the id (see the module docstring)."""
    if alone is not None and (not alone or len(set(alone)) != len(alone)):
        raise ValueError(f"alone: expected distinct cluster names, got {list(alone)!r}")
    units: Sequence[str | None] = alone if alone is not None else [None]
    tasks = []
    for number, params in configs:
        for cluster in units:
            for span in spans:
                fold = span.as_dict()
                content = {"params": params, "settings": settings, "fold": fold,
                           "data": data, "code": code}
                if cluster is not None:
                    content["cluster"] = cluster
                tasks.append({"id": sha256_text(canonical_json(content)), "config": number,
                              "params": dict(params), "cluster": cluster, "span": fold,
                              "run": run, "settings": settings, "data_fingerprint": data,
                              "code_version": code})
    return tasks
