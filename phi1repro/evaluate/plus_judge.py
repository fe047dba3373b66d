"""EvalPlus's comparison of a program's outputs with the reference's, as its evaluator (0.3.1) makes it.

Not imported: its text runs in the sandbox's judge (`python -I -S`, the standard library only),
beside tests that call `check_outputs()` or `record_outputs()` (see plus.py). DATA holds the
entry point, the inputs (argument lists), their time limits, `atol`, the dataset ("humaneval" or
"mbpp", for its special cases) and, to check, the expected outputs.

An output passes when it equals the expected one. Where it does not and `atol` is set (EvalPlus
sets 1e-6 once an expected output is a float, or a list or tuple of floats, and keeps it for the
later inputs), it passes when it has the expected output's type and length and is close to it as
numpy.allclose(out, expected, rtol=1e-7, atol) finds. The special cases, by entry point:
- MBPP: are_equivalent takes any output; sum_div also 0; surface_Area and digit_distance_nums
  also their oracles' outputs; eight tasks compare as sets; three (whose outputs are re.Match
  objects) compare whether the output is None (a bool output as itself).
- HumanEval: find_zero passes where |poly(xs, out)| <= atol.
The first failing input stops the tests, as EvalPlus's fast check does.
"""

import itertools
import math

SET_EQUAL = ("similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly", "larg_nnum",
             "intersection_array", "find_dissimilar", "Diff")
RTOL = 1e-7
SHOWN_CHARS = 200


def check_outputs():
    atol = DATA["atol"]
    special = (DATA["dataset"], DATA["entry_point"])
    results = call_each(DATA["entry_point"], DATA["inputs"], DATA["time_limits"], DATA["project"])
    for index, (out, _) in enumerate(results):
        expected = DATA["expected"][index]
        try:
            ok, atol = judged(special, out, expected, DATA["inputs"][index], atol)
        except Exception:  # a comparison that raises fails, as EvalPlus's does
            ok = False
        if not ok:
            raise AssertionError(f"input {index}: expected {shown(expected)}, got {shown(out)}")


def judged(special, out, expected, args, atol):
    """Whether `out` passes, and the atol for the inputs that follow."""
    if special == ("humaneval", "find_zero"):
        return abs(poly(*args, out)) <= atol, atol
    exact = exact_match(special, out, expected, args, atol)
    if atol == 0 and is_floats(expected):
        atol = 1e-6
    if not exact and atol != 0:
        return close_enough(out, expected, atol), atol
    return bool(exact), atol


def record_outputs():
    """The reference's outputs and the seconds each took, for the expected outputs."""
    for out, seconds in call_each(DATA["entry_point"], DATA["inputs"], DATA["time_limits"], DATA["project"]):
        record([out, seconds])


def exact_match(special, out, expected, args, atol):
    dataset, entry_point = special
    if dataset == "mbpp":
        if entry_point == "are_equivalent":
            return True
        if entry_point == "sum_div":
            return out == expected or out == 0
        if entry_point == "surface_Area":
            return out == expected or abs(out - surface_area(*args)) <= atol
        if entry_point == "digit_distance_nums":
            return out == expected or out == digit_distance(*args)
        if entry_point in SET_EQUAL:
            return set(out) == set(expected)
    return out == expected


def is_floats(value) -> bool:
    if isinstance(value, float):
        return True
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(isinstance(item, float) for item in value)


def close_enough(out, expected, atol) -> bool:
    if type(out) is not type(expected):
        return False
    if isinstance(expected, (list, tuple)) and len(out) != len(expected):
        return False
    return allclose(out, expected, atol)


def allclose(a, b, atol) -> bool:
    """numpy.allclose(a, b, rtol=RTOL, atol) on numbers and nested lists or tuples of them: False
    where numpy raises (ragged nesting, strings, integers beyond 64 bits) or the shapes do not
    broadcast; else every pair close, NaN close to nothing, an infinity only to itself."""
    shapes = shape(a), shape(b)
    if None in shapes:
        return False
    target = broadcast(*shapes)
    if target is None:
        return False
    return all(close(element(a, shapes[0], index), element(b, shapes[1], index), atol)
               for index in itertools.product(*map(range, target)))


def shape(value):
    """The shape numpy gives `value` as an array of numbers; None where it gives none."""
    if isinstance(value, (list, tuple)):
        inner = {shape(item) for item in value}
        if None in inner or len(inner) > 1:
            return None
        return (len(value), *(inner.pop() if inner else ()))
    if isinstance(value, int) and not isinstance(value, bool):
        return () if -2 ** 63 <= value < 2 ** 64 else None
    return () if isinstance(value, (bool, float, complex)) else None


def broadcast(first, second):
    width = max(len(first), len(second))
    first, second = (1,) * (width - len(first)) + first, (1,) * (width - len(second)) + second
    if any(x != y and 1 not in (x, y) for x, y in zip(first, second)):
        return None
    return tuple(max(x, y) for x, y in zip(first, second))


def element(value, value_shape, index):
    for size, i in zip(value_shape, index[len(index) - len(value_shape):]):
        value = value[0 if size == 1 else i]
    return value


def close(a, b, atol) -> bool:
    if any(math.isinf(abs(x)) for x in (a, b)):
        return a == b
    return abs(a - b) <= atol + RTOL * abs(b)


def poly(xs, x):  # HumanEval/32's polynomial
    return sum(coefficient * math.pow(x, i) for i, coefficient in enumerate(xs))


def surface_area(base_edge, height):  # Mbpp/581: a square pyramid's, the height perpendicular to the base
    slant_height = math.sqrt((base_edge / 2) ** 2 + height ** 2)
    return round(base_edge ** 2 + 2 * base_edge * slant_height)


def digit_distance(a, b):  # Mbpp/558: the numbers padded with zeros to the same length
    digits_a, digits_b = str(a), str(b)
    width = max(len(digits_a), len(digits_b))
    return sum(abs(int(x) - int(y)) for x, y in zip(digits_a.zfill(width), digits_b.zfill(width)))


def shown(value) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."
