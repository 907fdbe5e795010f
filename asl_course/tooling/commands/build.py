"""``asl-course build [--check] [--lang L] [--repo-url URL] [--branch B]``: generate release/, notebooks/,
solutions/ (and each translation's, under ``ko/``) from source/."""

from __future__ import annotations


def register(sub) -> None:
    parser = sub.add_parser("build", help="generate the editions from source/ (or check them for drift)",
                            description="Build release/ (nbgrader generate_assignment, with the course's "
                                        "ReleaseEdition step), notebooks/ and solutions/ from source/. Colab "
                                        "badges and setup cells point where the course is published: Repository "
                                        "under [project.urls] and branch under [tool.asl-course] in pyproject.toml.")
    parser.add_argument("--check", action="store_true", help="fail if the committed editions differ from a fresh build")
    parser.add_argument("--repo-url", default=None, metavar="URL",
                        help="the course's GitHub repository, this build only (default: pyproject.toml's)")
    parser.add_argument("--branch", default=None, help="the branch students open, this build only (default: "
                                                       "pyproject.toml's)")
    parser.add_argument("--lang", default="all", choices=("all", *_languages()),
                        help="build the editions of one language only (default: all: English, and each language "
                             "with notebook catalogs, under its own folder: ko/release, ko/notebooks, ko/solutions)")
    parser.set_defaults(handler=handle)


def _languages() -> tuple[str, ...]:
    from asl_course import i18n

    return i18n.LANGUAGES


def handle(args) -> int:
    from asl_course.tooling import editions

    root = editions.repo_root()
    published = editions.publication(root)
    site = editions.Site(args.repo_url or published.url, args.branch or published.branch)
    if args.check:
        problems = editions.drift(root, site)
        if problems:
            print("The editions are out of date with source/ (run `asl-course build`):")
            for problem in problems:
                print(f"  {problem}")
            return 1
        print("Editions match source/: no drift.")
        return 0
    langs = None if args.lang == "all" else (args.lang,)
    written = editions.write_editions(root, root, site=site, langs=langs)
    if langs is None:
        editions.remove_stale(root, written)
    print(f"Wrote {len(written)} notebooks (published at {site.url}, branch {site.branch}).")
    return 0
