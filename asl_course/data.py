"""Old path of :mod:`asl_course.dataset` (the data step, one module per concern), kept for
released notebooks: the same module object, with every name the old module had."""

import sys

from asl_course import dataset as _module

sys.modules[__name__] = _module
