"""Old path of :mod:`asl_course.grading.plugins.autograder`, kept for released notebooks and configurations: the same module."""

import sys

from asl_course.grading.plugins import autograder as _module

sys.modules[__name__] = _module
