"""Old path of :mod:`asl_course.tooling.runner`, kept for released notebooks and configurations: the same module."""

import sys

from asl_course.tooling import runner as _module

sys.modules[__name__] = _module
