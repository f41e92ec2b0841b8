"""The student's feedback page: one self-contained HTML file (inline CSS,
charts as inline PNG, no script, nothing fetched from the network). Under a
failing part, what to fix comes first: failures with one cause are shown once
(see grouping.py); every check stays on the page, folded away."""
from __future__ import annotations

import base64
from html import escape

from ..grouping import failure_groups, leaning_note
from ..results import GradeResult
from ..text import without_bidi

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 60rem; \
margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .4rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.score { font-size: 2rem; font-weight: 600; margin: .3rem 0 1rem; }
.muted, .note { color: #666; }
.banner { background: #fff4d6; border: 1px solid #e8c76a; padding: .5rem .8rem; border-radius: 4px; }
.error { background: #fde2e1; border: 1px solid #e69a96; padding: .5rem .8rem; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #eee; }
td.num, th.num { text-align: right; white-space: nowrap; }
.pass { color: #1a7f37; font-weight: 600; }
.fail { color: #c62828; font-weight: 600; }
pre { white-space: pre-wrap; margin: 0; font: 13px/1.35 ui-monospace, Menlo, Consolas, monospace; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #444; }
.bar { background: #eee; height: .6rem; width: 8rem; display: inline-block; vertical-align: middle; }
.bar span { background: #1f77b4; height: 100%; display: block; }
.fix { background: #fdf1f0; border: 1px solid #efc3bf; border-radius: 4px; padding: .5rem .8rem; margin: .6rem 0; }
.fix p { margin: .2rem 0 .4rem; }
.hint { font-weight: 600; }
.fix pre { background: #fff; border: 1px solid #f2d6d3; padding: .4rem .5rem; border-radius: 3px; }
ul.others { margin: .4rem 0; padding-left: 1.2rem; }
ul.others li { margin: .15rem 0; }
details.checks > summary { cursor: pointer; color: #444; margin: .4rem 0; }
"""


def points(value: float) -> str:
    return f"{round(value, 2):g}"


def page(title: str, body: str) -> str:
    """A complete HTML document around `body` (already escaped HTML)."""
    # Bidi overrides and line separators in what a student wrote would make the page read otherwise.
    return without_bidi(f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
                        "</body>\n</html>\n")


def image(png: bytes, alt: str) -> str:
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def render(result: GradeResult) -> str:
    """The feedback page for one result."""
    who = f" for {result.student}" if result.student else ""
    out = [f"<h1>{escape(result.exercise)}: feedback{escape(who)}</h1>"]
    if result.public_only:
        out.append('<p class="banner">Public checks only: these are the worked examples from the lab. '
                   "The hidden tests decide your grade.</p>")
        passed = sum(t.passed for p in result.parts for t in p.tests)
        total = sum(len(p.tests) for p in result.parts)
        out.append(f'<p class="score">{passed} of {total} public checks passed</p>')
    else:
        out.append(f'<p class="score">{points(result.score)} / {points(result.max_score)}</p>')
    if result.status != "graded":
        out.append(f'<p class="error">Not graded: {escape(result.error)}</p>')
    out.append(_overview(result))
    figures = result.artifacts.get("figures", [])
    shown = set()
    for part in result.parts:
        mine = [f for f in figures if f.get("part") == part.name]
        shown.update(id(f) for f in mine)
        out.append(_part(part, mine, result.public_only))
    rest = [f for f in figures if id(f) not in shown]
    if rest:
        out.append("<h2>Figures</h2>" + "".join(_figure(f) for f in rest))
    out.append(f'<p class="muted">Graded in {result.seconds:.2f} s; sandbox: {escape(result.isolation or "none")}.</p>')
    return page(f"{result.exercise} feedback{who}", "\n".join(out))


def _overview(result: GradeResult) -> str:
    rows = []
    for part in result.parts:
        passed = sum(t.passed for t in part.tests)
        score = "" if result.public_only else f"{points(part.score)} / {points(part.max_score)}"
        rows.append(f'<tr><td><a href="#part-{escape(part.name)}">{escape(part.name)}</a></td>'
                    f'<td class="num">{score}</td><td>{passed} of {len(part.tests)} checks passed</td></tr>')
    head = '<tr><th>part</th><th class="num">points</th><th>checks</th></tr>'
    return f"<table>{head}{''.join(rows)}</table>"


def _part(part, figures, public_only) -> str:
    score = "" if public_only else f" <span class=\"muted\">{points(part.score)} / {points(part.max_score)}</span>"
    out = [f'<h2 id="part-{escape(part.name)}">{escape(part.name)}{score}</h2>']
    if part.note:
        out.append(f'<p class="note">{escape(part.note)}</p>')
    if note := leaning_note(part):
        out.append(f'<p class="banner">Note: {escape(note)}</p>')
    full = part.max_score > 0 and part.score >= part.max_score
    if part.tests and not full and part.note != "not implemented yet":
        out.append(_what_to_fix(part))
    if part.tests:
        rows = []
        for test in part.tests:
            verdict = '<span class="pass">✓ passed</span>' if test.passed else '<span class="fail">✗ failed</span>'
            detail = f"<pre>{escape(test.message)}</pre>" if test.message else ""
            if test.output.strip():
                detail += f"<details><summary>printed</summary><pre>{escape(test.output)}</pre></details>"
            pts = "" if public_only else f"{points(test.score)} / {points(test.max_score)}"
            rows.append(f"<tr><td>{verdict}</td><td>{escape(test.name)}{detail}</td><td class=\"num\">{pts}</td></tr>")
        passed = sum(t.passed for t in part.tests)
        out.append(f'<details class="checks"><summary>Every check: {passed} of {len(part.tests)} passed</summary>'
                   f"<table>{''.join(rows)}</table></details>")
    out.extend(_figure(f) for f in figures)
    return "\n".join(out)


def _what_to_fix(part) -> str:
    """The hint, the most telling failure in full, and the part's other causes in a line each."""
    groups = failure_groups(part)
    if not groups:
        return ""
    first = groups[0]
    out = ['<div class="fix">']
    if first.hint:
        out.append(f'<p class="hint">Hint: {escape(first.hint)}</p>')
    count = (f' <span class="muted">(the same cause in {len(first.tests)} of {len(part.tests)} checks)</span>'
             if len(first.tests) > 1 else "")
    out.append(f'<p><span class="fail">✗</span> {escape(first.example.name)}{count}</p>')
    out.append(f"<pre>{escape(first.body())}</pre>")
    if first.example.output.strip():
        out.append(f"<details><summary>printed</summary><pre>{escape(first.example.output)}</pre></details>")
    out.append("</div>")
    if groups[1:]:
        items = []
        for group in groups[1:]:
            more = f" and {len(group.tests) - 1} more" if len(group.tests) > 1 else ""
            items.append(f'<li><span class="fail">✗</span> {escape(group.example.name)}{escape(more)}: '
                         f"{escape(group.headline())}</li>")
        out.append(f'<ul class="others">{"".join(items)}</ul>')
    return "\n".join(out)


def _figure(data: dict) -> str:
    from .charts import figure_chart

    title = str(data.get("title") or data.get("name", "figure"))
    chart = figure_chart(data)
    notes = "".join(f"<br>{escape(str(n))}" for n in [*data.get("notes", []), *(chart.notes if chart else [])])
    if chart is None:
        return f'<p class="note">{escape(title)}: no picture.{notes}</p>' if notes else ""
    return f"<figure>{image(chart.png, title)}<figcaption>{escape(title)}{notes}</figcaption></figure>"
