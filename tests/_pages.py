"""Feedback pages for the feedback tests: a notebook through the course's sanitizer, and the
HTML page nbconvert makes of it (what generate_feedback shows)."""

from asl_course import feedback


def sanitized(nb):
    nb, _ = feedback.SanitizeStudentHTML().preprocess(nb, {})
    return nb


def page(nb):
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(nb)
    return html
