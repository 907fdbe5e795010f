"""Errors the course reports to people as one clear sentence, never as a traceback."""
from __future__ import annotations


class UserError(Exception):
    """Bad input or a missing prerequisite: the message says what happened and what to do.

    The ``asl-course`` command prints it on one line and exits with code 2.
    """


def one_line(exc: BaseException | str, limit: int = 300) -> str:
    """An error (or text) as one line of at most ``limit`` characters, for a one-line message.

    Not ``textwrap.shorten``: it drops a word that does not fit whole, so a message that is one
    long path or token would shrink to "...".
    """
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
