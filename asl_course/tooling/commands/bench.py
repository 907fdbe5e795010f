"""``asl-course bench ...``: benchmarks that print measured figures."""

from __future__ import annotations

import json
from pathlib import Path

from asl_course import facts
from asl_course.errors import UserError


def register(sub) -> None:
    parser = sub.add_parser("bench", help="benchmarks: training time and accuracy figures, grading time, the data step")
    what = parser.add_subparsers(dest="bench", metavar="BENCH")
    train = what.add_parser("training", help="the lesson's training run, timed per epoch")
    train.add_argument("--no-augmentation", action="store_true", help="train on the plain images (the baseline)")
    train.add_argument("--fast", action="store_true", help="fast mode instead of the full run")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--json", type=Path, help="also write the report to this file")
    train.add_argument("--record-baseline", action="store_true",
                       help="store the run as notebook 4's reference baseline (full, no augmentation, real data)")
    train.set_defaults(handler=handle_training)
    grade = what.add_parser("grading", help="seconds per graded submission (nbgrader autograde on a throwaway course)")
    grade.add_argument("--only", nargs="*", default=None, metavar="NAME", help="assignments (e.g. 01 04); default all")
    grade.add_argument("--students", type=int, default=None,
                       help="solution submissions per assignment, plus one release (default 2; 4 with --workers)")
    grade.add_argument("--workers", type=int, default=None,
                       help="grade the class with 1 and with N parallel workers (asl-course grade): throughput")
    grade.add_argument("--keep", type=Path, default=None, help="grade in this folder and keep it")
    grade.add_argument("--json", type=Path, help="also write the report to this file")
    grade.set_defaults(handler=handle_grading)
    dat = what.add_parser("data", help="seconds to import the release, to import it again (a no-op), and to "
                                       "write the synthetic stand-in")
    dat.add_argument("source", nargs="*", type=Path,
                     help="the release's files or zip (default: ../shared/asl_data beside the repository, if present)")
    dat.add_argument("--json", type=Path, help="also write the report to this file")
    dat.set_defaults(handler=handle_data)
    aug = what.add_parser("augmentation", help="epoch time with no augmentation, ImageDataGenerator, preprocessing "
                                              "layers in the model, tf.data and the fused way, as ratios to no "
                                              "augmentation")
    aug.add_argument("--steps", type=int, default=None,
                     help="time N steps per way instead of a full epoch (858 steps on the real data)")
    aug.add_argument("--rounds", type=int, default=5,
                     help="the ways take turns this many times; each way's time is its fastest round")
    aug.add_argument("--seed", type=int, default=0)
    aug.add_argument("--full", action="store_true",
                     help="instead: the real-data accuracy table of the lesson's recipe and the stable one "
                          "(asl_course.learners.recipe) over seeds: final, best, minimum of the last 5 epochs")
    aug.add_argument("--seeds", type=int, default=None, help="with --full: seeds 0..N-1 (default 3)")
    aug.add_argument("--epochs", type=int, default=None,
                     help="with --full: epochs of every run (default each recipe's own: lesson 20, stable 10)")
    aug.add_argument("--recipes", nargs="+", default=None, metavar="RECIPE",
                     help="with --full: which recipes (lesson, stable, recalibrated; default all three)")
    aug.add_argument("--json", type=Path, help="also write the report to this file")
    aug.set_defaults(handler=handle_augmentation)
    rob = what.add_parser("robustness", help="each recipe's accuracy under the camera-shift suite (per kind and "
                                            "severity, design and held-out kinds), per seed")
    rob.add_argument("--recipes", nargs="+", default=None, metavar="RECIPE",
                     help="which recipes (none, lesson, recalibrated, designed; default all)")
    rob.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    rob.add_argument("--epochs", type=int, default=None, help="epochs of every run (default the lesson's 20)")
    rob.add_argument("--fast", action="store_true",
                     help="one epoch on 2,048 images, 200 test images, seed 0: checks the path (CI)")
    rob.add_argument("--suite-images", type=int, default=None, metavar="N",
                     help="measure the shifts on a seeded sample of N test images (default all; clean: all)")
    rob.add_argument("--save-models", type=Path, default=None, metavar="DIR",
                     help="keep each trained model as DIR/RECIPE-seedN.keras")
    rob.add_argument("--json", type=Path, help="also write the report to this file")
    rob.set_defaults(handler=handle_robustness)
    spl = what.add_parser("splits", help="a random validation split of the training file against one that holds "
                                         "out whole families of near-copies: which predicts the test file")
    spl.add_argument("--recipe", default="recalibrated", help="none, lesson or recalibrated (default recalibrated)")
    spl.add_argument("--epochs", type=int, default=5)
    spl.add_argument("--seed", type=int, default=0)
    spl.add_argument("--fast", action="store_true", help="one epoch on 2,048 images: checks the path (CI)")
    spl.add_argument("--json", type=Path, help="also write the report to this file")
    spl.set_defaults(handler=handle_splits)
    cam = what.add_parser("camera", help="frames per second from camera to letters in headless Chromium (the web "
                                         "page, a fake camera), and the page's size with its runtime")
    cam.add_argument("--model", type=Path, default=None, metavar="PATH",
                     help="a .keras model (default: an untrained lesson model, the same graph and speed)")
    cam.add_argument("--seconds", type=float, default=10.0, help="how long to count frames (default 10)")
    cam.add_argument("--json", type=Path, help="also write the report to this file")
    cam.set_defaults(handler=handle_camera)
    abl = what.add_parser("ablation", help="the designed augmentation with each part left out, on the family "
                                           "validation split under the design kinds (why each part is there)")
    abl.add_argument("--epochs", type=int, default=None, help="epochs of each arm (default 2: short runs)")
    abl.add_argument("--seed", type=int, default=0)
    abl.add_argument("--arms", choices=("parts", "policy"), default="parts",
                     help="parts: the design less each part (default); policy: how the parts meet on an image "
                          "(independently, or one per image as TrivialAugment)")
    abl.add_argument("--fast", action="store_true", help="one epoch on 2,048 images: checks the path (CI)")
    abl.add_argument("--json", type=Path, help="also write the report to this file")
    abl.set_defaults(handler=handle_ablation)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)


def handle_camera(args) -> int:
    from asl_course.errors import UserError
    from asl_course.tooling import bench

    if args.seconds <= 0:
        raise UserError("--seconds must be more than 0")
    report = bench.camera(args.model, seconds=args.seconds)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 1 if report["javascript_errors"] else 0


def handle_data(args) -> int:
    from asl_course.tooling import bench

    report = bench.data_step(args.source or None)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


def handle_augmentation(args) -> int:
    from asl_course.tooling import bench

    if args.full:
        if args.steps is not None:
            raise UserError("--steps times the ways; --full trains whole runs: give one or the other")
        seeds = 3 if args.seeds is None else args.seeds
        if seeds < 1:
            raise UserError("--seeds must be at least 1")
        try:
            report = bench.augmentation_accuracy(seeds=list(range(seeds)), epochs=args.epochs,
                                                 recipes=args.recipes)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if args.json:
            args.json.write_text(json.dumps(report, indent=1) + "\n")
        return 0
    if args.seeds is not None or args.epochs is not None or args.recipes is not None:
        raise UserError("--seeds, --epochs and --recipes go with --full (the accuracy table)")
    if args.steps is not None and args.steps < 1:
        raise UserError("--steps must be at least 1 (or leave it out for a full epoch)")
    if args.rounds < 1:
        raise UserError("--rounds must be at least 1")
    report = bench.augmentation(steps=args.steps, rounds=args.rounds, seed=args.seed)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


def handle_robustness(args) -> int:
    from asl_course.tooling import robustness

    if args.seeds < 1:
        raise UserError("--seeds must be at least 1")
    return _robustness_report(args, lambda: robustness.run(
        args.recipes or robustness.RECIPES, seeds=range(args.seeds), epochs=args.epochs or facts.FULL_EPOCHS,
        fast=args.fast, save_models=args.save_models, suite_images=args.suite_images))


def handle_splits(args) -> int:
    from asl_course.tooling import robustness

    return _robustness_report(args, lambda: robustness.splits(args.recipe, seed=args.seed, epochs=args.epochs,
                                                              fast=args.fast))


def handle_ablation(args) -> int:
    from asl_course.tooling import robustness

    epochs = robustness.ABLATION["epochs"] if args.epochs is None else args.epochs
    return _robustness_report(args, lambda: robustness.ablation(robustness.ARM_SETS[args.arms](), seed=args.seed,
                                                                      epochs=epochs, fast=args.fast))


def _robustness_report(args, make) -> int:
    """Run ``make`` (a bench of :mod:`asl_course.tooling.robustness`); its bad arguments as one line; --json."""
    from asl_course.tooling import robustness

    try:
        report = make()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        robustness.save_report(report, args.json)
    return 0


def handle_training(args) -> int:
    from asl_course.tooling import bench

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


def handle_grading(args) -> int:
    from asl_course.tooling import bench, editions

    names = editions.assignments(editions.repo_root())
    if args.only:
        names = [n for n in names if any(n.startswith(o) for o in args.only)]
        if not names:
            raise UserError(f"no assignment matches {args.only}")
    if args.workers is not None:
        if args.workers < 1:
            raise UserError("--workers must be at least 1")
        report = bench.parallel_grading(assignments=names, students=4 if args.students is None else args.students,
                                        workers=args.workers, keep=args.keep)
    else:
        report = bench.grading(assignments=names, students=2 if args.students is None else args.students,
                               keep=args.keep)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0
