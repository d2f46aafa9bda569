"""Problems found in flow files, each pinned to `file:line:col` so staff fix them in one pass."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from difflib import get_close_matches

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One error or warning, with a 1-based line and column."""

    path: str
    line: int
    col: int
    severity: str
    message: str
    detail: str = field(default="", compare=False)
    """Lines shown under the problem (the file around it, with a caret); may be empty."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"

    def render(self) -> str:
        """The problem, then its detail lines indented (what commands print for staff)."""
        if not self.detail:
            return str(self)
        return str(self) + "\n" + "\n".join("    " + ln for ln in self.detail.splitlines())


class FlowError(Exception):
    """Raised when flows cannot be loaded; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        errors = [p for p in self.problems if p.severity == ERROR]
        super().__init__("\n".join(str(p) for p in errors) or "flows have errors")


def did_you_mean(word: str, known: list[str] | tuple[str, ...] | set[str]) -> str:
    """A ' (did you mean "x"?)' hint, or an empty string when nothing is close."""
    close = get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


class Collector:
    """Collects problems for one file; the parsers call `error` and `warn` and go on."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def error(self, pos: tuple[int, int], message: str, detail: str = "") -> None:
        """Record an error at a (line, col) position (detail: lines shown under it)."""
        self.problems.append(Problem(self.path, pos[0], pos[1], ERROR, message, detail))

    def warn(self, pos: tuple[int, int], message: str) -> None:
        """Record a warning at a (line, col) position."""
        self.problems.append(Problem(self.path, pos[0], pos[1], WARNING, message))


def problem_key(problem: Problem) -> tuple[str, str, str]:
    """What stays the same when lines move: the file's name, the severity and the message."""
    return (problem.path.replace("\\", "/").rsplit("/", 1)[-1], problem.severity, problem.message)


def added(problems: list[Problem], before: list[tuple[str, str, str]]) -> list[Problem]:
    """The problems that `before` (keys of an earlier run) did not have, each as often as new."""
    left = Counter(before)
    new = []
    for problem in sorted(problems):
        key = problem_key(problem)
        if left[key]:
            left[key] -= 1
        else:
            new.append(problem)
    return new
