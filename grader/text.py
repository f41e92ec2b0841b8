"""Showing text a student controls (file names, ids, output, messages): escaped, never interpreted.

A terminal obeys control characters (escape sequences clear the screen, move
the cursor, write the clipboard) and every renderer of Unicode obeys bidi
overrides and line separators, which can make text read otherwise than it is
(a forged "Total: 100", a reversed file name). Those are shown as escapes.
"""
import re

# Bidi embeddings, overrides and isolates, the marks, and the line and paragraph separators.
_BIDI = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")
_UNSAFE_LINES = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")  # keeps newlines and tabs
# In a rendered report: any control but newline, tab and this program's own colours (SGR sequences).
_UNSAFE_REPORT = re.compile(f"\\x1b(?!\\[[0-9;]*m)|[\\x00-\\x08\\x0b-\\x1a\\x1c-\\x1f\\x7f-\\x9f{_BIDI}]")
_BIDI_ONLY = re.compile(f"[{_BIDI}]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, lines: bool = False) -> str:
    """`text` with every control character, bidi control and line separator
    shown as an escape (\\x1b, \\u202e); newlines and tabs kept with `lines`."""
    return (_UNSAFE_LINES if lines else _UNSAFE).sub(_escape, str(text))


def safe_report(text: str) -> str:
    """A rendered terminal report made safe as a whole: its own colours kept, anything else escaped."""
    return _UNSAFE_REPORT.sub(_escape, text)


def without_bidi(text: str) -> str:
    """Text for an HTML page: bidi controls and line separators shown as escapes."""
    return _BIDI_ONLY.sub(_escape, text)
