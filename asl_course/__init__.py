"""asl_course: the helper package of the ASL data-augmentation course.

Its parts are folders (ARCHITECTURE.md, "Where each part lives"); each one's ``__init__.py``
says what it is for and what it may import:

- :mod:`asl_course.facts`, :mod:`asl_course.errors`: the lesson's facts, stated once; errors that
  print as one sentence.
- :mod:`asl_course.dataset`: the data step (fetch, import, check, install, find and load Sign
  Language MNIST; the synthetic stand-in), one module per concern; also ``asl_course.data``.
- :mod:`asl_course.learners`: what notebooks import: ``lesson`` (the reference steps),
  ``notebook`` (setup, figures), ``checks`` (the visible self-checks), ``selfstudy``,
  ``predict``, ``evaluation``, ``augment``.
- :mod:`asl_course.grading`: the hidden tests and verdicts; :mod:`asl_course.grading.plugins`:
  the nbgrader plugins and the verifier, harness and sandbox they start;
  :mod:`asl_course.grading.instructor`: intake, repair, parallel grading.
- :mod:`asl_course.tooling`: the editions, ``asl-course run``/``bench``, the simulated class,
  the ``asl-course`` command (``tooling.cli``, ``tooling.commands``).

The old flat paths (``asl_course.lesson``, ``asl_course.data``, ``asl_course.autograder``, ...)
are aliases: importing one gives the module of its part itself, so released notebooks and
nbgrader configurations keep working.
"""

import os as _os

__version__ = "0.1.0"

# Quiet start: TensorFlow's C++ INFO and WARNING lines ("This TensorFlow binary is optimized
# ...", oneDNN, TF-TRT) are not for learners. Every setup cell imports asl_course before
# TensorFlow; a value set by the learner is kept. (asl_course.learners.notebook also filters what this
# cannot hide: absl's lines before its initialisation, on GPU runtimes.)
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
