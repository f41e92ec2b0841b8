"""The similarity report (grader/similarity.py) as a CSV of flagged pairs and
an HTML page showing each pair's shared code side by side. Both only read the
report; neither says anything about a grade."""
from __future__ import annotations

import csv
import io
from html import escape

from ..similarity import Pair, SimilarityReport
from .gradebook import text_cell
from .html import page

PAGE_CSS = """
.pair { margin: 1.5rem 0; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: .8rem; }
.sides pre { background: #fafafa; border: 1px solid #eee; padding: .4rem .5rem; overflow-x: auto; }
mark { background: #ffe08a; }
"""


def csv_text(report: SimilarityReport) -> str:
    """One row per flagged pair: the two ids, the pair's similarity, then each function's (blank where that
    function was not compared: missing or too short on one side)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_a", "student_b", "similarity", *report.functions, "reference"])
    for pair in report.pairs:
        by_function = {m.function: m.similarity for m in pair.matches}
        writer.writerow([text_cell(pair.a), text_cell(pair.b), f"{pair.similarity:.2f}",
                         *(f"{by_function[f]:.2f}" if f in by_function else "" for f in report.functions),
                         "yes" if pair.reference else ""])
    return buffer.getvalue()


def html_page(report: SimilarityReport) -> str:
    """The flagged pairs, most similar first, each function's shared code highlighted on both sides."""
    parts = [f"<h1>Similarity: {escape(report.exercise)}</h1>",
             f'<p class="banner">Flags for a person to look at, not verdicts: no score changed. '
             f"{report.compared} submissions compared with one another"
             + (f" and with {report.references} of earlier terms" if report.references else "")
             + f", function by function, with the stub's code left out; a pair is shown at or above "
             f"{report.threshold:.0%} of shared code. Functions under {report.min_tokens} tokens "
             "(once the stub's are taken away) are too short to tell apart and are not compared.</p>"]
    short = [f"{escape(name)} in {count}" for name, count in report.short.items() if count]
    if short:
        parts.append(f'<p class="muted">Too short to compare: {", ".join(short)}.</p>')
    if report.not_compared:
        items = "".join(f"<li>{escape(sid)}: {escape(why)}</li>" for sid, why in report.not_compared)
        parts.append(f"<h2>Not compared</h2><ul>{items}</ul>")
    parts.append(f"<h2>Flagged pairs: {len(report.pairs)}</h2>")
    if not report.pairs:
        parts.append('<p class="muted">None at or above the threshold.</p>')
    for pair in report.pairs:
        parts.append(_pair(report, pair))
    return page(f"Similarity: {report.exercise}", "\n".join(parts)).replace("</style>", PAGE_CSS + "</style>", 1)


def _pair(report: SimilarityReport, pair: Pair) -> str:
    b_label = escape(pair.b) + (" (earlier term)" if pair.reference else "")
    out = [f'<section class="pair"><h2>{escape(pair.a)} ~ {b_label}: {pair.similarity:.0%}</h2>']
    for match in pair.matches:
        a_code = report.codes[pair.a].functions[match.function]
        b_code = report.codes[pair.b].functions[match.function]
        out.append(f"<h3>{escape(match.function)}: {match.share_a:.0%} of {escape(pair.a)}'s, "
                   f"{match.share_b:.0%} of {escape(pair.b)}'s</h3>")
        out.append(f'<div class="sides"><pre>{_marked(a_code, match.spans_a)}</pre>'
                   f"<pre>{_marked(b_code, match.spans_b)}</pre></div>")
    out.append("</section>")
    return "\n".join(out)


def _marked(code: str, spans: tuple) -> str:
    """`code`, escaped, with the shared spans marked."""
    out, at = [], 0
    for start, end in sorted(spans):
        start = max(start, at)
        if end <= start:
            continue
        out.append(escape(code[at:start]) + "<mark>" + escape(code[start:end]) + "</mark>")
        at = end
    out.append(escape(code[at:]))
    return "".join(out)
