"""What one call of a student function came to, as plain data, and the text
cleaning every string from the worker goes through before a report shows it."""
import re
import signal
from dataclasses import dataclass, field
from typing import Any

SIGNAL_TEXT = {
    signal.SIGSEGV: "crashed with a segmentation fault",
    signal.SIGKILL: "was killed (memory or process limit?)",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "crashed with a bus error",
    signal.SIGFPE: "crashed with a floating-point exception",
    signal.SIGXFSZ: "wrote a file over the size limit",
    signal.SIGSYS: "made a system call the sandbox forbids",
}


def clean(text, limit=None):
    """Text safe for a terminal and a JSON file: no control characters
    (escape sequences could repaint a terminal) and no lone surrogates."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub(lambda m: "\n" if m.group() == "\r" else "\ufffd", text)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def one_line(text, limit):
    return " ".join(clean(text, limit).split("\n"))


@dataclass
class Outcome:
    """What one call of a student function came to, as plain data."""

    fn: str
    ok: bool
    value: Any = None
    kind: str = ""  # "", "exception", "timeout", "crash", "load", "protocol", "skipped", "unrun" (early)
    error_type: str = ""
    message: str = ""
    where: list = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0
    args_after: list = field(default_factory=list)
    category: str = ""  # the worker's word on an exception: "memory", "recursion", "exit" or ""
    helpers: int = 0  # answers the reference helpers gave during the call

    def describe(self):
        """One or two lines for a student: what went wrong and where."""
        if self.ok:
            return ""
        text = self.message
        if self.kind == "exception":
            if self.error_type == "NotImplementedError":
                text = "not implemented yet (the function still raises NotImplementedError)"
            elif self.category == "memory":
                text = f"memory limit exceeded ({self.error_type})"
            elif self.category == "recursion":
                text = f"unbounded recursion ({self.error_type})"
            elif self.category == "exit" or not self.message:
                text = f"{self.fn}() raised {self.error_type}" + (f"({self.message})" if self.message else "")
                if self.category == "exit":
                    text += ": student code must not try to end the grading"
            else:
                text = f"{self.fn}() raised {self.error_type}: {self.message}"
        if self.where:
            last = self.where[-1]
            text += f"\n    at line {last.get('line')}: {last.get('code', '')}"
        return text


def where(data):
    """The student's lines of a traceback, as the worker reported them, checked and cleaned."""
    if type(data) is not list:
        return []
    return [{"line": d.get("line") if type(d.get("line")) is int else 0, "code": one_line(d.get("code", ""), 200)}
            for d in data[:3] if type(d) is dict]


def exit_text(code):
    """How a worker that stopped with `code` (negative: a signal) is described."""
    if code is None:
        return "stopped unexpectedly"
    if code < 0:
        return SIGNAL_TEXT.get(-code, f"was killed by signal {-code}")
    return f"exited with status {code} (sys.exit/os._exit in student code?)"
