"""Exercise families on lists of numbers; some take lists of words as well, one nested lists."""

from __future__ import annotations

import random

from .problems import (
    Problem,
    Request,
    chosen_predicate,
    family,
    list_kind,
    random_items,
    random_numbers,
    repeating,
    twice,
)


@family("count tally measure score", "numbers")
def count_above(r: Request, rng: random.Random) -> Problem:
    xs, limit = r.parameter("numbers"), rng.randint(10, 40)
    return Problem(f"{xs}: list[int], limit: int", "int",
                   f"count how many of the {r.label('numbers')} are greater than `limit`",
                   f"return sum(1 for value in {xs} if value > limit)",
                   twice(lambda: random_numbers(rng), limit) + (([], limit),))


@family("count tally check", "numbers", "even odd positive negative")
def count_matching(r: Request, rng: random.Random) -> Problem:
    xs, (condition, words) = r.parameter("numbers"), chosen_predicate(r, rng)
    return Problem(f"{xs}: list[int]", "int", f"count the {words} numbers among the {r.label('numbers')}",
                   f"return sum(1 for value in {xs} if {condition})", twice(lambda: random_numbers(rng, -20, 40)))


@family("filter select limit extract trim", "numbers")
def filter_between(r: Request, rng: random.Random) -> Problem:
    xs, low = r.parameter("numbers"), rng.randint(5, 20)
    high = low + rng.randint(10, 25)
    return Problem(f"{xs}: list[int], low: int, high: int", "list[int]",
                   f"keep the {r.label('numbers')} between `low` and `high` (inclusive), in their original order",
                   f"return [value for value in {xs} if low <= value <= high]",
                   twice(lambda: random_numbers(rng), low, high))


@family("filter select extract collect", "numbers", "even odd positive negative")
def filter_matching(r: Request, rng: random.Random) -> Problem:
    xs, (condition, words) = r.parameter("numbers"), chosen_predicate(r, rng)
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"return the {words} values among the {r.label('numbers')}, in their original order",
                   f"return [value for value in {xs} if {condition}]",
                   twice(lambda: random_numbers(rng, -20, 40)) + (([],),))


@family("partition split classify", "numbers", "even odd positive negative")
def partition_values(r: Request, rng: random.Random) -> Problem:
    xs, (condition, words) = r.parameter("numbers"), chosen_predicate(r, rng)
    body = f"""matching, rest = [], []
for value in {xs}:
    (matching if {condition} else rest).append(value)
return matching, rest"""
    return Problem(f"{xs}: list[int]", "tuple[list[int], list[int]]",
                   f"split the {r.label('numbers')} into the {words} ones and the rest, keeping their order",
                   body, twice(lambda: random_numbers(rng, -20, 40)))


@family("add compute summarize accumulate", "numbers", "total")
def running_totals(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[int]", f"return the running totals of the {r.label('numbers')}: "
                   "element i is the sum of the first i + 1 values", f"return list(accumulate({xs}))",
                   twice(lambda: random_numbers(rng, 0, 20)) + (([],),), ("from itertools import accumulate",))


@family("split group partition", "numbers words")
def chunk(r: Request, rng: random.Random) -> Problem:
    (kind, item), size = list_kind(r), rng.randint(2, 3)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}], size: int", f"list[list[{item}]]",
                   f"split the {r.label(kind)} into consecutive groups of `size`; the last group may be shorter",
                   f"return [{xs}[start:start + size] for start in range(0, len({xs}), size)]",
                   ((random_items(rng, kind, rng.randint(4, 7)), size),
                    (random_items(rng, kind, rng.randint(5, 8)), size + 1)))


@family("deduplicate trim collect list", "numbers words", "unique distinct")
def deduplicate(r: Request, rng: random.Random) -> Problem:
    kind, item = list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}]", f"list[{item}]",
                   f"remove repeated {r.label(kind)}, keeping the first occurrence of each in its original place",
                   f"return list(dict.fromkeys({xs}))", twice(lambda: repeating(rng, kind)))


@family("detect find check list", "numbers words", "duplicate repeated common")
def find_repeated(r: Request, rng: random.Random) -> Problem:
    kind, item = list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}]", f"list[{item}]",
                   f"return the {r.label(kind)} that occur more than once, sorted",
                   f"counts = Counter({xs})\nreturn sorted(item for item, count in counts.items() if count > 1)",
                   twice(lambda: repeating(rng, kind)), ("from collections import Counter",))


@family("merge combine join", "numbers", "sorted ascending")
def merge_sorted(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int], others: list[int]", "list[int]",
                   f"merge two ascending lists of {r.label('numbers')} into one ascending list",
                   f"return list(merge({xs}, others))",
                   ((sorted(random_numbers(rng)), sorted(random_numbers(rng))), (sorted(random_numbers(rng)), [])),
                   ("from heapq import merge",))


@family("filter select detect find check", "numbers", "prime")
def primes_among(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[int]", f"return the prime numbers among the {r.label('numbers')}",
                   f"return [n for n in {xs} if n > 1 and all(n % d for d in range(2, isqrt(n) + 1))]",
                   twice(lambda: random_numbers(rng, 0, 40)), ("from math import isqrt",))


@family("generate list build compute", "numbers", "prime")
def primes_up_to(r: Request, rng: random.Random) -> Problem:
    body = """is_prime = [True] * (limit + 1)
for n in range(2, int(limit ** 0.5) + 1):
    if is_prime[n]:
        for multiple in range(n * n, limit + 1, n):
            is_prime[multiple] = False
return [n for n in range(2, limit + 1) if is_prime[n]]"""
    return Problem("limit: int", "list[int]", f"list the prime {r.label('numbers')} up to `limit` (inclusive), "
                   "with the sieve of Eratosthenes", body, ((rng.randint(10, 30),), (rng.randint(31, 50),), (1,)))


@family("compute find reduce", "numbers", "common")
def greatest_common_divisor(r: Request, rng: random.Random) -> Problem:
    xs, factor = r.parameter("numbers"), rng.choice((2, 3, 4, 5, 6))
    return Problem(f"{xs}: list[int]", "int",
                   f"return the greatest common divisor of the {r.label('numbers')} (0 for an empty list)",
                   f"return reduce(gcd, {xs}, 0)",
                   twice(lambda: [factor * rng.randint(1, 12) for _ in range(rng.randint(2, 4))]) + (([],),),
                   ("from functools import reduce", "from math import gcd"))


@family("find locate index search", "numbers", "sorted first")
def binary_search(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    data = sorted(set(random_numbers(rng, 0, 60, 8)))
    body = f"""position = bisect_left({xs}, target)
if position < len({xs}) and {xs}[position] == target:
    return position
return -1"""
    return Problem(f"{xs}: list[int], target: int", "int",
                   f"find the index of `target` in the ascending list of {r.label('numbers')} with binary search, "
                   "or return -1 if it is missing", body,
                   ((data, rng.choice(data)), (data, 61)), ("from bisect import bisect_left",))


@family("average estimate summarize smooth", "numbers", "average")
def moving_average(r: Request, rng: random.Random) -> Problem:
    xs, window = r.parameter("numbers"), rng.randint(2, 3)
    body = f"""return [
    round(sum({xs}[start:start + window]) / window, 2)
    for start in range(len({xs}) - window + 1)
]"""
    return Problem(f"{xs}: list[int], window: int", "list[float]",
                   f"return the averages of every `window` consecutive {r.label('numbers')}, rounded to 2 decimals",
                   body, twice(lambda: random_numbers(rng, 0, 30), window))


@family("rank select find limit", "numbers", "largest smallest top")
def top_k(r: Request, rng: random.Random) -> Problem:
    xs, k = r.parameter("numbers"), rng.randint(2, 3)
    picker, order = ("nsmallest", "smallest") if r.modifier == "smallest" else ("nlargest", "largest")
    return Problem(f"{xs}: list[int], k: int", "list[int]",
                   f"return the `k` {order} {r.label('numbers')}, {order} first", f"return {picker}(k, {xs})",
                   twice(lambda: random_numbers(rng), k), (f"from heapq import {picker}",))


@family("rotate shift", "numbers words")
def rotate(r: Request, rng: random.Random) -> Problem:
    kind, item = list_kind(r)
    xs = r.parameter(kind)
    body = f"""if not {xs}:
    return []
steps %= len({xs})
return {xs}[-steps:] + {xs}[:-steps]"""
    return Problem(f"{xs}: list[{item}], steps: int", f"list[{item}]",
                   f"rotate the {r.label(kind)} to the right by `steps` positions", body,
                   ((random_items(rng, kind, 4), rng.randint(1, 3)), (random_items(rng, kind, 5), rng.randint(4, 7)),
                    ([], 2)))


@family("clamp limit trim bound", "numbers")
def clamp(r: Request, rng: random.Random) -> Problem:
    xs, low = r.parameter("numbers"), rng.randint(5, 15)
    high = low + rng.randint(10, 20)
    return Problem(f"{xs}: list[int], low: int, high: int", "list[int]",
                   f"clamp each of the {r.label('numbers')} into the range from `low` to `high`",
                   f"return [min(max(value, low), high) for value in {xs}]",
                   twice(lambda: random_numbers(rng), low, high))


@family("normalize scale", "numbers")
def normalize(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""low, high = min({xs}), max({xs})
if low == high:
    return [0.0 for _ in {xs}]
return [round((value - low) / (high - low), 2) for value in {xs}]"""
    return Problem(f"{xs}: list[int]", "list[float]", f"scale the non-empty list of {r.label('numbers')} to the "
                   "range 0 to 1 (smallest to 0.0, largest to 1.0), rounding to 2 decimals", body,
                   ((random_numbers(rng, size=4),), (random_numbers(rng, size=5),), ([7, 7],)))


@family("summarize average measure estimate compute", "numbers", "average")
def mean_and_median(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "tuple[float, float]",
                   f"return the mean and the median of the non-empty list of {r.label('numbers')}, "
                   "both rounded to 2 decimals", f"return round(float(mean({xs})), 2), round(float(median({xs})), 2)",
                   twice(lambda: random_numbers(rng)), ("from statistics import mean, median",))


@family("compare shift measure", "numbers", "consecutive adjacent")
def differences(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"return the differences between consecutive {r.label('numbers')} (each value minus the one "
                   "before it)", f"return [b - a for a, b in pairwise({xs})]",
                   twice(lambda: random_numbers(rng)) + (([5],),), ("from itertools import pairwise",))


@family("measure find count", "numbers", "consecutive longest ascending")
def longest_increasing_run(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""best = current = 0
previous = None
for value in {xs}:
    current = current + 1 if previous is not None and value > previous else 1
    best = max(best, current)
    previous = value
return best"""
    return Problem(f"{xs}: list[int]", "int",
                   f"return the length of the longest run of strictly increasing consecutive {r.label('numbers')}",
                   body, ((random_numbers(rng, size=7),), (random_numbers(rng, size=8),), ([],)))


@family("pair find match combine", "numbers", "matching")
def pairs_with_sum(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    data = random_numbers(rng, 0, 12, 6)
    body = f"""return [
    ({xs}[i], {xs}[j])
    for i in range(len({xs}))
    for j in range(i + 1, len({xs}))
    if {xs}[i] + {xs}[j] == target
]"""
    return Problem(f"{xs}: list[int], target: int", "list[tuple[int, int]]",
                   f"list the pairs of {r.label('numbers')} (by position, earlier first) that add up to `target`",
                   body, ((data, data[0] + data[-1]), (random_numbers(rng, 0, 12, 5), rng.randint(8, 14))))


@family("convert encode format", "numbers")
def to_binary(r: Request, rng: random.Random) -> Problem:
    xs, width = r.parameter("numbers"), rng.choice((4, 6, 8))
    return Problem(f"{xs}: list[int], width: int", "list[str]",
                   f"convert each of the non-negative {r.label('numbers')} to binary, padded with zeros to `width` "
                   "digits", f"return [format(value, 'b').zfill(width) for value in {xs}]",
                   ((random_numbers(rng, 0, 15, 3), width), (random_numbers(rng, 0, 63, 3), width)))


@family("compute summarize add", "numbers", "total")
def digit_sums(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"return the sum of the decimal digits of each of the {r.label('numbers')} (sign ignored)",
                   f"return [sum(int(digit) for digit in str(abs(value))) for value in {xs}]",
                   ((random_numbers(rng, 0, 999, 4),), (random_numbers(rng, -99, 99, 4),)))


@family("rank score label", "numbers")
def dense_rank(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""order = sorted(set({xs}), reverse=True)
return [order.index(value) + 1 for value in {xs}]"""
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"rank the {r.label('numbers')}: the largest gets rank 1, equal values share a rank, and ranks "
                   "have no gaps", body, ((random_numbers(rng, 0, 10, 5),), (random_numbers(rng, 0, 10, 6),)))


@family("label classify score", "numbers")
def label_by_threshold(r: Request, rng: random.Random) -> Problem:
    xs, low = r.parameter("numbers"), rng.randint(20, 40)
    high = low + rng.randint(20, 40)
    labels = rng.choice((("low", "medium", "high"), ("poor", "fair", "good"), ("cold", "mild", "hot")))
    return Problem(f"{xs}: list[int]", "list[str]",
                   f"label each of the {r.label('numbers')} {labels[0]!r} below {low}, {labels[2]!r} from {high} "
                   f"on, and {labels[1]!r} in between",
                   f"return [{labels!r}[bisect_right([{low}, {high}], value)] for value in {xs}]",
                   twice(lambda: random_numbers(rng, 0, 100, 4)), ("from bisect import bisect_right",))


@family("sample select", "numbers words")
def every_kth(r: Request, rng: random.Random) -> Problem:
    (kind, item), k = list_kind(r), rng.randint(2, 3)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}], k: int", f"list[{item}]",
                   f"take every `k`-th of the {r.label(kind)}, starting with the first", f"return {xs}[::k]",
                   ((random_items(rng, kind, 6), k), (random_items(rng, kind, 7), k + 1)))


@family("scale convert transform", "numbers")
def scale(r: Request, rng: random.Random) -> Problem:
    xs, factor = r.parameter("numbers"), rng.choice((0.5, 1.5, 2.5, 0.25))
    return Problem(f"{xs}: list[int], factor: float", "list[float]",
                   f"multiply each of the {r.label('numbers')} by `factor`, rounding to 2 decimals",
                   f"return [round(value * factor, 2) for value in {xs}]",
                   ((random_numbers(rng, size=4), factor), (random_numbers(rng, size=3), factor)))


@family("round estimate", "numbers")
def round_to_step(r: Request, rng: random.Random) -> Problem:
    xs, step = r.parameter("numbers"), rng.choice((5, 10, 25))
    return Problem(f"{xs}: list[int], step: int", "list[int]",
                   f"round each of the {r.label('numbers')} down to a multiple of `step`",
                   f"return [value - value % step for value in {xs}]",
                   twice(lambda: random_numbers(rng, 0, 120, 4), step))


@family("find select rank", "numbers", "largest")
def second_largest(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""distinct = sorted(set({xs}), reverse=True)
return distinct[1] if len(distinct) > 1 else None"""
    return Problem(f"{xs}: list[int]", "int | None",
                   f"return the second largest distinct value among the {r.label('numbers')}, or None if there is "
                   "none", body, twice(lambda: random_numbers(rng)) + (([4, 4],),))


@family("swap pair shift", "numbers words")
def swap_adjacent(r: Request, rng: random.Random) -> Problem:
    kind, item = list_kind(r)
    xs = r.parameter(kind)
    body = f"""result = list({xs})
for i in range(0, len(result) - 1, 2):
    result[i], result[i + 1] = result[i + 1], result[i]
return result"""
    return Problem(f"{xs}: list[{item}]", f"list[{item}]",
                   f"swap each pair of neighbouring {r.label(kind)} (first with second, third with fourth, ...); "
                   "an odd last element stays in place", body,
                   ((random_items(rng, kind, 4),), (random_items(rng, kind, 5),)))


@family("interleave combine merge join", "numbers words", "alternating")
def interleave(r: Request, rng: random.Random) -> Problem:
    kind, item = list_kind(r)
    xs = r.parameter(kind)
    body = f"""result = []
for pair in zip_longest({xs}, others):
    result.extend(value for value in pair if value is not None)
return result"""
    return Problem(f"{xs}: list[{item}], others: list[{item}]", f"list[{item}]",
                   f"interleave the {r.label(kind)} with `others`, taking one from each in turn; what is left of the "
                   "longer list comes at the end", body,
                   ((random_items(rng, kind, 3), random_items(rng, kind, 3)),
                    (random_items(rng, kind, 4), random_items(rng, kind, 2))),
                   ("from itertools import zip_longest",))


@family("flatten combine expand collect join", "nested", "nested")
def flatten(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("nested")
    return Problem(f"{xs}: list[list[int]]", "list[int]",
                   f"flatten the {r.label('nested')} (a list of lists) into one list, keeping the order",
                   f"return list(chain.from_iterable({xs}))",
                   twice(lambda: [random_numbers(rng, size=rng.randint(0, 3)) for _ in range(rng.randint(2, 4))]),
                   ("from itertools import chain",))
