"""A progress line for long runs: counts, rate and the time left.

On a terminal it redraws one line in place; in a log it prints a line each
time another tenth of the work is done, so logs stay short.
"""
from __future__ import annotations

import sys
import time

WIDTH = 24


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return (f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600
            else f"{seconds // 60}:{seconds % 60:02d}")


class Progress:
    """Progress of `total` tasks; `advance(**counts)` after each one."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0
        self.started = time.monotonic()
        self.last_tenth = 0
        self.closed = False

    def line(self, counts: dict) -> str:
        elapsed = time.monotonic() - self.started
        filled = WIDTH * self.done // max(self.total, 1)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else None
        shown = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        eta = f"ETA {clock(left)}" if left is not None and self.done < self.total else f"in {clock(elapsed)}"
        return f"[{'#' * filled}{'.' * (WIDTH - filled)}] {self.done}/{self.total}  {shown}  {rate:.1f}/s  {eta}"

    def advance(self, **counts) -> None:
        self.done += 1
        if self.tty:
            self.stream.write("\r\033[K" + self.line(counts))
            self.stream.flush()
            return
        tenth = 10 * self.done // max(self.total, 1)
        if tenth > self.last_tenth or self.done == self.total:
            self.last_tenth = tenth
            self.stream.write(self.line(counts) + "\n")
            self.stream.flush()

    def note(self, text: str) -> None:
        """A line of its own above the progress line (which the next `advance` redraws)."""
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the progress line (once: closing again does nothing)."""
        if self.tty and self.done and not self.closed:
            self.stream.write("\n")
            self.stream.flush()
        self.closed = True
