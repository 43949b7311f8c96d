"""The sweep page's sections, drawn from the study document (``sweep.json``).

Every figure cell carries its name and exact value (``data-figure``, ``data-value``), so a
test, or a reader, can check the page against the numbers recomputed from ``trials.csv``
and ``trials_returns.csv``.  Every table says which sample its figures are of.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from app.report.format import NA, format_metric
from app.report.markup import attr, section_open
from app.report.svg.sweep import heat_colour, sharpe_histogram

#: A heatmap's metric as its title names it.
METRIC_NAMES = {"sharpe": "Sharpe", "total_return": "Total return",
                "max_drawdown": "Max drawdown", "baskets": "Baskets"}
#: How a heatmap's metric is coloured (``app.report.svg.sweep.heat_colour``).
HEAT_KINDS = {"sharpe": "signed", "total_return": "signed", "max_drawdown": "lower",
              "baskets": "higher"}


def figure(name: str, key: str, value: Any, tag: str = "td", extra: str = "") -> str:
    """A figure's cell: formatted as the metric ``key`` is, with its name and exact value."""
    text, css = format_metric(key, value)
    exact = "" if value is None else repr(value)
    return (f'<{tag} class="num {css}" data-figure="{attr(name)}" data-value="{attr(exact)}"'
            f"{extra}>{escape(text)}</{tag}>")


def _sentence(text: str) -> str:
    """A basis as the start of a sentence."""
    return text[:1].upper() + text[1:]


def _table(head: Sequence[str], rows: Sequence[str], css: str = "") -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    klass = f' class="{css}"' if css else ""
    return (f'<div class="scroll"><table{klass}><thead><tr>{header}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def params_text(params: Mapping[str, Any] | None) -> str:
    return " ".join(f"{k}={v}" for k, v in (params or {}).items()) or "configured defaults"


def _card(name: str, figure_name: str, key: str, value: Any) -> str:
    return (f'<div class="card"><div class="name">{escape(name)}</div>'
            + figure(figure_name, key, value, "div", "").replace('class="num ', 'class="value ')
            + "</div>")


def settings_section(doc: Mapping[str, Any]) -> str:
    """What was studied: the file, its settings, the parameters."""
    rows = [f"<tr><th scope=\"row\">{escape(k)}</th><td>{escape(json.dumps(v))}</td></tr>"
            for k, v in sorted(doc["settings"].items())]
    varying = ", ".join(doc["varying_parameters"]) or "none"
    lead = (f"Study file {escape(doc['study'])}. Parameters of the grid: "
            f"{escape(', '.join(doc['parameters']) or 'none')} (varying: {escape(varying)}).")
    return section_open("settings", "Study", lead) + _table(["setting", "value"], rows) \
        + "</section>"


def counts_section(doc: Mapping[str, Any]) -> str:
    c = doc["counts"]
    cards = "".join(_card(n, f"counts.{k}", "trials", c[k]) for n, k in (
        ("Trials tried (N)", "tried"), ("Done", "done"), ("Failed", "failed"),
        ("Configurations", "configurations"), ("Spans", "spans")))
    folds = ", ".join(str(f) for f in c["folds"]) or "none (the whole period)"
    lead = (f"Folds: {escape(folds)}; groups: {escape(', '.join(c['groups']))} "
            "(together: all the study's clusters in one account; a cluster's name: that "
            "cluster alone).")
    return (section_open("counts", "Trials", lead) + f'<div class="cards">{cards}</div>'
            + f'<p class="basis">{escape(c["basis"])}.</p></section>')


def distribution_section(doc: Mapping[str, Any]) -> str:
    d = doc["sharpe_distribution"]
    cards = "".join(_card(n, f"distribution.{k}", "profit_factor" if k == "std" else "sharpe",
                          d[k]) for n, k in (
        ("Mean", "mean"), ("Median", "median"), ("Std (ddof=1)", "std"), ("Min", "min"),
        ("Max", "max")))
    h = d["histogram"]
    chart = sharpe_histogram(h["edges"], h["counts"], "annualised Sharpe of the trial")
    lead = (f"IN-SAMPLE (or whole-period) trials: {d['defined']} of {d['trials']} with a "
            f"defined Sharpe. {basis_sentence(doc)}")
    return (section_open("distribution", "Distribution of the trials' Sharpes", lead)
            + f'<div class="cards">{cards}</div>'
            + (f'<figure class="wide">{chart}</figure>' if chart else
               f'<p class="na">{NA}: no trial has a defined Sharpe</p>')
            + f'<p class="basis">{escape(_sentence(d["basis"]))}.</p></section>')


def basis_sentence(doc: Mapping[str, Any]) -> str:
    """The trials' returns basis as a sentence (escaped)."""
    b = doc.get("returns_basis") or {}
    if b.get("name") is None:
        return escape(f"Returns basis: {b.get('label', 'not stated')}.")
    return escape(f"Daily returns on the {b['name']} basis ({b['label']}): "
                  f"{b['definition']}.")


def _selection_row(s: Mapping[str, Any]) -> str:
    base = f"sel.{s['fold']}.{s['group']}"
    cells = [f"<td>{s['fold']}</td><td>{escape(s['group'])}</td>",
             figure(f"{base}.config", "config", s["config"]),
             f"<td>{escape(params_text(s['params']) if s['config'] else NA)}</td>"]
    for sample, tag in (("in_sample", "is"), ("out_of_sample", "oos")):
        f = s.get(sample) or {}
        cells += [figure(f"{base}.{tag}.{k}", k, f.get(k)) for k in (
            "sharpe", "total_return", "max_drawdown", "baskets")]
    return f"<tr>{''.join(cells)}<td class=\"note\">{escape(s['note'])}</td></tr>"


def _dsr_row(s: Mapping[str, Any]) -> str:
    d = s.get("dsr") or {}
    base = f"sel.{s['fold']}.{s['group']}"
    keys = ("trials", "failed_trials", "defined_trials", "trials_sharpe_variance",
            "expected_max_sharpe", "sharpe_per_period", "observations", "dsr")
    cells = "".join(figure(f"{base}.{k}", k, d.get(k)) for k in keys)
    return (f"<tr><td>{s['fold']}</td><td>{escape(s['group'])}</td>{cells}"
            f'<td class="note">{escape(d.get("note", "") or s["note"])}</td></tr>')


def selection_section(doc: Mapping[str, Any]) -> str:
    """Per fold the in-sample choice, its out-of-sample trial, and the DSR of the choice."""
    chosen = doc["selections"]
    head = ["fold", "group", "config", "parameters", "IS Sharpe", "IS return", "IS max DD",
            "IS baskets", "OOS Sharpe", "OOS return", "OOS max DD", "OOS baskets", "note"]
    dsr_head = ["fold", "group", "N tried", "failed", "defined", "V (trials' Sharpe var.)",
                "SR0 (per day)", "SR (per day)", "T", "DSR", "note"]
    return (section_open("selection", "Selection per fold",
                         escape(_sentence(doc["selection_basis"]))
                         + ". Fold 0 is the whole period (no out-of-sample).")
            + "<h3>The choice: in-sample (chooses) and out-of-sample (judged)</h3>"
            + '<p class="basis">Sharpe annualised, of the trial\'s daily returns; return and '
            f"max drawdown of the trial's equity; closed baskets. {basis_sentence(doc)}</p>"
            + _table(head, [_selection_row(s) for s in chosen])
            + "<h3>Deflated Sharpe Ratio of each choice</h3>"
            + f'<p class="basis">{escape(doc["dsr_basis"])}.</p>'
            + _table(dsr_head, [_dsr_row(s) for s in chosen]) + "</section>")


def pbo_section(doc: Mapping[str, Any]) -> str:
    rows = []
    for p in doc["pbo"]:
        base = f"pbo.{p['group']}"
        configs = ", ".join(str(c) for c in p["configurations"]) or "none"
        rows.append(
            f"<tr><td>{escape(p['group'])}</td>{figure(base + '.pbo', 'psr', p['pbo'])}"
            f"{figure(base + '.blocks', 'trials', p['blocks'])}"
            f"{figure(base + '.combinations', 'trials', p.get('combinations'))}"
            f"{figure(base + '.periods', 'trials', p['periods'])}"
            f"{figure(base + '.rows_used', 'trials', p.get('rows_used'))}"
            f"<td>{escape(configs)}</td>{figure(base + '.left_out', 'trials', p['left_out'])}"
            f"{figure(base + '.probability_of_loss', 'psr', p.get('probability_of_loss'))}"
            f"{figure(base + '.degradation_slope', 'skewness', p.get('degradation_slope'))}"
            f'<td class="note">{escape(p["note"])}</td></tr>')
    head = ["group", "PBO", "blocks S", "splits", "T (common days)", "rows used",
            "configurations", "left out", "P(OOS Sharpe < 0)", "degradation slope", "note"]
    basis = doc["pbo"][0]["basis"] if doc["pbo"] else ""
    lead = ("Probability that the in-sample best configuration lands at or below the "
            "out-of-sample median: PBO near 0 means the choice carries over, near 1 that "
            "it is noise.")
    return (section_open("pbo", "Probability of backtest overfitting", lead)
            + _table(head, rows) + f'<p class="basis">{escape(basis)}.</p></section>')


def _value_text(value: Any) -> str:
    return "(all)" if value is None else str(value)


def heatmap_table(h: Mapping[str, Any], number: int) -> str:
    """The metric's median per cell (coloured) and the count of trials under it."""
    defined = [v for row in h["median"] for v in row if v is not None]
    lo, hi = (min(defined), max(defined)) if defined else (0.0, 0.0)
    kind = HEAT_KINDS[h["metric"]]
    head = [f"{h['y'] or ''} \\ {h['x']}", *(_value_text(x) for x in h["x_values"])]
    rows = []
    for i, y in enumerate(h["y_values"]):
        cells = []
        for j, _ in enumerate(h["x_values"]):
            value, count = h["median"][i][j], h["count"][i][j]
            colour = heat_colour(value, lo, hi, kind)
            style = f' style="background:{colour}"' if colour else ""
            text, css = format_metric(h["metric"], value)
            exact = "" if value is None else repr(value)
            cells.append(
                f'<td class="num {css}"{style} data-figure="heat.{number}.{i}.{j}" '
                f'data-value="{attr(exact)}" data-count="{count}">{escape(text)}'
                f'<br><span class="basis">n={count}</span></td>')
        rows.append(f"<th scope=\"row\">{escape(_value_text(y))}</th>{''.join(cells)}")
    body = "".join(f"<tr>{r}</tr>" for r in rows)
    header = "".join(f"<th>{escape(c)}</th>" for c in head)
    title = f"{METRIC_NAMES[h['metric']]} by {h['x']}" + (f" and {h['y']}" if h["y"] else "")
    return (f"<h3>{escape(title)} ({escape(h['sample'])})</h3>"
            f'<p class="basis">{escape(_sentence(h["metric_basis"]))}; {escape(h["rule"])}. File: '
            f"{escape(h['file'])}.</p>"
            f'<div class="scroll"><table class="matrix heatmap"><thead><tr>{header}</tr>'
            f"</thead><tbody>{body}</tbody></table></div>")


def heatmaps_section(doc: Mapping[str, Any]) -> str:
    maps = doc["heatmaps"]
    body = "".join(heatmap_table(h, n) for n, h in enumerate(maps)) or (
        f'<p class="na">{NA}: no parameter varies in this study</p>')
    return (section_open("heatmaps", "Parameter heatmaps",
                         "Rows: the second parameter's values; columns: the first's.")
            + body + "</section>")
