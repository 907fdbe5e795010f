"""Grading's words in the learner's language: :func:`t`, :func:`lookup`, :func:`mark` of
:mod:`asl_course.i18n`, reached without importing ``asl_course`` in a hidden test's fresh copy.

The package itself (``asl_course.grading``: the self-checks, the verifier) uses
:mod:`asl_course.i18n`. A fresh copy of the package (:mod:`.fresh`, registered under a private
name) must import nothing from ``asl_course`` (see the package's docstring: the notebook's code
may have changed it in the kernel), so it loads its own copy of ``i18n.py`` from the folder that
holds the copied package (the autograder copies the whole course package, catalogs included:
``pkg/asl_course/i18n.py`` and ``pkg/asl_course/locale``), as its submodule ``<copy>.i18n``,
dropped and loaded again with each fresh copy. ``i18n.py`` imports only the standard library.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if __package__ == "asl_course.grading":
    from asl_course import i18n
else:  # a fresh copy
    _spec = importlib.util.spec_from_file_location(f"{__package__}.i18n", Path(__file__).resolve().parent.parent /
                                                   "i18n.py")
    i18n = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = i18n  # first: its dataclasses look their module up there
    _spec.loader.exec_module(i18n)

t, lookup, mark = i18n.t, i18n.lookup, i18n.mark
