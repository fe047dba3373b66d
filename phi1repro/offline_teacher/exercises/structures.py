"""Exercise families on structured data: intervals, grids, (name, value) records and (x, y) points."""

from __future__ import annotations

import random

from .problems import Problem, Request, family, random_numbers, random_words, twice


def _intervals(rng: random.Random) -> list[tuple[int, int]]:
    return [(start, start + rng.randint(1, 6)) for start in random_numbers(rng, 0, 20, rng.randint(3, 4))]


@family("merge combine join compress", "intervals", "overlapping")
def merge_intervals(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("intervals")
    body = f"""merged: list[tuple[int, int]] = []
for start, end in sorted({xs}):
    if merged and start <= merged[-1][1]:
        merged[-1] = (merged[-1][0], max(merged[-1][1], end))
    else:
        merged.append((start, end))
return merged"""
    return Problem(f"{xs}: list[tuple[int, int]]", "list[tuple[int, int]]",
                   f"merge the overlapping {r.label('intervals')}, given as (start, end) pairs, and return them "
                   "sorted by start", body, twice(lambda: _intervals(rng)) + (([],),))


@family("measure compute summarize", "intervals", "total")
def covered_length(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("intervals")
    body = f"""total, reach = 0, None
for start, end in sorted({xs}):
    if reach is None or start > reach:
        total += end - start
        reach = end
    elif end > reach:
        total += end - reach
        reach = end
return total"""
    return Problem(f"{xs}: list[tuple[int, int]]", "int",
                   f"return the total length covered by the {r.label('intervals')} ((start, end) pairs), counting "
                   "overlaps once", body, twice(lambda: _intervals(rng)) + (([],),))


def _matrix(rng: random.Random) -> list[list[int]]:
    columns = rng.randint(2, 3)
    return [random_numbers(rng, 0, 9, columns) for _ in range(rng.randint(2, 3))]


@family("invert swap transform flip", "matrix")
def transpose(r: Request, rng: random.Random) -> Problem:
    grid = r.parameter("matrix")
    return Problem(f"{grid}: list[list[int]]", "list[list[int]]",
                   f"transpose the {r.label('matrix')}, a list of rows: rows become columns",
                   f"return [list(column) for column in zip(*{grid})]", twice(lambda: _matrix(rng)))


@family("summarize add compute measure", "matrix", "total")
def row_sums(r: Request, rng: random.Random) -> Problem:
    grid = r.parameter("matrix")
    return Problem(f"{grid}: list[list[int]]", "list[int]", f"return the sum of each row of the {r.label('matrix')}",
                   f"return [sum(row) for row in {grid}]", twice(lambda: _matrix(rng)))


@family("rotate shift", "matrix")
def rotate_grid(r: Request, rng: random.Random) -> Problem:
    grid = r.parameter("matrix")
    return Problem(f"{grid}: list[list[int]]", "list[list[int]]",
                   f"rotate the {r.label('matrix')}, a list of rows, 90 degrees clockwise",
                   f"return [list(row) for row in zip(*{grid}[::-1])]", twice(lambda: _matrix(rng)))


def _records(rng: random.Random, size: int | None = None) -> list[tuple[str, int]]:
    return [(word, rng.randint(1, 60)) for word in random_words(rng, size)]


@family("sort rank order", "records", "descending ascending")
def sort_records(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("records")
    key, order = (("(record[1], record[0])", "lowest") if r.modifier == "ascending"
                  else ("(-record[1], record[0])", "highest"))
    return Problem(f"{xs}: list[tuple[str, int]]", "list[str]",
                   f"return the names of the {r.label('records')}, {order} value first, ties broken alphabetically",
                   f"return [name for name, _ in sorted({xs}, key=lambda record: {key})]",
                   twice(lambda: _records(rng)))


@family("summarize group add tally collect", "records", "total")
def totals_by_name(r: Request, rng: random.Random) -> Problem:
    xs, names = r.parameter("records"), random_words(rng, 3)
    body = f"""totals: dict[str, int] = {{}}
for name, amount in {xs}:
    totals[name] = totals.get(name, 0) + amount
return totals"""
    return Problem(f"{xs}: list[tuple[str, int]]", "dict[str, int]",
                   f"add up the values of the {r.label('records')} per name, in order of first appearance", body,
                   twice(lambda: [(rng.choice(names), rng.randint(1, 20)) for _ in range(5)]))


@family("find select locate", "records", "largest smallest top")
def best_record(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("records")
    picker, order = ("min", "smallest") if r.modifier == "smallest" else ("max", "largest")
    return Problem(f"{xs}: list[tuple[str, int]]", "str",
                   f"return the name of the record with the {order} value among the non-empty {r.label('records')}; "
                   "on a tie, the first one", f"return {picker}({xs}, key=lambda record: record[1])[0]",
                   twice(lambda: _records(rng)))


@family("format build join list", "records")
def format_rows(r: Request, rng: random.Random) -> Problem:
    xs, width = r.parameter("records"), rng.randint(8, 10)
    return Problem(f"{xs}: list[tuple[str, int]], width: int", "list[str]",
                   f"format the {r.label('records')} as table rows: the name left-aligned in `width` characters, "
                   "then the value right-aligned in 4",
                   f"return [f'{{name:<{{width}}}}{{value:>4}}' for name, value in {xs}]",
                   ((_records(rng, 2), width), (_records(rng, 3), width)))


@family("invert map swap", "records")
def names_by_value(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("records")
    body = f"""result: dict[int, list[str]] = {{}}
for name, value in {xs}:
    result.setdefault(value, []).append(name)
return result"""
    return Problem(f"{xs}: list[tuple[str, int]]", "dict[int, list[str]]",
                   f"invert the {r.label('records')}: map each value to the names that have it, in order", body,
                   twice(lambda: [(w, rng.randint(1, 3)) for w in random_words(rng, 4)]))


def _points(rng: random.Random) -> list[tuple[int, int]]:
    return [(rng.randint(-9, 9), rng.randint(-9, 9)) for _ in range(rng.randint(3, 4))]


@family("find locate select sort", "points")
def closest_to_origin(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("points")
    return Problem(f"{xs}: list[tuple[int, int]]", "tuple[int, int]",
                   f"return the point closest to the origin among the non-empty {r.label('points')}; on a tie, the "
                   "first one", f"return min({xs}, key=lambda point: hypot(*point))",
                   twice(lambda: _points(rng)), ("from math import hypot",))


@family("compute measure build", "points")
def bounding_box(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("points")
    body = f"""xs = [x for x, _ in {xs}]
ys = [y for _, y in {xs}]
return min(xs), min(ys), max(xs), max(ys)"""
    return Problem(f"{xs}: list[tuple[int, int]]", "tuple[int, int, int, int]",
                   f"return the bounding box (min x, min y, max x, max y) of the non-empty {r.label('points')}",
                   body, twice(lambda: _points(rng)))


@family("measure compute summarize", "points", "total")
def path_length(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("points")
    return Problem(f"{xs}: list[tuple[int, int]]", "float",
                   f"return the length of the path through the {r.label('points')} in order, rounded to 2 decimals",
                   f"return round(sum(dist(a, b) for a, b in pairwise({xs})), 2)",
                   twice(lambda: _points(rng)) + (([(0, 0)],),),
                   ("from itertools import pairwise", "from math import dist"))
