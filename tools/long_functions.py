"""Count the functions longer than a limit (default 50 lines) in a package.

    python tools/long_functions.py [FOLDER ...] [--limit 50] [--list]

A function's length is its ``def`` line to its last line (decorators and docstring included,
nested functions counted inside their parent and also on their own), as ``ast`` gives it.
Issue 25 measured asl_course/ with it (nbgrader's package: 9 at the same limit).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path


def long_functions(folder: Path, limit: int = 50) -> list[tuple[int, str]]:
    """(length, "path:line name") of every function in ``folder``'s .py files longer than ``limit``."""
    found = []
    for path in sorted(Path(folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    found.append((length, f"{path}:{node.lineno} {node.name}"))
    return sorted(found, reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", default=["asl_course"])
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--list", action="store_true", help="name each function, longest first")
    args = parser.parse_args(argv)
    for folder in args.folders:
        found = long_functions(Path(folder), args.limit)
        if args.list:
            for length, where in found:
                print(f"{length:5d}  {where}")
        print(f"{folder}: {len(found)} functions over {args.limit} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
