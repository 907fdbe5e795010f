"""The ``asl-course`` command line: one entry point, a subcommand per concern.

Each subcommand lives in its own module under :mod:`asl_course.tooling.commands`, which exposes
``register(subparsers)``; the module is imported only when the command line is built, and
its heavy imports (TensorFlow, nbgrader) happen inside its handler, so ``asl-course --help``
and ``asl-course data check`` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from asl_course import __version__
from asl_course.errors import UserError

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = ("data", "build", "translate", "run", "predict", "export", "serve", "intake", "repair", "grade", "similarity", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asl-course",
        description="The ASL data-augmentation course: data, editions, runs, predictions.",
    )
    parser.add_argument("--version", action="version", version=f"asl-course {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"asl_course.tooling.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not built yet in this checkout
            if exc.name != f"asl_course.tooling.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except UserError as exc:
        print(f"asl-course {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
