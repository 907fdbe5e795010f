"""The hidden tests' one line: a fresh copy of the grading code, loaded from its file, checks the work.

Each hidden test (between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` in
``source/NN/NN.ipynb``) is the one line :data:`HIDDEN_TEST` writes, for instance::

    __import__("asl_course.grading.fresh", fromlist=["check"]).check("test_labels", globals())

:func:`check` does not use the ``asl_course.grading`` module the kernel imported (the notebook's
code runs first in the same kernel and could have changed its functions or tables): it loads the
package again from its ``__init__.py`` (:func:`load`) under a private name registered in
``sys.modules`` first (its submodules and dataclasses look it up there), its submodules loaded
fresh with it (``asl_course/grading/__init__.py`` drops any stale ones), and calls that copy's
``check``. The file is the one the autograder names in ``$ASL_GRADING_CODE`` (its own copy of the
grading code, in the notebook's grading folder); outside the autograder (a student running the
notebook), the installed package's.

What this does not claim: in the kernel nothing is out of the notebook's reach, this module and
:mod:`importlib` included. A notebook that replaces the loader or the copy gets no raw values
recorded, or values the verifier rebuilds and judges itself: the verdict is taken outside the
kernel (:mod:`asl_course.grading.plugins.autograder`, ``VerifyOutsideKernel``), never here.

Imports nothing but the standard library and :mod:`.expected` (the variable's name).
"""

from __future__ import annotations

import importlib.util
import os
import sys

from .expected import GRADING_CODE_ENV

#: The private name the fresh copy is registered under in ``sys.modules``.
FRESH_NAME = "_asl_grading"
#: The hidden test of one exercise, as it is written in the source notebooks (format with grade_id).
HIDDEN_TEST = '__import__("asl_course.grading.fresh", fromlist=["check"]).check("{grade_id}", globals())'


def grading_code(required: bool = False) -> str:
    """The grading package's ``__init__.py`` to load: ``$ASL_GRADING_CODE`` (set by the autograder),
    else (unless ``required``) the installed package's."""
    path = os.environ.get(GRADING_CODE_ENV)
    if path:
        return path
    if required:
        raise KeyError(f"{GRADING_CODE_ENV} is not set: the autograder names its copy of the grading code there")
    return importlib.util.find_spec("asl_course.grading").origin


def load(required: bool = False):
    """A fresh copy of the grading package (never the module in ``sys.modules['asl_course.grading']``)."""
    spec = importlib.util.spec_from_file_location(FRESH_NAME, grading_code(required))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # first: its submodules and dataclasses need it there
    spec.loader.exec_module(module)
    return module


def check(grade_id: str, namespace: dict) -> None:
    """The hidden test of ``grade_id``, run by a fresh copy of the grading code on ``namespace``."""
    load().check(grade_id, namespace)
