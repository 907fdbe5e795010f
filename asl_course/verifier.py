"""Old path of :mod:`asl_course.grading.plugins.verifier`, kept for released notebooks and configurations: the same module."""

import sys

from asl_course.grading.plugins import verifier as _module

sys.modules[__name__] = _module
