"""Checks shared by the report and batch tests: Gradescope's results.json
schema (from ../shared/anchors.md, written out by hand) and self-contained HTML."""
from __future__ import annotations

import base64
import json
import math
from html.parser import HTMLParser

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
PNG = b"\x89PNG\r\n\x1a\n"


def _number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


TOP = {
    "score": _number,
    "execution_time": _number,
    "output": lambda v: isinstance(v, str),
    "output_format": lambda v: v in FORMATS,
    "test_output_format": lambda v: v in FORMATS,
    "test_name_format": lambda v: v in FORMATS,
    "visibility": lambda v: v in VISIBILITY,
    "stdout_visibility": lambda v: v in VISIBILITY,
    "extra_data": lambda v: isinstance(v, dict),
    "tests": lambda v: isinstance(v, list),
    "leaderboard": lambda v: isinstance(v, list),
}
TEST = {
    "score": _number,
    "max_score": _number,
    "status": lambda v: v in ("passed", "failed"),
    "name": lambda v: isinstance(v, str),
    "name_format": lambda v: v in FORMATS,
    "number": lambda v: isinstance(v, str),
    "output": lambda v: isinstance(v, str),
    "output_format": lambda v: v in FORMATS,
    "tags": lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v),
    "visibility": lambda v: v in VISIBILITY,
    "extra_data": lambda v: isinstance(v, dict),
}
BOARD = {
    "name": lambda v: isinstance(v, str),
    "value": lambda v: _number(v) or isinstance(v, str),
    "order": lambda v: v in ("asc", "desc"),
}


def _against(data, schema, where) -> list[str]:
    if not isinstance(data, dict):
        return [f"{where}: not an object"]
    problems = [f"{where}: unknown key {k!r}" for k in data if k not in schema]
    problems += [f"{where}: bad {k}: {data[k]!r}" for k, ok in schema.items() if k in data and not ok(data[k])]
    return problems


def gradescope_problems(doc) -> list[str]:
    """Everything in `doc` that Gradescope's results.json format does not allow."""
    problems = _against(doc, TOP, "results")
    for i, test in enumerate(doc.get("tests", []) if isinstance(doc, dict) else []):
        problems += _against(test, TEST, f"tests[{i}]")
    for i, row in enumerate(doc.get("leaderboard", []) if isinstance(doc, dict) else []):
        problems += _against(row, BOARD, f"leaderboard[{i}]")
    return problems


def gradescope_text_problems(text: str) -> list[str]:
    """Everything wrong with a results.json file's text: it must be one JSON
    object alone (a stray print makes Gradescope reject the whole file), with
    no NaN or Infinity, test numbers used once, then valid as gradescope_problems says."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    try:
        doc = json.loads(text, parse_constant=refuse)
    except ValueError as exc:
        return [f"not one JSON document: {exc}"]
    numbers = [t.get("number") for t in doc.get("tests", []) if isinstance(t, dict)] if isinstance(doc, dict) else []
    twice = sorted({n for n in numbers if n is not None and numbers.count(n) > 1})
    return gradescope_problems(doc) + [f"tests: number {n!r} used more than once" for n in twice]


class Page(HTMLParser):
    """A parsed page: its tags, inline images (decoded) and any reference to elsewhere."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[str] = []
        self.images: list[bytes] = []
        self.external: list[str] = []
        self.text_parts: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith(("#", "data:")):
                self.external.append(value)
        if tag == "img":
            src = dict(attrs).get("src", "")
            assert src.startswith("data:image/png;base64,"), src[:60]
            self.images.append(base64.b64decode(src.split(",", 1)[1], validate=True))

    def handle_data(self, data):
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)


def check_page(text: str) -> Page:
    """Parse `text` and assert it is one self-contained page: inline PNGs, no script, nothing fetched."""
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>")
    assert {"html", "head", "style", "body"} <= set(page.tags)
    assert not {"script", "link", "iframe", "object", "embed"} & set(page.tags)
    assert page.external == []
    assert all(image.startswith(PNG) for image in page.images)
    return page
