"""The learners' API: what the course's notebooks import (ARCHITECTURE.md, "Where each part lives").

- :mod:`.lesson`: the reference implementation of each lesson step (catch-up cells, tests, benchmarks).
- :mod:`.notebook`: the setup cell's work (data, Colab, Drive) and the notebooks' figures.
- :mod:`.checks`: the visible self-checks; each test cell then runs grading's hidden test.
- :mod:`.mistakes`: how a self-check says a mistake (``SelfCheckFailed``, ``fail``), below checks, predict, evaluation.
- :mod:`.selfstudy`: the self-study edition's exercise wrapper (*Run All* goes on).
- :mod:`.predict`: notebook 5 and ``asl-course predict``: pictures in, letters out.
- :mod:`.evaluation`: confusion matrix, per-letter accuracy, mistakes.
- :mod:`.augment`: the lesson's augmentation three ways (generator, layers, tf.data).
- :mod:`.shifts`: the camera-shift suite (kinds a webcam brings, at 5 severities; design and held-out kinds).
- :mod:`.camera`: notebook 5's own hand: the camera widget, Colab's route, an upload; never waits headless.

May import: :mod:`asl_course.facts`, :mod:`asl_course.errors`, :mod:`asl_course.dataset`, the
grading package's own modules (:mod:`asl_course.grading`, what the hidden tests run) and each
other; never :mod:`asl_course.grading.plugins`, :mod:`asl_course.grading.instructor`,
:mod:`asl_course.tooling` nor nbgrader (tests/test_layout.py). Notebooks import these by their
paths (``from asl_course.learners import notebook, checks``): the course's API (ARCHITECTURE.md,
"The public surface"); an older release's ``from asl_course import notebook`` gives the same module
(``asl_course.MOVED``).
"""
