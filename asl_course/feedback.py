"""Old path of :mod:`asl_course.grading.plugins.feedback`, kept for released notebooks and configurations: the same module."""

import sys

from asl_course.grading.plugins import feedback as _module

sys.modules[__name__] = _module
