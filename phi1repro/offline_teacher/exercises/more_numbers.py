"""More exercise families on numbers, so that every default verb has one for numbers and modifiers matter.

They were added after those of structures.py, and are registered after them (see __init__.py).
"""

from __future__ import annotations

import random

from .problems import Problem, Request, family, list_kind, random_items, random_numbers, repeating, twice


@family("sort rank order", "numbers", "descending ascending")
def sort_by_key(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    key, words = rng.choice((("abs(value)", "absolute value"), ("value % 10", "last digit"),
                             ("-value", "value, largest first")))
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"sort the {r.label('numbers')} by {words}; values with equal keys keep their original order",
                   f"return sorted({xs}, key=lambda value: {key})", twice(lambda: random_numbers(rng, -30, 30)))


@family("reverse invert transform", "numbers")
def reverse_digits(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""result = []
for value in {xs}:
    digits = int(str(abs(value))[::-1])
    result.append(-digits if value < 0 else digits)
return result"""
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"reverse the decimal digits of each of the {r.label('numbers')}, keeping the sign", body,
                   ((random_numbers(rng, 10, 999, 4),), (random_numbers(rng, -99, 99, 3),)))


@family("validate check detect", "numbers", "sorted ascending")
def is_sorted(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    data = random_numbers(rng, size=5)
    return Problem(f"{xs}: list[int]", "bool",
                   f"check that the {r.label('numbers')} are in non-decreasing order",
                   f"return all(a <= b for a, b in pairwise({xs}))", ((sorted(data),), (data + [-1],), ([],)),
                   ("from itertools import pairwise",))


@family("balance find locate split partition", "numbers", "balanced")
def balance_point(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    left, right = random_numbers(rng, 1, 9, 3), random_numbers(rng, 1, 9, 2)
    body = f"""total, before = sum({xs}), 0
for index, value in enumerate({xs}):
    if before == total - before - value:
        return index
    before += value
return -1"""
    return Problem(f"{xs}: list[int]", "int",
                   f"find the first index where the sum of the {r.label('numbers')} before it equals the sum after "
                   "it, or return -1", body,
                   ((left + [5] + right + [sum(left) - sum(right)],), (random_numbers(rng, 1, 9, 4),)))


@family("compress encode summarize", "numbers", "consecutive repeated")
def run_length_pairs(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[tuple[int, int]]",
                   f"compress the {r.label('numbers')} into (value, run length) pairs for each run of equal "
                   "neighbours", f"return [(value, len(list(run))) for value, run in groupby({xs})]",
                   twice(lambda: [v for v in random_numbers(rng, 0, 3, 4) for _ in range(rng.randint(1, 3))]),
                   ("from itertools import groupby",))


@family("parse decode extract split convert", "numbers")
def parse_number_list(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    separator = rng.choice((",", ";", "|"))
    return Problem(f"{text}: str", "list[int]",
                   f"parse {r.noun.replace('_', ' ')} written as integers separated by {separator!r} (spaces "
                   "allowed) into a list; an empty string gives an empty list",
                   f"return [int(part) for part in {text}.split({separator!r}) if part.strip()]",
                   twice(lambda: f"{separator} ".join(map(str, random_numbers(rng, -9, 99, 4)))) + (("",),))


@family("map transform compute", "numbers")
def squares_by_value(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "dict[int, int]",
                   f"map each of the {r.label('numbers')} to its square, in order of first appearance",
                   f"return {{value: value * value for value in {xs}}}", twice(lambda: random_numbers(rng, -9, 9, 4)))


@family("invert swap", "numbers")
def invert_permutation(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""inverse = [0] * len({xs})
for position, value in enumerate({xs}):
    inverse[value] = position
return inverse"""
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"the {r.label('numbers')} are a permutation of 0 to n - 1; return its inverse, where position "
                   "v holds the index of v", body, twice(lambda: rng.sample(range(5), 5)))


@family("find detect list locate", "numbers", "missing")
def missing_numbers(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"list the whole numbers missing from the {r.label('numbers')} between their smallest and "
                   "largest value", f"present = set({xs})\nreturn [n for n in range(min({xs}), max({xs}) + 1) "
                   "if n not in present]", twice(lambda: sorted(rng.sample(range(1, 12), 7))))


@family("find locate index", "numbers words", "last first")
def last_index(r: Request, rng: random.Random) -> Problem:
    kind, item = list_kind(r)
    xs = r.parameter(kind)
    data = repeating(rng, kind)
    body = f"""for index in range(len({xs}) - 1, -1, -1):
    if {xs}[index] == target:
        return index
return -1"""
    return Problem(f"{xs}: list[{item}], target: {item}", "int",
                   f"return the index of the last occurrence of `target` among the {r.label(kind)}, or -1",
                   body, ((data, rng.choice(data)), (data, "missing" if kind == "words" else 99)))


@family("find select detect", "numbers words", "rare unique")
def singletons(r: Request, rng: random.Random) -> Problem:
    kind, item = list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}]", f"list[{item}]",
                   f"return the {r.label(kind)} that occur exactly once, in their original order",
                   f"counts = Counter({xs})\nreturn [item for item in {xs} if counts[item] == 1]",
                   twice(lambda: repeating(rng, kind)), ("from collections import Counter",))


@family("average compute summarize estimate", "numbers records", "weighted")
def weighted_average(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int], weights: list[int]", "float",
                   f"return the average of the {r.label('numbers')} weighted by `weights` (same length, positive "
                   "total), rounded to 2 decimals",
                   f"return round(sum(v * w for v, w in zip({xs}, weights)) / sum(weights), 2)",
                   ((random_numbers(rng, 0, 20, 3), random_numbers(rng, 1, 5, 3)),
                    (random_numbers(rng, 0, 20, 4), random_numbers(rng, 1, 5, 4))))


@family("generate pair list build combine", "numbers words")
def pair_combinations(r: Request, rng: random.Random) -> Problem:
    kind, item = list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}]", f"list[tuple[{item}, {item}]]",
                   f"list every pair of two different positions among the {r.label(kind)}, in order",
                   f"return list(combinations({xs}, 2))",
                   ((random_items(rng, kind, 3),), (random_items(rng, kind, 4),)),
                   ("from itertools import combinations",))


@family("compare match combine", "numbers words", "common matching")
def common_items(r: Request, rng: random.Random) -> Problem:
    kind, item = list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}], others: list[{item}]", f"list[{item}]",
                   f"return the {r.label(kind)} that also appear in `others`, in their order, without repeats",
                   f"wanted = set(others)\nreturn [item for item in dict.fromkeys({xs}) if item in wanted]",
                   twice(lambda: repeating(rng, kind), repeating(rng, kind)))
