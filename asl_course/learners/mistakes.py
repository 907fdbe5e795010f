"""How a self-check says a mistake: :class:`SelfCheckFailed` and :func:`fail`.

Below :mod:`.checks`, :mod:`.predict` and :mod:`.evaluation`, which all raise it (notebook 5's
self-checks live beside the code they check), so none of them imports another for it.
"""

from __future__ import annotations

from asl_course.i18n import lookup, mark, t

_RED, _BOLD, _RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"


class SelfCheckFailed(AssertionError):
    """A self-check found a mistake; the message names it and the fix.

    IPython calls ``_render_traceback_`` instead of printing a traceback: the learner sees a
    heading and the message, and the cell still records an error (nbgrader: failed).
    """

    heading = mark("Self-check failed")  # shown in the learner's language (lookup)

    def _render_traceback_(self) -> list[str]:
        lines = [line for line in str(self).splitlines() if line.strip()]
        return [f"{_RED}{_BOLD}\u2718 {lookup(self.heading)}{_RESET}"] + [
            f"  {line.strip()}" if not line.startswith("  ") else line for line in lines]


class NotDoneYet(SelfCheckFailed):
    """The exercise's variables are not defined: the exercise above has not been run (or it failed)."""

    heading = mark("Not done yet")


def fail(mistake: str, fix: str) -> None:
    """Raise :class:`SelfCheckFailed` naming ``mistake`` and its ``fix``."""
    raise SelfCheckFailed(t("\n  Mistake: {mistake}\n  Fix: {fix}", mistake=mistake, fix=fix))
