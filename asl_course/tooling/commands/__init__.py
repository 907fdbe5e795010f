"""Subcommands of ``asl-course``: one module each, each with ``register(subparsers)``."""
