"""What check() shows: one object that a notebook displays as compact HTML
(`_repr_html_`) and a console as the terminal report (`__repr__`).

The HTML is a fragment with inline styles only: no script, no widget, no
stylesheet that could restyle the page around it, so JupyterLab, the classic
Notebook and VS Code show it alike. Colours are kept to the marks and borders,
so that it reads on light and dark themes.
"""
from __future__ import annotations

import re
from html import escape

from ..grouping import leaning_note

GREEN, RED, AMBER, MUTED = "#1a7f37", "#c62828", "#b26a00", "#6e6e6e"
FONT = "font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; font-size: 14px; line-height: 1.45"
MONO = "font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px"
PUBLIC_NOTE = ("Public checks, not your grade: the lab's worked examples only. "
               "The hidden tests your instructor runs decide the grade.")
OPEN_FAILURES = 3  # failed checks of the part checked shown in full; the rest are folded
OPEN_FAILURES_EACH = 1  # the same for each part of the whole exercise, which check() shows at once

# "what: expected A, got B", possibly after a lead such as "the arguments were left unchanged (good), ...: ".
_EXPECTED = re.compile(r"^(?P<lead>.*?)(?P<what>[^\s:][^:]*): expected (?P<expected>.+), got (?P<got>.+)$")


class Checked:
    """The outcome of one check(): a graded result (one part, the quiz, or the
    whole exercise) or why it could not be graded."""

    def __init__(self, result=None, error: str = "", notes: list | None = None, asked: str | None = None,
                 exercise: str = "", folded: set | None = None):
        self.result = result  # grader.results.GradeResult, or None when `error`
        self.error = error
        self.notes = list(notes or [])
        self.asked = asked
        self.exercise = exercise
        self.folded = set(folded or ())  # parts whose note says all (a function not defined): tests not listed

    @property
    def passed(self) -> bool:
        """Whether everything checked passed."""
        tests = [t for p in self.result.parts for t in p.tests] if self.result is not None else []
        return bool(tests) and all(t.passed for t in tests)

    @property
    def title(self) -> str:
        return self.asked or self.exercise or "check"

    # -- text ----------------------------------------------------------------
    def __repr__(self) -> str:
        if self.result is None:
            return f"✗ {self.title}: {self.error}"
        from ..render import terminal

        lines = terminal.render(self.result).splitlines()
        lines[1:1] = [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))

    # -- HTML ----------------------------------------------------------------
    def _repr_html_(self) -> str:
        if self.result is None:
            return _box(RED, f'<div><b style="color:{RED}">✗ {escape(self.title)}</b>: {escape(self.error)}</div>')
        result = self.result
        body = [_headline(result, self.asked, self.passed)]
        if result.public_only:
            body.append(f'<div style="color:{AMBER}">{escape(PUBLIC_NOTE)}</div>')
        if result.status != "graded":
            body.append(f'<div style="color:{RED}">not graded: {escape(result.error)}</div>')
        body += [f'<div style="color:{AMBER}">note: {escape(n)}</div>' for n in self.notes]
        one = len(result.parts) == 1
        figures = result.artifacts.get("figures", [])
        for part in result.parts:
            if not part.tests and not part.max_score:
                continue  # the quiz of an exercise without one
            body.append(_part(part, [f for f in figures if f.get("part") == part.name], result.public_only,
                              heading=not one, folded=part.name in self.folded))
        body.append(f'<div style="color:{MUTED}; font-size: 12px">Checked in {result.seconds:.2f} s, your functions '
                    "as this kernel defines them now (after editing a cell, run it again); "
                    f"sandbox: {escape(result.isolation or 'none')}.</div>")
        return _box(GREEN if self.passed else RED, "\n".join(body))


def _box(color: str, inner: str) -> str:
    return (f'<div style="{FONT}; border-left: 4px solid {color}; padding: 4px 10px; margin: 2px 0">'
            f"\n{inner}\n</div>")


def _mark(ok: bool) -> str:
    return f'<b style="color:{GREEN}">✓</b>' if ok else f'<b style="color:{RED}">✗</b>'


def _count(result) -> tuple[int, int]:
    return sum(t.passed for p in result.parts for t in p.tests), sum(len(p.tests) for p in result.parts)


def _headline(result, asked, passed) -> str:
    from ..render.html import points

    name = asked or result.exercise
    done, total = _count(result)
    if result.public_only:
        score = f"public checks: {done} of {total} passed (not your grade)"
    else:
        score = f"{points(result.score)} / {points(result.max_score)} points, {done} of {total} checks passed"
    return f'<div style="font-size: 15px">{_mark(passed)} <b>{escape(name)}</b> &nbsp;{escape(score)}</div>'


def _part(part, figures, public_only, heading, folded=False) -> str:
    from ..render.html import points

    out = []
    ok = bool(part.tests) and all(t.passed for t in part.tests)
    if heading:
        score = "" if public_only else f" &nbsp;{points(part.score)} / {points(part.max_score)}"
        passed = sum(t.passed for t in part.tests)
        out.append(f'<div style="margin-top: 6px">{_mark(ok)} <b>{escape(part.name)}</b>{score}'
                   f' <span style="color:{MUTED}">&nbsp;{passed} of {len(part.tests)} checks passed</span></div>')
    if note := leaning_note(part):
        out.append(f'<div style="margin-left: 1.3em; color:{AMBER}">note: {escape(note)}</div>')
    if folded:
        out.append(f'<div style="margin-left: 1.3em">{escape(part.note)}</div>')
    elif part.note == "not implemented yet":
        out.append(f'<div style="margin-left: 1.3em">not implemented yet: replace '
                   f'<code style="{MONO}">raise NotImplementedError</code> with your code</div>')
    else:
        if part.note:
            out.append(f'<div style="margin-left: 1.3em; color:{MUTED}">{escape(part.note)}</div>')
        failed = [_failed(t) for t in part.tests if not t.passed]
        shown = OPEN_FAILURES_EACH if heading else OPEN_FAILURES
        out += failed[:shown]
        if failed[shown:]:
            more = len(failed) - shown
            out.append(f'<details style="margin-left: 1.3em"><summary style="color:{RED}">{more} more '
                       f'failed check{"s" if more != 1 else ""}</summary>{"".join(failed[shown:])}</details>')
        good = [t for t in part.tests if t.passed]
        if good:
            names = "".join(f"<li>{escape(t.name)}</li>" for t in good)
            out.append(f'<details style="margin-left: 1.3em"><summary style="color:{MUTED}">{len(good)} '
                       f'check{"s" if len(good) != 1 else ""} passed</summary>'
                       f'<ul style="margin: 2px 0">{names}</ul></details>')
    for figure in [] if folded else figures:  # no function, no figure of it
        drawn = _figure(figure)
        if drawn and (ok or heading):  # folded when the part passed, and in the whole exercise's result
            drawn = f"<details><summary>figure: {escape(_figure_title(figure))}</summary>{drawn}</details>"
        out.append(f'<div style="margin-left: 1.3em">{drawn}</div>' if drawn else "")
    return "\n".join(x for x in out if x)


def _failed(test) -> str:
    rows = _rows(test.message)
    if test.output.strip():
        rows.append(("printed", f'<pre style="{MONO}; margin: 0; white-space: pre-wrap">'
                                f"{escape(test.output.strip())}</pre>"))
    table = "".join(f'<tr><th style="text-align: right; vertical-align: top; padding: 0 8px 0 0; font-weight: 500;'
                    f' color:{MUTED}">{escape(label)}</th><td style="text-align: left; padding: 1px 0">{cell}</td></tr>'
                    for label, cell in rows)
    return (f'<div style="margin: 4px 0 4px 1.3em">{_mark(False)} {escape(test.name)}'
            f'<table style="border-collapse: collapse; margin: 2px 0 0 1.3em">{table}</table></div>')


def _rows(message: str) -> list[tuple[str, str]]:
    """(label, HTML) rows of a failure message: expected, got, input, hint, note, where."""
    rows = []
    for line in message.splitlines():
        text = line.strip()
        label, _, rest = text.partition(": ")
        found = _EXPECTED.match(text)
        if label in ("input", "hint", "note"):
            rows.append((label, _code(rest) if label == "input" else escape(rest)))
        elif found:
            lead, what = found["lead"], found["what"]
            if lead or what != "result":
                rows.append(("", escape(f"{lead}{what}:")))
            rows += [("expected", _code(found["expected"])), ("got", _code(found["got"]))]
        elif text.startswith("at ") and rows:
            rows.append(("where", _code(text[3:])))
        elif text:
            rows.append(("", escape(text)))
    return rows


def _code(text: str) -> str:
    return f'<code style="{MONO}; white-space: pre-wrap">{escape(text)}</code>'


def _figure_title(data: dict) -> str:
    return str(data.get("title") or data.get("name", "figure"))


def _figure(data: dict) -> str:
    """A figure of the exercise as an inline PNG, drawn by the feedback page's chart code."""
    from ..render.charts import figure_chart
    from ..render.html import image

    title = _figure_title(data)
    chart = figure_chart(data)
    notes = [*data.get("notes", []), *(chart.notes if chart else [])]
    caption = escape(title) + "".join(f"<br>{escape(str(n))}" for n in notes)
    if chart is None:
        return f'<div style="color:{MUTED}">{caption}</div>' if notes else ""
    return (f'<figure style="margin: 6px 0">{image(chart.png, title)}'
            f'<figcaption style="font-size: 12px; color:{MUTED}">{caption}</figcaption></figure>')
