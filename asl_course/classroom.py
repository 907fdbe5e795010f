"""Old path of :mod:`asl_course.tooling.classroom`, kept for released notebooks and configurations: the same module."""

import sys

from asl_course.tooling import classroom as _module

sys.modules[__name__] = _module
