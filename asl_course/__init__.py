"""asl_course: the helper package of the ASL data-augmentation course.

One module per concern:

- :mod:`asl_course.data`: fetch/import/verify the Sign Language MNIST release, the
  synthetic stand-in, and :func:`asl_course.data.locate` / :func:`asl_course.data.load_arrays`
  for notebooks and tests.
- :mod:`asl_course.lesson`: the reference implementation of each lesson step.
- :mod:`asl_course.checks`: self-checks (visible) and grading checks (hidden tests).
- :mod:`asl_course.editions`: generate and drift-check release/, notebooks/, solutions/.
- :mod:`asl_course.runner`: run the solution notebooks headless.
- :mod:`asl_course.cli`: the ``asl-course`` command.
"""

import os as _os

__version__ = "0.1.0"

# Quiet start: TensorFlow's C++ INFO and WARNING lines ("This TensorFlow binary is optimized
# ...", oneDNN, TF-TRT) are not for learners. Every setup cell imports asl_course before
# TensorFlow; a value set by the learner is kept. (asl_course.notebook also filters what this
# cannot hide: absl's lines before its initialisation, on GPU runtimes.)
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: The course's public repository; Colab badges and the Colab setup cell are built from it.
REPO_URL = "https://github.com/asl-course/asl-augmentation"
#: The branch Colab badges point at.
REPO_BRANCH = "main"
