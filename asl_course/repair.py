"""Old path of :mod:`asl_course.grading.instructor.repair`, kept for released notebooks and configurations: the same module."""

import sys

from asl_course.grading.instructor import repair as _module

sys.modules[__name__] = _module
