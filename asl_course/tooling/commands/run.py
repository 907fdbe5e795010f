"""``asl-course run [--fast]``: execute the solved notebooks in order, headless."""

from __future__ import annotations

from pathlib import Path

from asl_course.errors import UserError


def register(sub) -> None:
    parser = sub.add_parser("run", help="run the solved notebooks in order (the course's main job)")
    parser.add_argument("--fast", action="store_true", help="fast mode: a subset and few epochs")
    parser.add_argument("--out", type=Path, default=Path("output"), help="output folder (default: ./output)")
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: found as notebooks find it)")
    parser.add_argument("--cell-timeout", type=int, default=7200,
                        help="seconds a cell may run (default 7200: the full training cell takes ~7 min on 2 idle cores)")
    parser.add_argument("--lang", default="en", choices=("en", "ko"),
                        help="the language of the solved notebooks run (ko: ko/solutions/; default: en)")
    parser.add_argument("--only", nargs="*", default=None, metavar="NAME", help="run only these notebooks (e.g. 01 04)")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from asl_course import dataset as data
    from asl_course.tooling import editions, runner

    root = editions.repo_root()
    folder = root / "solutions" if args.lang == "en" else root / args.lang / "solutions"
    notebooks = sorted(folder.glob("*.ipynb"))
    if args.only:
        notebooks = [p for p in notebooks if any(p.stem.startswith(o) for o in args.only)]
    if not notebooks:
        raise UserError(f"no solution notebooks found in {folder} (run `asl-course build`)")
    data_dir = data.locate(args.data)
    print(data.describe(data_dir))
    report = runner.run_notebooks(notebooks, args.out, fast=args.fast, data_dir=data_dir,
                                  cell_timeout=args.cell_timeout)
    total = sum(n["seconds"] for n in report["notebooks"])
    print(f"Done: {len(notebooks)} notebooks in {total:.0f} s; outputs in {args.out}/ (run.json, figures/)")
    return 0
