"""What the instructor runs on a class's hand-ins, around nbgrader (ARCHITECTURE.md, "The grading's way").

- :mod:`.intake`: file an LMS's hand-ins under ``submitted/<student>/<assignment>/``.
- :mod:`.repair`: rebuild damaged submissions from the release, refuse what it must.
- :mod:`.parallel`: grade a class with several workers (or cluster shards) into one gradebook.
- :mod:`.similarity`: rank pairs of students whose answers are alike (``asl-course similarity``).

May import :mod:`asl_course.grading` and its :mod:`~asl_course.grading.plugins`, the data step
(:mod:`asl_course.dataset`: each worker's data), :mod:`asl_course.facts`, :mod:`asl_course.errors`
and nbgrader; never the learners' API nor :mod:`asl_course.tooling`. (The simulated class the
grading tests and benchmarks use is tooling: :mod:`asl_course.tooling.classroom`.)
"""
