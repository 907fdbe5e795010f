"""nbgrader configuration of the ASL data-augmentation course.

The course directory is this repository: ``source/`` (instructor notebooks, the single
source of truth), ``release/`` (generated student edition, committed), and the per-class
folders ``submitted/``, ``autograded/``, ``feedback/`` (git-ignored). See README, "Instructors".
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "asl-augmentation"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")

# What a student sees in place of each answer.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
