"""The peer engines' virtual environments: made once, reused afterwards, never the project's.

Each peer gets a venv of its own (``<root>/<peer>``) so that one peer's pins (nautilus_trader
wants a recent pandas and numpy, vectorbt a numba that caps numpy, backtrader nothing at all)
can neither break another peer nor the product's environment, and so that a peer that does not
install is skipped alone.  The default root is outside the repository,
``$XDG_CACHE_HOME/fxcluster/bench-peers`` (``~/.cache/...``): every clone and work tree on the
machine reuses the same install instead of paying for it again, and nothing lands in git.

An install is recorded in ``<root>/<peer>/installed.json`` (the requirement, the versions
pip resolved, the seconds it took): a venv with that file and an importable module is ready;
anything else is (re)installed.  Only the package registries are reachable here, so a failure
is reported with pip's last lines and the peer is left out of the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PeerPackage:
    """One peer engine: what pip installs, what the runner imports, which runner it is.

    ``requirement`` is pinned so that the figures in bench/README.md can be reproduced:
    nautilus_trader 1.221.0 is the last release with wheels for Python 3.11 (the issue's
    figures were measured with it); vectorbt and backtrader at the versions measured.
    """

    name: str
    requirement: str
    module: str
    runner: str
    #: Further packages the runner needs beside the peer itself (pandas to read the files).
    extras: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or not self.requirement or not self.runner:
            raise ValueError(f"incomplete peer definition: {self!r}")


PEERS: dict[str, PeerPackage] = {
    "nautilus": PeerPackage("nautilus", "nautilus_trader==1.221.0", "nautilus_trader",
                            "nautilus_nothing.py"),
    "vectorbt": PeerPackage("vectorbt", "vectorbt==1.2.0", "vectorbt",
                            "vectorbt_nothing.py"),
    "backtrader": PeerPackage("backtrader", "backtrader==1.9.78.123", "backtrader",
                              "backtrader_nothing.py", extras=("pandas",)),
}

#: Distributions whose versions are recorded beside the peer's own.
_REPORTED = ("pandas", "numpy", "numba", "pyarrow")


def default_root() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "fxcluster" / "bench-peers"


@dataclass(frozen=True)
class PeerEnv:
    """A peer's venv after ``ensure``: its python, or why there is none."""

    peer: PeerPackage
    python: Path | None
    versions: dict[str, str]
    install_seconds: float | None
    problem: str | None = None

    @property
    def ready(self) -> bool:
        return self.python is not None and self.problem is None


def _python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _versions(python: Path, peer: PeerPackage) -> dict[str, str]:
    """The installed versions of the peer and its main dependencies, read in its venv."""
    names = (peer.requirement.split("==")[0], *_REPORTED)
    code = ("import json, importlib.metadata as m\n"
            "out = {}\n"
            f"for n in {list(names)!r}:\n"
            "    try: out[n] = m.version(n)\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(json.dumps(out))")
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    return json.loads(done.stdout) if done.returncode == 0 else {}


def _importable(python: Path, module: str) -> bool:
    done = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True,
                          timeout=300, check=False)
    return done.returncode == 0


def _recorded(venv: Path, peer: PeerPackage) -> PeerEnv | None:
    """The earlier install when it is complete and still imports; None to (re)install."""
    marker, python = venv / "installed.json", _python_of(venv)
    if not (marker.is_file() and python.is_file()):
        return None
    try:
        record = json.loads(marker.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if record.get("requirement") != peer.requirement or not _importable(python, peer.module):
        return None
    return PeerEnv(peer, python, dict(record.get("versions", {})),
                   record.get("install_seconds"))


def _tail(text: str, lines: int = 6) -> str:
    """pip's error lines when it wrote any (its warnings come first), else its last lines."""
    every = text.strip().splitlines()
    errors = [line for line in every if line.startswith("ERROR")]
    return "\n".join("    " + line for line in (errors or every)[-lines:])


def _install(venv: Path, peer: PeerPackage, base_python: str, log: Path) -> PeerEnv:
    """A fresh venv and ``pip install`` of the peer; pip's output goes to ``log``."""
    start = time.perf_counter()
    venv.parent.mkdir(parents=True, exist_ok=True)
    made = subprocess.run([base_python, "-m", "venv", "--clear", str(venv)],
                          capture_output=True, text=True, check=False)
    if made.returncode != 0:
        return PeerEnv(peer, None, {}, None, f"venv not created:\n{_tail(made.stderr)}")
    python = _python_of(venv)
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check",
               peer.requirement, *peer.extras]
    with log.open("w") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, text=True,
                              check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or not _importable(python, peer.module):
        return PeerEnv(peer, None, {}, seconds, f"pip install {peer.requirement} failed "
                       f"(log {log}):\n{_tail(log.read_text())}")
    versions = _versions(python, peer)
    record = {"requirement": peer.requirement, "versions": versions,
              "install_seconds": round(seconds, 1), "python": sys.version.split()[0]}
    (venv / "installed.json").write_text(json.dumps(record, indent=2) + "\n")
    return PeerEnv(peer, python, versions, seconds)


def ensure(peer: PeerPackage, root: Path, base_python: str = sys.executable) -> PeerEnv:
    """The peer's venv, installed if it is not there yet (minutes the first time)."""
    venv = root / peer.name
    found = _recorded(venv, peer)
    if found is not None:
        return found
    print(f"installing {peer.requirement} into {venv} (once; reused afterwards) ...",
          flush=True)
    return _install(venv, peer, base_python, root / f"{peer.name}-pip.log")
