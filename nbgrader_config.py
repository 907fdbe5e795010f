"""nbgrader configuration of the ASL data-augmentation course.

The course directory is this repository: ``source/`` (instructor notebooks, the single
source of truth), ``release/`` (generated student edition, committed), and the per-class
folders ``submitted/``, ``autograded/``, ``feedback/`` and ``gradebook.db`` (git-ignored).
See README, "Instructors", and ``asl_course.grading.plugins.autograder`` for what each setting defends against.
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "asl-augmentation"
# The gradebook: one SQLite file in the course folder.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# What a student sees in place of each answer.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# --- Releasing -----------------------------------------------------------------------------------
# nbgrader's own steps, then the course's (asl_course.tooling.editions.ReleaseEdition): the setup
# cell locked, "(read-only)" in each locked cell's first line, the Open-in-Colab badge and the
# setup cell's install pointing where the course is published (pyproject.toml: Repository under
# [project.urls], branch under [tool.asl-course]). So `nbgrader generate_assignment A --force`
# writes release/ exactly as `asl-course build` does (tests/test_editions.py compares them).
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",  # the gradebook keeps the instructor's cells, before what follows
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
    "asl_course.tooling.editions.ReleaseEdition",
]

# --- Autograding ---------------------------------------------------------------------------------
# nbgrader's pipeline with two course plugins (asl_course.grading.plugins.autograder):
# - GuardedExecute instead of Execute: a grading folder per notebook (fresh data copy, the
#   course package as it was when grading started, reference data), fast mode, per-cell time
#   limits, and a kernel that dies or hangs stops only its own notebook;
#   each kernel runs in a bubblewrap sandbox of its own (asl_course.grading.plugins.sandbox): it sees the system
#   and its own folders only (not this course folder, the gradebook, this file, other students,
#   the verifier), read-only but for its notebook's folder, has no network, runs as an
#   unprivileged user, and everything it starts dies with it;
# - VerifyOutsideKernel before SaveAutoGrades: every exercise is judged again in a separate
#   process that the students' code never reaches (models reloaded, accuracy re-measured).
c.Autograde.autograde_preprocessors = [
    "asl_course.grading.plugins.autograder.GuardedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "asl_course.grading.plugins.autograder.VerifyOutsideKernel",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Per-cell time limits (seconds): an infinite loop is interrupted and scores 0, and grading
# goes on. Fast-mode figures on 2 CPU cores (2026-11-28, real data): setup cell 5 s, notebook 4's
# training cell 43-84 s (one epoch, 858 steps), notebook 5's catch-up training about 50 s.
# Grading refuses to start without bubblewrap (`apt-get install bubblewrap`). "none" runs kernels
# as the grader, unsandboxed: only where every grading job already runs in a container of its own.
c.GuardedExecute.sandbox = "bubblewrap"
# The per-cell limits are GuardedExecute's defaults, stated once in asl_course/grading/plugins/autograder.py:
# `timeout` (any cell) 60 s, `first_cell_timeout` (setup: TensorFlow import, data, catch-up)
# 240 s, `cell_timeouts` by grade_id (notebook 4's training cell "fit" 600 s, ...). Override
# them here for a slower machine, e.g.:
#   from asl_course.grading.plugins.autograder import CELL_TIMEOUTS
#   c.GuardedExecute.cell_timeouts = dict(CELL_TIMEOUTS, fit=1200)
# Resource limits of each notebook's sandbox (asl_course/grading/plugins/limits.py; defaults, and
# the honest peaks they are sized from, in GuardedExecute's traits; the README's "Resource limits"
# says what bounds each in each setup): `memory_limit` 4 GiB (all its processes together; without
# cgroups, each process), `max_processes` 512 (processes and threads), `disk_limit` 128 MiB (its
# folder and its /tmp; no file over 512 MiB), `notebook_timeout` 1800 s (a whole notebook;
# `notebook_timeouts` by notebook name). Honest grading peaked at 1.6 GiB, 37 tasks, 4.3 MiB
# (2 CPU cores, real data, 2026-12-07). Over a limit, that cell (memory, processes, time: and the
# rest of the notebook) scores 0 with a message naming the limit. E.g. a GPU grader whose log
# shows larger peaks: c.GuardedExecute.memory_limit = 8 * 2**30
# A deleted or emptied test cell is put back from the gradebook (and scores what it finds).
c.OverwriteCells.add_missing_cells = True
# Outputs kept in the autograded notebooks (and feedback) per cell.
c.LimitOutput.max_lines = 200

# --- Validation: `nbgrader validate` and JupyterLab's *Validate* button ------------------------------
# nbgrader's Validator runs each cell under its stock Execute preprocessor, whose one limit is 30 s:
# notebook 4's training cell and notebook 5's catch-up training (when asl_model.keras is missing)
# take longer, and a right notebook failed ("history is not defined"). A validation trains what
# grading trains (fast mode whatever ASL_COURSE_FAST says: one epoch of 858 steps on the real data,
# asl_course.learners.lesson.fast_mode), on the student's own machine, which may be slower or busier than the
# grader's: any of its cells may run 1200 s, twice the autograder's longest per-cell limit (the
# training cell's 600 s). Measured on 2 CPU cores (real data): the epoch took 43-84 s on an idle
# machine (2026-11-28) and over 600 s with the load average at 20 (2026-12-07), where 600 s stopped
# it. A cell that hangs holds a validation for 20 minutes at most. `c.Validator.Execute` reaches only
# the validator's Execute (`c.Execute` would also set the autograder's GuardedExecute, a subclass).
# The Validate button reads this file from the folder JupyterLab was started in: start it here.
c.Validator.Execute.timeout = 1200

# --- Feedback ------------------------------------------------------------------------------------
# Show each mistake's message, never the hidden tests or their tracebacks (nbgrader issue 917).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "asl_course.grading.plugins.feedback.HideHiddenTests",
    # No <script>, event handler or external resource from a student's markdown or outputs.
    "asl_course.grading.plugins.feedback.SanitizeStudentHTML",
]
# The formgrader's pages (and every HTML export with this configuration) are sanitized the same way.
c.HTMLExporter.preprocessors = ["asl_course.grading.plugins.feedback.SanitizeStudentHTML"]
