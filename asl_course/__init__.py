"""asl_course: the helper package of the ASL data-augmentation course.

Its parts are folders (ARCHITECTURE.md, "Where each part lives"); each one's ``__init__.py``
says what it is for and what it may import:

- :mod:`asl_course.facts`, :mod:`asl_course.errors`: the lesson's facts, stated once; errors that
  print as one sentence.
- :mod:`asl_course.dataset`: the data step (fetch, import, check, install, find and load Sign
  Language MNIST; the synthetic stand-in), one module per concern.
- :mod:`asl_course.learners`: what notebooks import: ``lesson`` (the reference steps),
  ``notebook`` (setup, figures), ``checks`` (the visible self-checks), ``selfstudy``,
  ``predict``, ``evaluation``, ``augment``, ``recipe``.
- :mod:`asl_course.grading`: the hidden tests and verdicts; :mod:`asl_course.grading.plugins`:
  the nbgrader plugins and the verifier, harness and sandbox they start;
  :mod:`asl_course.grading.instructor`: intake, repair, parallel grading.
- :mod:`asl_course.tooling`: the editions, ``asl-course run``/``bench``, the simulated class,
  the ``asl-course`` command (``tooling.cli``, ``tooling.commands``).

The course's API, what notebooks and ``nbgrader_config.py`` import, is ``asl_course.learners.*``
and ``asl_course.grading.plugins.*`` (ARCHITECTURE.md, "The public surface"). :data:`MOVED` lists
the flat names that older releases imported, still found for their hand-ins and configurations.
"""

import importlib as _importlib
import importlib.util as _importlib_util
import os as _os
import sys as _sys

__version__ = "0.1.0"

#: The flat paths that older releases used, and the modules they name now: released notebooks
#: imported ``from asl_course import notebook, checks`` (and lesson, evaluation, predict,
#: selfstudy), nbgrader configurations named ``asl_course.autograder.GuardedExecute`` and
#: ``asl_course.feedback.SanitizeStudentHTML``. A hand-in made from such a release (its setup cell
#: is the student's copy; its test cells come back from a gradebook made then) or a configuration
#: copied from it still imports them: the name gives the new module itself. Nothing in this
#: repository imports them (tests/test_layout.py); no other flat path exists.
MOVED = {
    **{name: f"asl_course.learners.{name}" for name in ("checks", "evaluation", "lesson", "notebook", "predict", "selfstudy")},
    **{name: f"asl_course.grading.plugins.{name}" for name in ("autograder", "feedback")},
}


class MovedFinder:
    """Finds ``asl_course.<old name>`` of :data:`MOVED`; loading it puts the new module in its place
    (``import asl_course.autograder`` and ``from asl_course import checks`` give the same module
    object as the new path, so a monkeypatch of either reaches the code)."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        if package == __name__ and name in MOVED:
            return _importlib_util.spec_from_loader(fullname, MovedFinder)
        return None

    @staticmethod
    def create_module(spec):
        return None  # the import system's empty module, replaced by exec_module

    @staticmethod
    def exec_module(module):
        name = module.__name__.rpartition(".")[2]
        _sys.modules[module.__name__] = _importlib.import_module(MOVED[name])


# Last: every module that exists is found first. Once per interpreter (a reload keeps the first).
if not any(getattr(f, "__module__", None) == __name__ and getattr(f, "__name__", None) == "MovedFinder" for f in _sys.meta_path):
    _sys.meta_path.append(MovedFinder)

# Quiet start: TensorFlow's C++ INFO and WARNING lines ("This TensorFlow binary is optimized
# ...", oneDNN, TF-TRT) are not for learners. Every setup cell imports asl_course before
# TensorFlow; a value set by the learner is kept. (asl_course.learners.notebook also filters what this
# cannot hide: absl's lines before its initialisation, on GPU runtimes.)
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
