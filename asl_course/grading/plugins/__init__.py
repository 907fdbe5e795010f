"""The nbgrader plugins and the grading runtime they start (ARCHITECTURE.md, "The grading's way").

- :mod:`.autograder`: ``GuardedExecute`` and ``VerifyOutsideKernel`` (named in nbgrader_config.py:
  the course's API, ARCHITECTURE.md "The public surface"): the grading folder, the sandboxed kernel, the records secured after each test cell.
- :mod:`.verifier`: the verifier process, which judges every exercise outside the kernel.
- :mod:`.harness`: notebooks 5 and 7's functions run afresh for the verifier.
- :mod:`.sandbox`: bubblewrap around every piece of student code.
- :mod:`.feedback`: ``HideHiddenTests`` and ``SanitizeStudentHTML`` for ``nbgrader generate_feedback``.

May import :mod:`asl_course.grading` (the hidden tests and verdicts), the learners' API (the
harness runs notebook 5's reference helpers), :mod:`asl_course.facts`, :mod:`asl_course.errors`
and nbgrader; not :mod:`asl_course.grading.instructor` nor :mod:`asl_course.tooling`.
Importing :mod:`asl_course.grading` does not import this package: the kernel never loads it.
"""
