"""Old path of :mod:`asl_course.dataset.synthetic`, kept for released notebooks and configurations: the same module."""

import sys

from asl_course.dataset import synthetic as _module

sys.modules[__name__] = _module
