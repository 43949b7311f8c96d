"""The product's backtest beside peer engines on the same bars: whole-process wall times.

Run by hand (needs ../shared/data and the package registry the first time):

    .venv/bin/python bench/bench_peers.py                    # Q2 and the year, 3 repetitions
    .venv/bin/python bench/bench_peers.py --spans q2 --symbols EURUSD,GBPUSD,AUDUSD,USDCHF
    .venv/bin/python bench/bench_peers.py --no-backtrader-year --json /tmp/peers.json

The same HistData M1 files (``fx_m1/``, 2019) go to every engine, for a span:

- the product: ``main.py backtest --data FILES [--from --to] --report TMP`` in a subprocess
  (reading, ticks from the bars, the simulated terminal, every fitting cluster, the journal,
  the report), with a fresh ``FXCLUSTER_HOME``;
- nautilus_trader: the bars through a BacktestEngine and a strategy that does nothing;
- vectorbt: a portfolio over the aligned closes that never trades;
- backtrader: a multi-data cerebro with a strategy that does nothing.

The peers run from ``bench/peers/*_nothing.py`` in venvs of their own, made and filled by
this script the first time (``bench/peers/venvs.py``; a peer that does not install is
reported and left out).  Every run is a whole process, imports included, timed from here;
a peer's runner also prints its own breakdown as JSON.  The runs alternate: each
repetition runs the product and then every peer, so a change in the machine's load falls
on both sides of a ratio.  Printed: each run, the medians, and product/peer wall as the
median of the repetitions' ratios (below 1, the product is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from venvs import PEERS, PeerEnv, default_root, ensure

REPO = Path(__file__).resolve().parents[1]
PEER_DIR = Path(__file__).resolve().parent / "peers"
DEFAULT_DATA = REPO.parent / "shared" / "data" / "fx_m1"
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "USDCAD", "AUDUSD", "XAUUSD")
#: The product's target against nautilus_trader doing nothing (issue 16), for the year:
#: product/peer wall.
TARGET_RATIO = 0.5


@dataclass(frozen=True)
class Span:
    """A period of the 2019 files: peers get ``[start, end)``, the product its days."""

    key: str
    label: str
    start: str | None = None
    end: str | None = None
    #: The product's ``--to`` (its last day, included whole): the day before ``end``.
    last_day: str | None = None


SPANS = {
    "week": Span("week", "2019-04-01 to 04-07 (a quick check)", "2019-04-01", "2019-04-08",
                 "2019-04-07"),
    "q2": Span("q2", "Q2 2019", "2019-04-01", "2019-07-01", "2019-06-30"),
    "year": Span("year", "year 2019"),
}


@dataclass
class Run:
    """One whole-process run: its wall time from here, its peak memory, what it said."""

    engine: str
    span: str
    repetition: int
    wall_s: float
    peak_rss_mb: float | None
    ok: bool
    figures: dict = field(default_factory=dict)
    problem: str | None = None


# -- running one process ---------------------------------------------------------------------


def _wait(proc: subprocess.Popen, timeout: float) -> tuple[int, float | None]:
    """The exit code and the child's own peak RSS (MB, from ``wait4``), killed at timeout."""
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_maxrss / 1024
        return proc.wait(), None
    finally:
        timer.cancel()


def run_process(command: list[str], env: dict[str, str], cwd: Path,
                timeout: float) -> tuple[float, float | None, int, str, str]:
    """Wall seconds, peak RSS, exit code, stdout and stderr of one command."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd, text=True)
        code, peak = _wait(proc, timeout)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return wall, peak, code, out.read(), err.read()


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def _failure(code: int, timeout: float, out: str, err: str) -> str:
    killed = f" (killed after the {timeout:.0f} s timeout?)" if code < 0 else ""
    return f"exit {code}{killed}: {_tail(err or out)}"


# -- the product and the peers ---------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    files: tuple[Path, ...]
    repo: Path
    python: str
    timeout: float


#: What stops Python from caching compiled modules; the product's processes run without it.
NO_BYTECODE = "PYTHONDONTWRITEBYTECODE"


def product_env(repo: Path, home: Path) -> dict[str, str]:
    """The product's process environment: a fresh data directory, the checkout on the path,
    and Python's bytecode cache allowed, as on a user's machine.  A shell that sets
    ``PYTHONDONTWRITEBYTECODE`` makes every process compile the product's own modules from
    source again (about 0.3 s a process), a cost no user pays after the first run and that
    the peers, whose packages pip compiled at install, do not pay either."""
    env = {**os.environ, "FXCLUSTER_HOME": str(home), "PYTHONPATH": str(repo)}
    env.pop(NO_BYTECODE, None)
    return env


def run_product(setup: Setup, span: Span, repetition: int) -> Run:
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        command = [setup.python, str(setup.repo / "main.py"), "backtest",
                   "--data", *map(str, setup.files), "--report", str(Path(tmp) / "report")]
        if span.start:
            command += ["--from", span.start, "--to", str(span.last_day)]
        env = product_env(setup.repo, Path(tmp) / "home")
        wall, peak, code, out, err = run_process(command, env, setup.repo, setup.timeout)
    if code != 0:
        return Run("product", span.key, repetition, wall, peak, False,
                   problem=_failure(code, setup.timeout, out, err))
    summary = next((line for line in out.splitlines() if " baskets" in line), "")
    baskets = re.match(r"\s*(\d+) baskets", summary)
    figures = {"summary": summary.strip(), "baskets": int(baskets.group(1)) if baskets else None}
    return Run("product", span.key, repetition, wall, peak, True, figures)


def run_peer(env: PeerEnv, setup: Setup, span: Span, repetition: int) -> Run:
    command = [str(env.python), str(PEER_DIR / env.peer.runner), *map(str, setup.files)]
    if span.start:
        command += ["--from", span.start, "--to", str(span.end)]
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    wall, peak, code, out, err = run_process(command, clean, PEER_DIR, setup.timeout)
    name = env.peer.name
    if code != 0:
        return Run(name, span.key, repetition, wall, peak, False,
                   problem=_failure(code, setup.timeout, out, err))
    try:
        figures = json.loads(out.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return Run(name, span.key, repetition, wall, peak, False,
                   problem=f"no JSON result on stdout: {_tail(out + err)}")
    return Run(name, span.key, repetition, wall, peak, True, figures)


def describe(run: Run) -> str:
    memory = f", peak {run.peak_rss_mb:,.0f} MB" if run.peak_rss_mb else ""
    head = f"  [{run.span} #{run.repetition + 1}] {run.engine:<10} {run.wall_s:7.1f} s{memory}"
    if not run.ok:
        return f"{head}  FAILED: {run.problem}"
    f = run.figures
    if run.engine == "product":
        return f"{head}  ({f.get('baskets')} baskets)"
    parts = [f"{k[:-2]} {f[k]:.1f}" for k in ("import_s", "read_s", "load_s", "run_s") if k in f]
    return f"{head}  ({f.get('bars', 0):,} bars; " + ", ".join(parts) + " s)"


# -- the figures ------------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(runs: list[Run], span: Span, engines: list[str]) -> list[str]:
    """The medians of one span and product/peer wall (median of the repetitions' ratios)."""
    tried = {r.engine for r in runs if r.span == span.key}
    ok = [r for r in runs if r.span == span.key and r.ok]
    product = {r.repetition: r.wall_s for r in ok if r.engine == "product"}
    lines = [f"{span.label}:"]
    for engine in engines:
        walls = [r.wall_s for r in ok if r.engine == engine]
        if not walls:
            lines.append(f"  {engine:<10} " + ("no successful run" if engine in tried
                                                else "not run"))
            continue
        text = f"  {engine:<10} median {_median(walls):6.1f} s of {len(walls)} ({_runs(walls)})"
        if engine != "product":
            ratios = [product[r.repetition] / r.wall_s for r in ok
                      if r.engine == engine and r.repetition in product]
            text += _ratio_text(_median(ratios), engine, span)
        lines.append(text)
    return lines


def _runs(walls: list[float]) -> str:
    return ", ".join(f"{w:.1f}" for w in walls)


def _ratio_text(ratio: float | None, engine: str, span: Span) -> str:
    if ratio is None:
        return ""
    faster = (f"the product {1 / ratio:.2f}x faster" if ratio < 1
              else f"the product {ratio:.2f}x slower")
    target = ""
    if engine == "nautilus" and span.key == "year":
        target = f"; target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'not met'}"
    return f"; product/{engine} {ratio:.2f} ({faster}{target})"


# -- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help="the folder of HistData M1 files (default ../shared/data/fx_m1)")
    p.add_argument("--symbols", default=",".join(SYMBOLS),
                   help="comma-separated symbols (default all 7)")
    p.add_argument("--spans", default="q2,year",
                   help="comma-separated: q2, year, week (default q2,year)")
    p.add_argument("--peers", default=",".join(PEERS), help="comma-separated: " + ", ".join(PEERS))
    p.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    p.add_argument("--no-backtrader-year", action="store_true",
                   help="leave backtrader out of the year (minutes per run)")
    p.add_argument("--venvs", type=Path, default=default_root(),
                   help=f"where the peers' venvs live (default {default_root()})")
    p.add_argument("--product-repo", type=Path, default=REPO,
                   help="the product's checkout whose main.py runs (default this one)")
    p.add_argument("--product-python", default=sys.executable,
                   help="the product's python (default the one running this script)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    p.add_argument("--install-only", action="store_true", help="make the venvs and stop")
    p.add_argument("--json", type=Path, help="write every run and the versions here")
    args = p.parse_args(argv)
    unknown = [x for x in _split(args.spans) if x not in SPANS] + \
        [x for x in _split(args.peers) if x not in PEERS]
    if unknown or args.repeat < 1:
        p.error(f"unknown span or peer: {', '.join(unknown)}" if unknown else "--repeat >= 1")
    return args


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def find_files(folder: Path, symbols: list[str]) -> tuple[Path, ...] | str:
    """One 2019 M1 file per symbol (absolute: the peers run in bench/peers), or why not."""
    folder, files = folder.resolve(), []
    for symbol in symbols:
        found = sorted(folder.glob(f"DAT_ASCII_{symbol}_M1_2019*"))
        if not found:
            return f"no DAT_ASCII_{symbol}_M1_2019 file in {folder}"
        files.append(found[0])
    return tuple(files)


def prepare_peers(names: list[str], root: Path) -> dict[str, PeerEnv]:
    """Every asked peer's venv (installed the first time); the ones that fail are skipped."""
    ready = {}
    for name in names:
        env = ensure(PEERS[name], root)
        if env.ready:
            took = f"installed in {env.install_seconds:.0f} s" if env.install_seconds else ""
            versions = ", ".join(f"{k} {v}" for k, v in env.versions.items())
            print(f"peer {name}: {versions} ({env.python}; {took})")
            ready[name] = env
        else:
            print(f"peer {name}: SKIPPED, not installable here: {env.problem}")
    return ready


def measure(setup: Setup, spans: list[Span], peers: dict[str, PeerEnv], repeat: int,
            no_backtrader_year: bool) -> list[Run]:
    runs = []
    for span in spans:
        chosen = [env for name, env in peers.items()
                  if not (name == "backtrader" and span.key == "year" and no_backtrader_year)]
        print(f"\n{span.label}, {len(setup.files)} symbols: product, "
              + ", ".join(env.peer.name for env in chosen) + f"; {repeat} repetitions",
              flush=True)
        for repetition in range(repeat):
            for job in [None, *chosen]:
                run = (run_product(setup, span, repetition) if job is None
                       else run_peer(job, setup, span, repetition))
                print(describe(run), flush=True)
                runs.append(run)
    return runs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    symbols = _split(args.symbols)
    files = find_files(args.data, symbols)
    if isinstance(files, str):
        print(f"nothing to measure: {files}")
        return 0
    peers = prepare_peers(_split(args.peers), args.venvs)
    if args.install_only:
        return 0
    if not peers:
        print("no peer could be installed: only the product would run, nothing to compare")
        return 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.2f} at the start; {os.cpu_count()} cores")
    if os.environ.get(NO_BYTECODE):
        print(f"{NO_BYTECODE} is set here; the product's processes run without it (Python's "
              "bytecode cache allowed, as on a user's machine)")
    setup = Setup(files, args.product_repo.resolve(), args.product_python, args.timeout)
    spans = [SPANS[key] for key in _split(args.spans)]
    runs = measure(setup, spans, peers, args.repeat, args.no_backtrader_year)
    print()
    for span in spans:
        print("\n".join(summarise(runs, span, ["product", *peers])))
    end_load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {end_load:.2f} at the end")
    if args.json:
        record = {"symbols": symbols, "load_start": load, "load_end": end_load,
                  "peers": {n: {"requirement": e.peer.requirement, "versions": e.versions,
                                "install_s": e.install_seconds} for n, e in peers.items()},
                  "runs": [asdict(run) for run in runs]}
        args.json.write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
