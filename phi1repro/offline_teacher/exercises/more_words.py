"""More exercise families on words, so that every default verb has one for words and modifiers matter.

They were added after those of structures.py, and are registered after them (see __init__.py).
"""

from __future__ import annotations

import random

from .problems import Problem, Request, family, random_words, twice


@family("join add combine build format", "words")
def join_words(r: Request, rng: random.Random) -> Problem:
    xs, separator = r.parameter("words"), rng.choice((", ", " | ", "-", " and "))
    return Problem(f"{xs}: list[str], separator: str", "str",
                   f"join the {r.label('words')} into one string, with `separator` between them",
                   f"return separator.join({xs})", twice(lambda: random_words(rng), separator) + (([], separator),))


@family("average measure estimate compute", "words", "average")
def average_length(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "float",
                   f"return the average length of the {r.label('words')}, rounded to 2 decimals (0.0 if there "
                   "are none)", f"return round(sum(map(len, {xs})) / len({xs}), 2) if {xs} else 0.0",
                   twice(lambda: random_words(rng)) + (([],),))


@family("clamp limit trim round scale", "words", "longest shortest")
def truncate_words(r: Request, rng: random.Random) -> Problem:
    xs, width = r.parameter("words"), rng.randint(3, 5)
    return Problem(f"{xs}: list[str], width: int", "list[str]",
                   f"shorten each of the {r.label('words')} to at most `width` characters",
                   f"return [word[:width] for word in {xs}]", twice(lambda: random_words(rng), width))


@family("encode compress format build", "words", "upper first")
def acronym(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "str",
                   f"encode the non-empty {r.label('words')} as an acronym: their first letters, upper case",
                   f"return ''.join(word[0].upper() for word in {xs} if word)", twice(lambda: random_words(rng)))


@family("flatten expand split", "words")
def letters_of(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "list[str]",
                   f"expand the {r.label('words')} into one list of their characters, in order",
                   f"return [char for word in {xs} for char in word]", twice(lambda: random_words(rng, 2)))


@family("score label rank measure compute", "words")
def letter_scores(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "dict[str, int]",
                   f"score each of the {r.label('words')} by the sum of its letters' positions in the alphabet "
                   "(a = 1, ..., z = 26, other characters 0)",
                   f"return {{word: sum(ord(c) - 96 for c in word.lower() if 'a' <= c <= 'z') for word in {xs}}}",
                   twice(lambda: random_words(rng)))


@family("locate find index select", "words", "first matching")
def first_with_prefix(r: Request, rng: random.Random) -> Problem:
    xs, data = r.parameter("words"), random_words(rng, 5)
    body = f"""for index, word in enumerate({xs}):
    if word.startswith(prefix):
        return index
return -1"""
    return Problem(f"{xs}: list[str], prefix: str", "int",
                   f"return the index of the first of the {r.label('words')} that starts with `prefix`, or -1",
                   body, ((data, rng.choice(data)[:2]), (data, "qq")))


@family("normalize trim clean convert", "words", "lower")
def normalize_words(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")

    def messy() -> list[str]:
        templates = ("  {} ", "{}", "{}  {}")
        return [rng.choice(templates).format(*(w.upper() if rng.random() < 0.5 else w for w in random_words(rng, 2)))
                for _ in range(3)]

    return Problem(f"{xs}: list[str]", "list[str]",
                   f"normalize the {r.label('words')}: lowercase, no spaces at either end, single spaces inside",
                   f"return [' '.join(word.lower().split()) for word in {xs}]", twice(messy))


@family("reverse invert transform", "words")
def reverse_each(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "list[str]", f"reverse each of the {r.label('words')}, keeping their order",
                   f"return [word[::-1] for word in {xs}]", twice(lambda: random_words(rng)))


@family("parse decode split extract", "words")
def parse_entries(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    body = f"""result = {{}}
for entry in {xs}:
    name, _, number = entry.partition(':')
    result[name.strip()] = int(number)
return result"""
    return Problem(f"{xs}: list[str]", "dict[str, int]",
                   f"parse the {r.label('words')}, each written as 'name:number', into a dictionary", body,
                   twice(lambda: [f"{w}:{rng.randint(0, 50)}" for w in random_words(rng, 3)]))


@family("filter trim select clean", "words", "empty")
def drop_empty(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "list[str]",
                   f"remove the empty or blank {r.label('words')}, keeping the others in order",
                   f"return [word for word in {xs} if word.strip()]",
                   twice(lambda: rng.sample([*random_words(rng, 3), "", "  ", ""], 6)))


@family("convert transform format", "words", "upper lower")
def change_case(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    method = "lower" if r.modifier == "lower" else "upper"
    return Problem(f"{xs}: list[str]", "list[str]", f"convert each of the {r.label('words')} to {method} case",
                   f"return [word.{method}() for word in {xs}]",
                   twice(lambda: [w.capitalize() if rng.random() < 0.5 else w for w in random_words(rng)]))
