"""Errors the course reports to people as one clear sentence, never as a traceback."""


class UserError(Exception):
    """Bad input or a missing prerequisite: the message says what happened and what to do.

    The ``asl-course`` command prints it on one line and exits with code 2.
    """
