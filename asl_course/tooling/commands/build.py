"""``asl-course build [--check]``: generate release/, notebooks/, solutions/ from source/."""

from __future__ import annotations


def register(sub) -> None:
    parser = sub.add_parser("build", help="generate the editions from source/ (or check them for drift)")
    parser.add_argument("--check", action="store_true", help="fail if the committed editions differ from a fresh build")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from asl_course.tooling import editions

    root = editions.repo_root()
    if args.check:
        problems = editions.drift(root)
        if problems:
            print("The editions are out of date with source/ (run `asl-course build`):")
            for problem in problems:
                print(f"  {problem}")
            return 1
        print("Editions match source/: no drift.")
        return 0
    written = editions.write_editions(root, root)
    editions.remove_stale(root, written)
    print(f"Wrote {len(written)} notebooks.")
    return 0
