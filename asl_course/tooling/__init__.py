"""The tooling: the instructor's and the contributors' commands (ARCHITECTURE.md, "Where each part lives").

- :mod:`.editions`: build and drift-check ``release/``, ``notebooks/``, ``solutions/`` from ``source/``.
- :mod:`.runner`: run the solved notebooks headless (``asl-course run``).
- :mod:`.bench`: benchmarks that print measured figures (``asl-course bench``).
- :mod:`.robustness`: recipes measured on the camera-shift suite, and random against family
  validation splits (``asl-course bench robustness``, ``asl-course bench splits``).
- :mod:`.classroom`: nbgrader's whole workflow on a throwaway course with simulated students
  (the grading tests, ``asl-course bench grading``).
- :mod:`.cli` and :mod:`.commands`: the ``asl-course`` command, one module per subcommand.

May import every other part; nothing imports the tooling but ``python -m asl_course`` and the
``asl-course`` entry point (and the tests).
"""
