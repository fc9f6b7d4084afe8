"""Lines of rnn_core's own source, read at run time, for a page to show beside the math they compute.

An excerpt is found by markers: text that already stands in the code (a comment such as
`# W h(t-1)`, a distinctive statement). So the lines shown cannot drift from the code that runs: a
rename or a rewrite that drops a marker raises LookupError, and a test that reads every excerpt the
app uses fails, rather than the page quietly showing stale lines.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project folder: paths are shown relative to it


@dataclass(frozen=True)
class Excerpt:
    path: str      # e.g. "rnn_core/model.py"
    function: str  # qualified name, e.g. "forward" or "Adam._update"
    first: int     # line numbers in the file, 1-based, inclusive
    last: int
    code: str      # the lines, dedented

    @property
    def where(self) -> str:
        return f"{self.path}, {self.function}(), lines {self.first}–{self.last}"


def excerpt(fn: Callable, start: str, end: str | None = None) -> Excerpt:
    """The lines of `fn` from the first that contains `start` through the first one from there on
    that contains `end` (just the start line when `end` is None). LookupError when a marker is
    not in fn's source."""
    lines, first_line = inspect.getsourcelines(fn)
    name = fn.__qualname__
    i = _find(lines, start, 0, name)
    j = i if end is None else _find(lines, end, i, name)
    path = Path(inspect.getsourcefile(fn) or "?").resolve()
    shown = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    return Excerpt(shown, name, first_line + i, first_line + j,
                   textwrap.dedent("".join(lines[i : j + 1])).rstrip("\n"))


def _find(lines: list[str], marker: str, start: int, name: str) -> int:
    for k in range(start, len(lines)):
        if marker in lines[k]:
            return k
    raise LookupError(f"{marker!r} is not in the source of {name} (was it renamed?)")


def listing(excerpts: list[Excerpt]) -> str:
    """Excerpts as one block of Python, each headed by a comment that says where it stands."""
    return "\n\n".join(f"# {e.where}\n{e.code}" for e in excerpts)
