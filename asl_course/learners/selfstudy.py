"""The self-study edition's exercise cells: *Run All* goes on, and a learner's own answer is kept.

In ``notebooks/`` (built by :func:`asl_course.tooling.editions.make_selfstudy`) each exercise is three
cells: the learner's cell (``# YOUR CODE HERE``, it does not raise), the self-check, then the
answer, hidden in JupyterLab and on Colab. The self-check runs inside :func:`self_check`: a
mistake (or an exercise not done yet) is reported in one message instead of stopping *Run All*,
and the result is remembered. The answer cell runs the answer only if :func:`use_answer` says
so, that is, unless the learner's own code passed its self-check; so a correct answer of the
learner's is never overwritten (re-running ``x = x / 255`` would divide twice).
"""

from __future__ import annotations

import contextlib

from asl_course.i18n import t

#: exercise (the answer cell's nbgrader grade_id) -> did its self-check pass last time it ran
_passed: dict[str, bool] = {}


def _report(exc: BaseException) -> str:
    """What a failed self-check says: its own short rendering, never a traceback."""
    render = getattr(exc, "_render_traceback_", None)  # the course's self-checks have one
    if callable(render):
        try:
            return "\n".join(str(line) for line in render()).rstrip()
        except Exception:  # noqa: BLE001 - fall back to the plain message
            pass
    if isinstance(exc, NameError) and getattr(exc, "name", None):
        return t("\u2718 Not done yet: define `{name}` in the cell above, run it, then this self-check.",
                 name=exc.name)
    text = str(exc).strip() if isinstance(exc, AssertionError) else f"{type(exc).__name__}: {exc}"
    return t("\u2718 Self-check failed: {text}", text=text or t("no message"))


@contextlib.contextmanager
def self_check(exercise: str):
    """Run a self-check; on a mistake print what is wrong (Run All goes on) and remember it."""
    _passed[exercise] = False
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - any error means "not passed"; KeyboardInterrupt still stops
        print(_report(exc))
        print(t(
            "  Or run the answer cell below (hidden: click it to see it): it fills this exercise in,\n"
            "  and the notebook goes on with it."
        ))
    else:
        _passed[exercise] = True


def use_answer(exercise: str) -> bool:
    """Should the hidden answer cell run its answer? Not if the learner's code passed its self-check."""
    if _passed.get(exercise):
        print(t(
            "\u2714 Your code passed the self-check above, so it is kept: this answer cell ran "
            "nothing. Click the cell to compare your code with the answer."
        ))
        return False
    print(t("Running the answer (your code has not passed the self-check above); the notebook goes on with it."))
    return True


def reset() -> None:
    """Forget every recorded self-check (tests; a learner restarting the kernel gets this too)."""
    _passed.clear()
