"""Old path of :mod:`asl_course.grading.plugins.sandbox`, kept for released notebooks and configurations: the same module."""

import sys

from asl_course.grading.plugins import sandbox as _module

sys.modules[__name__] = _module
