"""Old path of :mod:`asl_course.learners.notebook`, kept for released notebooks and configurations: the same module."""

import sys

from asl_course.learners import notebook as _module

sys.modules[__name__] = _module
