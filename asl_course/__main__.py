"""``python -m asl_course`` is the same as the ``asl-course`` command."""

import sys

from asl_course.tooling.cli import main

sys.exit(main())
