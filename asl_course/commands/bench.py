"""``asl-course bench ...``: benchmarks that print measured figures."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    parser = sub.add_parser("bench", help="benchmarks: training time and accuracy figures")
    what = parser.add_subparsers(dest="bench", metavar="BENCH")
    train = what.add_parser("training", help="the lesson's training run, timed per epoch")
    train.add_argument("--no-augmentation", action="store_true", help="train on the plain images (the baseline)")
    train.add_argument("--fast", action="store_true", help="fast mode instead of the full run")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--json", type=Path, help="also write the report to this file")
    train.add_argument("--record-baseline", action="store_true",
                       help="store the run as notebook 4's reference baseline (full, no augmentation, real data)")
    train.set_defaults(handler=handle_training)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)


def handle_training(args) -> int:
    from asl_course import bench
    from asl_course.errors import UserError

    report = bench.training(augment=not args.no_augmentation, fast=args.fast, seed=args.seed)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    if args.record_baseline:
        try:
            bench.record_baseline(report)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        print("recorded the reference baseline")
    return 0
