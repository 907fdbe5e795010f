"""The thinking exercises: a prediction written before a run, judged on the answer to its question.

Each notebook has one (declared in :mod:`.registry` like every exercise). The learner writes
``prediction = ...`` (one of listed options as a string, a count, a share or a pair of letters)
*before* the cell that measures the answer; the self-check then measures it in the notebook and
compares, and the grader judges the recorded value against its own answer: a constant of the
lesson (:mod:`.expected`) or, where the answer depends on the data, a measurement of the grader's
reference data, never a figure of the kernel's.

The mistake functions here return ``(mistake, fix)`` (None: right), the words the self-check
(``asl_course.learners.checks``) and the hidden test both say; the fix explains the measured
answer, since a prediction's fix is understanding why.
"""

from __future__ import annotations

import math

#: The name every thinking exercise reads.
NAME = "prediction"


def observe(ns: dict) -> dict:
    """The prediction as recorded: its type's name and its value when it is a plain str or number."""
    value = ns[NAME]
    kind = type(value).__name__
    if isinstance(value, str):
        return {"type": kind, "value": value[:200]}
    if kind in ("bool", "bool_"):
        return {"type": "bool", "value": None}
    if kind.startswith(("int", "uint")) and hasattr(value, "__index__"):
        return {"type": kind, "value": int(value)}
    if kind.startswith("float") and hasattr(value, "__float__"):
        number = float(value)
        return {"type": kind, "value": number if math.isfinite(number) else None}
    return {"type": kind, "value": None}


def _a(type_name: str) -> str:
    """``type_name`` with its article (``an int``, ``a str``)."""
    return f"{'an' if type_name[:1].lower() in 'aeiou' else 'a'} {type_name}"


def _shown(options) -> str:
    return ", ".join(f'"{o}"' for o in options)


def choice_mistake(value, type_name: str, options: dict, truth: str, why: str) -> tuple[str, str] | None:
    """``options``: each option -> why it is right or wrong (in words); ``truth``: the right option;
    ``why``: the measured reason, said with the answer."""
    if type_name != "str":
        return (f"prediction is {_a(type_name)}, not one of the options",
                f'set it to one of {_shown(options)}, as a string in quotes')
    said = value.strip().strip("\"'").strip()
    chosen = next((o for o in options if o.lower() == said.lower()), None)
    if chosen is None:
        return (f"prediction is {value!r}, not one of the options", f"set it to one of {_shown(options)}, as written")
    if chosen != truth:
        return (f"you predicted \"{chosen}\": {options[chosen]}", f"the answer is \"{truth}\": {why}")
    return None


def count_mistake(value, type_name: str, truth: int, what: str, known: dict, why: str) -> tuple[str, str] | None:
    """A count judged exactly. ``what``: what is counted (words); ``known``: near-miss numbers ->
    what they are instead; ``why``: how the right count comes about."""
    answer = f"it is {truth:,}: {why}"
    if type_name == "str":
        return (f"prediction is the string {value[:40]!r}, not a number",
                "write the number itself, without quotes or commas: an int")
    if type_name.startswith("float") and value is not None and float(value).is_integer() and int(value) == truth:
        return (f"prediction is a float ({value:g}): {what} is a whole number",
                "write it as an int, without a decimal point (a count in Python is an int: range, len, steps)")
    if value is None or type_name == "bool" or not (type_name.startswith(("int", "uint", "float"))):
        return f"prediction is {_a(type_name)}, not a number", f"set it to {what}, an int; {answer}"
    if type_name.startswith("float") and not float(value).is_integer():
        return f"prediction is {value:g}, not a whole number: {what} is a count", answer
    if int(value) == truth:
        return None
    said = known.get(int(value))
    return (f"you predicted {int(value):,}" + (f": that is {said}" if said else f", but {what} is not {int(value):,}"),
            answer)


def share_mistake(value, type_name: str, truth: float, tolerance: float, what: str, known: list,
                  why: str) -> tuple[str, str] | None:
    """A share in 0..1 judged within ``tolerance``. ``known``: ``[(number, what it is instead), ...]``
    (matched within 5 % of the number, or within ``tolerance`` where the number is not tiny)."""
    answer = f"it is {truth:.3f}: {why}"
    if type_name == "str" or value is None or type_name == "bool" or not type_name.startswith(("int", "float")):
        return f"prediction is {_a(type_name)}, not a number", f"set it to {what}, a number between 0 and 1; {answer}"
    number = float(value)
    if abs(number - truth) <= tolerance:
        return None
    said = next((text for n, text in known  # within 5 % of it, or the tolerance where it is not tiny
                 if abs(number - n) <= max(0.05 * abs(n), tolerance if abs(n) >= 0.05 else 0.0)), None)
    if said is None and 1 < number <= 100 and abs(number / 100 - truth) <= tolerance:
        said = f"a percentage: the question asks for a share between 0 and 1 ({number:g} % is {number / 100:g})"
    return f"you predicted {number:g}" + (f": that is {said}" if said else f", {abs(number - truth):.2f} away"), answer


def pair_mistake(value, type_name: str, letters: str, missing: str) -> tuple[str, str] | None:
    """Two different letters of ``letters`` (``missing``: the alphabet's letters the course does not
    have), written as one string; spaces, commas, dashes and slashes between them are allowed."""
    fix = f'two different letters of the course\'s alphabet ({letters}) as one string, such as "BD"'
    if type_name != "str":
        return f"prediction is {_a(type_name)}, not a string of two letters", f"set it to {fix}"
    pair = "".join(ch for ch in value.upper() if ch.isalpha())
    gone = sorted(set(pair) & set(missing))
    if gone:
        return (f"prediction holds {', '.join(gone)}: the course has no {' or '.join(sorted(missing))} (signing "
                "them needs a motion, which a still image cannot show)", f"set it to {fix}")
    if len(pair) != 2:
        return f"prediction is {value!r}: {len(pair)} letter{'s' if len(pair) != 1 else ''}, not two", f"set it to {fix}"
    if pair[0] == pair[1]:
        return f"prediction is {value!r}: one letter twice; a confusion is between two letters", f"set it to {fix}"
    if not set(pair) <= set(letters):
        return f"prediction is {value!r}: not letters of the course's alphabet", f"set it to {fix}"
    return None


def letter_pair(value: str) -> str:
    """A right pair as its two capital letters (``"m-n"`` -> ``"MN"``)."""
    return "".join(ch for ch in value.upper() if ch.isalpha())
