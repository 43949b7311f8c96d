"""The walk-forward page's sections, drawn from the study document (``walkforward.json``).

Every table says which sample it is: the grid and the selection are IN-SAMPLE (each cluster
alone), the frozen mix is shown IN-SAMPLE beside the choice (selection-biased: a description,
not a test) and OUT-OF-SAMPLE (the only test: PSR, no deflation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from app.report.format import NA, format_metric, format_time
from app.report.markup import section_open


def cell(key: str, value: Any) -> str:
    """A numeric table cell formatted as the metric ``key`` is."""
    text, css = format_metric(key, value)
    return f'<td class="num {css}">{escape(text)}</td>'


def _params(params: Mapping[str, Any]) -> str:
    return escape(" ".join(f"{k}={v}" for k, v in params.items()) or "configured defaults")


def _table(head: Sequence[str], rows: Sequence[str]) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return (f'<div class="scroll"><table><thead><tr>{header}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def folds_section(doc: Mapping[str, Any]) -> str:
    """Where each fold chooses and where it is judged."""
    rows = [f"<tr><td>{f['fold']}</td><td>{escape(f['is_days'])}</td>"
            f"<td>{escape(f['oos_days'])}</td></tr>" for f in doc["folds"]]
    trials = doc["trials"]
    lead = (f"Scheme <b>{escape(str(doc['scheme']))}</b>; {len(doc['grid'])} configurations; "
            f"clusters {escape(', '.join(doc['clusters']))}. Days are UTC, both ends "
            "included; in-sample always ends the day before its out-of-sample window starts. "
            f"{escape(doc['selection_basis'])}. N per selection = {trials['per_selection']}; "
            f"combined over the clusters of a fold: {trials['combined']:,} mixes. "
            f"{escape(trials['basis'])}.")
    return (section_open("folds", "Folds", lead)
            + _table(["fold", "in-sample (chooses)", "out-of-sample (judged)"], rows)
            + "</section>")


def oos_summary(doc: Mapping[str, Any], chart: str) -> str:
    """The out-of-sample windows end to end: headline figures and the chained equity."""
    oos = doc["out_of_sample"]
    m = oos.get("metrics") or {}
    ret, sig, bas = (m.get(k, {}) for k in ("returns", "significance", "baskets"))
    figures = [("Total return", "total_return", ret.get("total_return")),
               ("Sharpe", "sharpe", ret.get("sharpe")),
               ("PSR (no deflation)", "psr", sig.get("psr")),
               ("Max drawdown", "max_drawdown", ret.get("max_drawdown")),
               ("Baskets", "baskets", bas.get("baskets"))]
    cards = "".join(f'<div class="card"><div class="name">{escape(name)}</div>'
                    f'<div class="value">{escape(format_metric(key, value)[0])}</div></div>'
                    for name, key, value in figures)
    basis = [f"{escape(label)}: {escape(str(section.get(key + '_basis', '')))}"
             for label, section, key in (("Sharpe", ret, "sharpe"), ("PSR", sig, "psr"))
             if section.get(key + "_basis")]
    period = oos.get("period") or {}
    lead = (f"OUT-OF-SAMPLE only, {escape(str(period.get('from', NA)))} .. "
            f"{escape(str(period.get('to', NA)))}: {escape(oos['basis'])}.")
    return (section_open("oos", "Out-of-sample, all folds end to end", lead)
            + f'<div class="cards">{cards}</div>'
            + "".join(f'<p class="basis">{b}</p>' for b in basis)
            + (f'<figure class="wide">{chart}</figure>' if chart else "")
            + "</section>")


def _grid_rows(fold: Mapping[str, Any], clusters: Sequence[str]) -> list[str]:
    by_config: dict[int, dict[str, Mapping[str, Any]]] = {}
    params: dict[int, Mapping[str, Any]] = {}
    for row in fold["grid"]:
        by_config.setdefault(row["config"], {})[row["cluster"]] = row
        params[row["config"]] = row["params"]
    rows = []
    for config, cells in by_config.items():
        shown = []
        for name in clusters:
            r = cells.get(name)
            if r is None:
                shown.append(f'<td class="na">{NA}</td>')
                continue
            text = (f"{format_metric('sharpe', r['sharpe'])[0]} ({r['baskets']}, "
                    f"{format_metric('pnl', r['pnl'])[0]})")
            mark = ' class="num chosen"' if r["chosen"] else ' class="num"'
            body = f"<b>{escape(text)}</b>" if r["chosen"] else escape(text)
            shown.append(f"<td{mark}>{body}</td>")
        rows.append(f"<tr><td>{config}</td><td>{_params(params[config])}</td>{''.join(shown)}"
                    "</tr>")
    return rows


def grid_table(fold: Mapping[str, Any], clusters: Sequence[str]) -> str:
    """Every configuration x cluster, each cluster alone, in-sample; the choices in bold."""
    head = ["#", "configuration", *clusters]
    return ("<h3>In-sample grid: each cluster alone, every configuration</h3>"
            '<p class="basis">Sharpe of the run\'s daily mark-to-market returns (closed '
            "baskets, their net P&amp;L); bold: the cluster's choice.</p>"
            + _table(head, _grid_rows(fold, clusters)))


def selection_table(fold: Mapping[str, Any]) -> str:
    """Each choice and the DSR of making it among N trials."""
    rows = []
    for s in fold["selection"]:
        alone = s.get("in_sample_alone") or {}
        rows.append(
            f"<tr><td>{escape(s['cluster'])}</td><td>{escape(str(s['config'] or 'none'))}</td>"
            f"<td>{_params(s['params'])}</td>{cell('sharpe', alone.get('sharpe'))}"
            f"{cell('trials', s.get('trials'))}{cell('trials', s.get('defined_trials'))}"
            f"{cell('trials_sharpe_variance', s.get('trials_sharpe_variance'))}"
            f"{cell('expected_max_sharpe', s.get('expected_max_sharpe'))}"
            f"{cell('sharpe_per_period', s.get('sharpe_per_period'))}"
            f"{cell('observations', s.get('observations'))}{cell('dsr', s.get('dsr'))}"
            f'<td class="note">{escape(s["note"])}</td></tr>')
    head = ["cluster", "config", "parameters", "IS Sharpe (alone)", "N", "defined",
            "V (trials' Sharpe var.)", "SR0 (per day)", "SR (per day)", "T", "DSR", "note"]
    return ("<h3>In-sample selection and its Deflated Sharpe Ratio</h3>"
            '<p class="basis">DSR = PSR(SR0): the selected in-sample Sharpe against the '
            "expected maximum of N skill-less trials with the trials' Sharpe variance V "
            "(Bailey and Lopez de Prado 2014); per-day figures.</p>" + _table(head, rows))


def mix_table(fold: Mapping[str, Any], sample: str) -> str:
    """The frozen mix on one sample, per cluster and for the portfolio."""
    mix = fold[sample]
    in_sample = sample == "in_sample_mix"
    title = ("In-sample: the frozen mix (selection-biased, not a test)" if in_sample
             else "Out-of-sample: the frozen mix (PSR, no deflation)")
    alone = {s["cluster"]: s.get("in_sample_alone") or {} for s in fold["selection"]}
    rows = []
    for name, c in mix["by_cluster"].items():
        extra = ""
        if in_sample:
            a = alone.get(name, {})
            extra = f"{cell('baskets', a.get('baskets'))}{cell('pnl', a.get('pnl'))}"
        rows.append(f"<tr><td>{escape(name)}</td>{extra}{cell('baskets', c['baskets'])}"
                    f"{cell('pnl', c['pnl'])}{cell('sharpe', c['sharpe'])}<td></td></tr>")
    p = mix["portfolio"]
    blank = "<td></td><td></td>" if in_sample else ""
    rows.append(f"<tr><th scope=\"row\">portfolio</th>{blank}{cell('baskets', p['baskets'])}"
                f"{cell('pnl', p['pnl'])}{cell('sharpe', p['sharpe'])}{cell('psr', p['psr'])}"
                "</tr>")
    head = ["cluster", *(["alone: baskets", "alone: P&L"] if in_sample else []),
            "mix: baskets", "mix: P&L", "Sharpe", "PSR"]
    period = mix.get("period") or {}
    span = (f"traded from {format_time(period.get('from')) or NA} to "
            f"{format_time(period.get('to')) or NA} (excluded)")
    return (f"<h3>{escape(title)}</h3><p class=\"basis\">{escape(span)}; per cluster: its "
            "closed baskets' net P&amp;L and the Sharpe of its daily P&amp;L on the pool; "
            "portfolio: the account's daily mark-to-market Sharpe.</p>" + _table(head, rows))


def fold_section(fold: Mapping[str, Any], clusters: Sequence[str]) -> str:
    n = fold["fold"]
    lead = (f"In-sample {escape(fold['is_days'])} (chooses); out-of-sample "
            f"{escape(fold['oos_days'])} (judged). Full backtest files of both mixes: "
            f"fold-{n}/in-sample-mix/ and fold-{n}/out-of-sample/.")
    return (section_open(f"fold-{n}", f"Fold {n}", lead) + grid_table(fold, clusters)
            + selection_table(fold) + mix_table(fold, "in_sample_mix")
            + mix_table(fold, "out_of_sample_mix") + "</section>")
