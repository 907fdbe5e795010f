"""``asl-course data {fetch,import,synthetic,check}``: get, verify and inspect the course data.

The work is done by :mod:`asl_course.dataset`, imported inside the handlers so that building
the command line stays fast.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "data",
        help="get, verify and inspect the Sign Language MNIST data",
        description=(
            "Get the Sign Language MNIST release (fetch from Kaggle, or import files downloaded "
            "by hand), write the offline synthetic stand-in, or check a data folder. The data "
            "folder is --dest if given, else $ASL_DATA_DIR, else ./data/asl_data."
        ),
    )
    actions = parser.add_subparsers(dest="data_action", metavar="ACTION")

    def show_help(_args) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=show_help)

    fetch = actions.add_parser(
        "fetch",
        help="download the release from Kaggle (kagglehub) and import it",
        description=(
            "Download datamunge/sign-language-mnist from Kaggle with kagglehub (no account "
            "needed), verify it and write the course's data folder."
        ),
    )
    _add_dest(fetch)
    fetch.set_defaults(handler=_fetch)

    imp = actions.add_parser(
        "import",
        help="verify and import release files downloaded by hand",
        description=(
            "Verify the release's sign_mnist_train.csv and sign_mnist_test.csv (or .csv.gz, or "
            "the zip from Kaggle, or a folder holding them) and write the course's data folder. "
            "Nothing is written unless every check passes."
        ),
    )
    imp.add_argument("paths", nargs="+", metavar="PATH", help="the two CSVs, the zip, or their folder")
    _add_dest(imp)
    imp.add_argument(
        "--allow-checksum-mismatch",
        action="store_true",
        help="accept well-formed files whose sha256 (or row counts) differ from the published "
        "release; the data folder's SOURCE.json records it",
    )
    imp.set_defaults(handler=_import)

    syn = actions.add_parser(
        "synthetic",
        help="write the offline synthetic stand-in (NOT the real data)",
        description=(
            "Write a small, deterministic, procedurally drawn stand-in in the course's layout, "
            "for working offline. It is not Sign Language MNIST: figures from it are not results."
        ),
    )
    _add_dest(syn)
    syn.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    syn.set_defaults(handler=_synthetic)

    chk = actions.add_parser(
        "check",
        help="say whether a data folder holds the real data, the stand-in, or something broken",
        description="Exit status 0 for real or synthetic data, 1 for invalid or missing data.",
    )
    chk.add_argument("dir", nargs="?", metavar="DIR", help="data folder (default: as the notebooks find it)")
    chk.set_defaults(handler=_check)


def _add_dest(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dest", metavar="DIR", help="data folder to write (default: $ASL_DATA_DIR, else ./data/asl_data)"
    )


def _fetch(args) -> int:
    from asl_course import dataset as data

    data.fetch(args.dest)
    return 0


def _import(args) -> int:
    from asl_course import dataset as data

    data.import_release(args.paths, args.dest, allow_checksum_mismatch=args.allow_checksum_mismatch)
    return 0


def _synthetic(args) -> int:
    from asl_course import dataset as data

    data.write_synthetic(args.dest, seed=args.seed)
    return 0


def _check(args) -> int:
    from asl_course import dataset as data

    result = data.check(args.dir)
    print(f"kind: {result['kind']}")
    print(f"path: {result['path']}")
    if result.get("description"):
        print(result["description"])
    if result["rows"]:
        print("rows: " + ", ".join(f"{k} {v:,}" for k, v in result["rows"].items()))
    for note in result.get("notes", []):
        print(f"note: {note}")
    for reason in result["reasons"]:
        print(f"reason: {reason}")
    return 0 if result["kind"] in ("real", "synthetic") else 1
