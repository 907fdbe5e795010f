"""``asl-course translate update|check|status [--lang L]``: the translations' catalogs, kept in step with the source."""

from __future__ import annotations


def register(sub) -> None:
    parser = sub.add_parser(
        "translate", help="update or check the translations' catalogs (asl_course/locale/LANG/)",
        description="update: rewrite LANG's PO catalogs from source/ and the package's t(...) messages (new texts "
                    "get an empty translation; a changed English keeps its old translation, marked fuzzy). check: "
                    "fail on a stale or broken translation, list the texts with none (shown in English). "
                    "status: the counts per catalog and the untranslated texts.")
    parser.add_argument("action", choices=("update", "check", "status"))
    parser.add_argument("--lang", default="ko", help="the language (default: ko)")
    parser.set_defaults(handler=handle)


def handle(args) -> int:
    from asl_course import i18n
    from asl_course.errors import UserError
    from asl_course.tooling import editions, translate

    lang = i18n.valid(args.lang)
    if lang is None or lang == i18n.SOURCE_LANGUAGE:
        raise UserError(f"no translation called {args.lang!r}: the course is translated into "
                        f"{', '.join(x for x in i18n.LANGUAGES if x != i18n.SOURCE_LANGUAGE)}")
    root = editions.repo_root()
    if args.action == "update":
        written = translate.update(root, lang)
        print(f"{len(written)} catalogs updated." if written else "The catalogs are up to date with the source.")
        return 0
    report = translate.check(root, lang)
    done = sum(d for d, _ in report.counts.values())
    total = sum(n for _, n in report.counts.values())
    for rel, (d, n) in report.counts.items():
        if args.action == "status" or d < n:
            print(f"{rel}: {d}/{n} translated")
    if args.action == "status":
        for rel, texts in report.missing.items():
            for text in texts:
                print(f"  untranslated in {rel}: {text.strip().splitlines()[0][:90]!r}")
    print(f"{lang}: {done}/{total} texts translated; {total - done} shown in English.")
    for problem in report.problems:
        print(f"FAIL {problem}")
    return 0 if report.ok else 1
