"""``bench_kinds.py``'s Johansen figures: the compiled test against statsmodels on seeded
windows, printed with both costs (no time is asserted; the comparison's own figures are)."""

from __future__ import annotations

import re

from bench.bench_kinds import johansen_costs


def test_the_johansen_line_compares_the_compiled_test_with_statsmodels(capsys):
    # Act
    johansen_costs(windows=12)

    # Assert: both costs printed; the figures within the tests' 1e-9, none declined
    line = capsys.readouterr().out.strip()
    found = re.search(r"coint_johansen +([\d.]+) us per call, compiled +([\d.]+) us .* vector "
                      r"within ([\d.e+-]+), trace within ([\d.e+-]+) .*, (\d+) declined", line)
    assert found, line
    assert float(found[3]) < 1e-9 and float(found[4]) < 1e-9
    assert found[5] == "0"
