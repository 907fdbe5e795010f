"""Old path of :mod:`asl_course.tooling.commands`: the same package, and its subcommand modules
under their old names too (``asl_course.commands.build`` is ``asl_course.tooling.commands.build``)."""

import importlib
import pkgutil
import sys

from asl_course.tooling import commands as _package

for _info in pkgutil.iter_modules(_package.__path__):
    sys.modules[f"{__name__}.{_info.name}"] = importlib.import_module(f"{_package.__name__}.{_info.name}")
sys.modules[__name__] = _package
