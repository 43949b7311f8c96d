"""The C parser's whole-file path for Dukascopy files gives exactly what the block parser
gives: the same rows, the same skipped rows by reason, the same ``file:line`` problems and
the same first error under ``--strict``, on the real slice and on every kind of defect."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import storage.importers.run as run
from engine.errors import UserError
from storage.importers import detect_file, import_file
from storage.importers.formats import make_parser
from storage.importers.wholefile import whole_file_blocks
from storage.marketdata import MarketDataStore

TICKS = Path("ticks", "EURUSD_ticks_dukascopy_2019-02-04_1300_1500_UTC.csv.gz")
ROW = "2019-02-04 13:00:09.000,1.1,1.2,1,1"


def variants(body: list[str]) -> dict[str, list[str]]:
    """The slice's rows with one defect (or one accepted variation) each."""
    first = body[5].split(",")
    return {
        "clean": body,
        "crossed": [*body[:5], "2019-02-04 13:00:09.000,1.2,1.1,1,1", *body[5:]],
        "backwards": [*body[:5], "2019-02-03 00:00:09.000,1.1,1.2,1,1", *body[5:]],
        "inf": [*body[:5], ",".join([first[0], "inf", *first[2:]]), *body[6:]],
        "huge": [*body[:5], ",".join([first[0], "1e400", *first[2:]]), *body[6:]],
        "nan": [*body[:5], ",".join([first[0], "+nan", *first[2:]]), *body[6:]],
        "text": [*body[:5], ",".join([first[0], "abc", *first[2:]]), *body[6:]],
        "empty": [*body[:5], ",".join([first[0], first[1], "", *first[3:]]), *body[6:]],
        "blank": [*body[:5], "", *body[5:]],
        "quoted": [*body[:5], f'"{first[0]}",1.1,1.2,1,1', *body[6:]],
        "truncated": [*body[:5], "2019-02-04 13:00:09.000,1.1", *body[5:]],
        "spaces": [*body[:5], ", ".join(first), *body[6:]],
        "epoch": [*body[:5], "1549285209000,1.1,1.2,1,1", *body[5:]],
        "iso-t-z": [line.replace(" ", "T", 1).replace(",", "Z,", 1) for line in body],
        "date-only": [*body[:5], "2019-02-04,1.1,1.2,1,1", *body[5:]],
        "offset": [*body[:5], first[0] + "+01:00," + ",".join(first[1:]), *body[6:]],
        "before-1970": [*body[:5], "1969-12-31 23:59:59.000,1.1,1.2,1,1", *body[5:]],
    }


def outcome(path: Path, root: Path, strict: bool) -> tuple[object, ...]:
    try:
        summary = import_file(path, MarketDataStore(root), strict=strict)
    except UserError as exc:
        return ("error", str(exc))
    rows = MarketDataStore(root).read("ticks", "EURUSD")
    return summary.line(), summary.problems, rows.tobytes()


@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_the_whole_file_path_gives_what_the_block_parser_gives(tmp_path, test_data,
                                                               monkeypatch, ending, strict):
    # Arrange
    header, *body = gzip.decompress((test_data / TICKS).read_bytes()).decode().splitlines()
    cases = variants(body[:3000])

    for name, lines in cases.items():
        path = tmp_path / name / "EURUSD_ticks.csv.gz"
        path.parent.mkdir()
        path.write_bytes(gzip.compress((ending.join([header, *lines]) + ending).encode()))

        # Act
        fast = outcome(path, tmp_path / name / "fast", strict)
        monkeypatch.setattr(run, "whole_file_blocks", lambda *_: None)
        blocks = outcome(path, tmp_path / name / "blocks", strict)
        monkeypatch.undo()

        # Assert
        assert fast == blocks, name


def test_a_clean_file_takes_the_whole_file_path_and_a_defective_one_does_not(tmp_path,
                                                                             test_data):
    # Arrange
    path = test_data / TICKS
    header, *body = gzip.decompress(path.read_bytes()).decode().splitlines()
    bad = tmp_path / "EURUSD_ticks.csv"
    bad.write_text("\n".join([header, *body[:5], "", *body[5:]]) + "\n")

    # Act
    clean = whole_file_blocks(path, make_parser(path, detect_file(path), None))
    defective = whole_file_blocks(bad, make_parser(bad, detect_file(bad), None))

    # Assert
    assert clean is not None and len(clean) == 1
    assert clean[0].rows_read == len(body) and len(clean[0].bad_lines) == 0
    assert np.all(np.diff(clean[0].rows["time_msc"]) >= 0)
    assert defective is None
