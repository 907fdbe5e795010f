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

from .language import t

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


def _an(type_name: str) -> bool:
    """Whether English says ``an`` before ``type_name`` (``an int``, ``a str``): each message is written
    out for both, so that a translation is of whole sentences."""
    return type_name[:1].lower() in "aeiou"


def _not_a_number(type_name: str) -> str:
    if _an(type_name):
        return t("prediction is an {type}, not a number", type=type_name)
    return t("prediction is a {type}, not a number", type=type_name)


def _shown(options) -> str:
    return ", ".join(f'"{o}"' for o in options)


def choice_mistake(value, type_name: str, options: dict, truth: str, why: str) -> tuple[str, str] | None:
    """``options``: each option -> why it is right or wrong (in words); ``truth``: the right option;
    ``why``: the measured reason, said with the answer."""
    if type_name != "str":
        fix = t("set it to one of {options}, as a string in quotes", options=_shown(options))
        if _an(type_name):
            return t("prediction is an {type}, not one of the options", type=type_name), fix
        return t("prediction is a {type}, not one of the options", type=type_name), fix
    said = value.strip().strip("\"'").strip()
    chosen = next((o for o in options if o.lower() == said.lower()), None)
    if chosen is None:
        return (t("prediction is {value!r}, not one of the options", value=value),
                t("set it to one of {options}, as written", options=_shown(options)))
    if chosen != truth:
        return (t('you predicted "{chosen}": {meaning}', chosen=chosen, meaning=options[chosen]),
                t('the answer is "{truth}": {why}', truth=truth, why=why))
    return None


def count_mistake(value, type_name: str, truth: int, what: str, known: dict, why: str) -> tuple[str, str] | None:
    """A count judged exactly. ``what``: what is counted (words); ``known``: near-miss numbers ->
    what they are instead; ``why``: how the right count comes about."""
    answer = t("it is {truth:,}: {why}", truth=truth, why=why)
    if type_name == "str":
        return (t("prediction is the string {value!r}, not a number", value=value[:40]),
                t("write the number itself, without quotes or commas: an int"))
    if type_name.startswith("float") and value is not None and float(value).is_integer() and int(value) == truth:
        return (t("prediction is a float ({value:g}): {what} is a whole number", value=value, what=what),
                t("write it as an int, without a decimal point (a count in Python is an int: range, len, steps)"))
    if value is None or type_name == "bool" or not (type_name.startswith(("int", "uint", "float"))):
        return _not_a_number(type_name), t("set it to {what}, an int; {answer}", what=what, answer=answer)
    if type_name.startswith("float") and not float(value).is_integer():
        return t("prediction is {value:g}, not a whole number: {what} is a count", value=value, what=what), answer
    if int(value) == truth:
        return None
    said = known.get(int(value))
    if said:
        return t("you predicted {n:,}: that is {said}", n=int(value), said=said), answer
    return t("you predicted {n:,}, but {what} is not {n:,}", n=int(value), what=what), answer


def share_mistake(value, type_name: str, truth: float, tolerance: float, what: str, known: list,
                  why: str) -> tuple[str, str] | None:
    """A share in 0..1 judged within ``tolerance``. ``known``: ``[(number, what it is instead), ...]``
    (matched within 5 % of the number, or within ``tolerance`` where the number is not tiny)."""
    answer = t("it is {truth:.3f}: {why}", truth=truth, why=why)
    if type_name == "str" or value is None or type_name == "bool" or not type_name.startswith(("int", "float")):
        return (_not_a_number(type_name),
                t("set it to {what}, a number between 0 and 1; {answer}", what=what, answer=answer))
    number = float(value)
    if abs(number - truth) <= tolerance:
        return None
    said = next((text for n, text in known  # within 5 % of it, or the tolerance where it is not tiny
                 if abs(number - n) <= max(0.05 * abs(n), tolerance if abs(n) >= 0.05 else 0.0)), None)
    if said is None and 1 < number <= 100 and abs(number / 100 - truth) <= tolerance:
        said = t("a percentage: the question asks for a share between 0 and 1 ({number:g} % is {share:g})",
                 number=number, share=number / 100)
    if said:
        return t("you predicted {number:g}: that is {said}", number=number, said=said), answer
    return t("you predicted {number:g}, {distance:.2f} away", number=number, distance=abs(number - truth)), answer


def pair_mistake(value, type_name: str, letters: str, missing: str) -> tuple[str, str] | None:
    """Two different letters of ``letters`` (``missing``: the alphabet's letters the course does not
    have), written as one string; spaces, commas, dashes and slashes between them are allowed."""
    fix = t('set it to two different letters of the course\'s alphabet ({letters}) as one string, such as "BD"',
            letters=letters)
    if type_name != "str":
        if _an(type_name):
            return t("prediction is an {type}, not a string of two letters", type=type_name), fix
        return t("prediction is a {type}, not a string of two letters", type=type_name), fix
    pair = "".join(ch for ch in value.upper() if ch.isalpha())
    gone = sorted(set(pair) & set(missing))
    if gone:
        return (t("prediction holds {letters}: the course has no {missing} (signing them needs a motion, which a "
                  "still image cannot show)", letters=", ".join(gone), missing=_either(sorted(missing))), fix)
    if len(pair) == 1:
        return t("prediction is {value!r}: {n} letter, not two", value=value, n=len(pair)), fix
    if len(pair) != 2:
        return t("prediction is {value!r}: {n} letters, not two", value=value, n=len(pair)), fix
    if pair[0] == pair[1]:
        return t("prediction is {value!r}: one letter twice; a confusion is between two letters", value=value), fix
    if not set(pair) <= set(letters):
        return t("prediction is {value!r}: not letters of the course's alphabet", value=value), fix
    return None


def _either(letters: list[str]) -> str:
    """Letters as "J or Z" (one letter: itself)."""
    if len(letters) < 2:
        return "".join(letters)
    return t("{first} or {last}", first=_either(letters[:-1]), last=letters[-1])


def letter_pair(value: str) -> str:
    """A right pair as its two capital letters (``"m-n"`` -> ``"MN"``)."""
    return "".join(ch for ch in value.upper() if ch.isalpha())
