"""Exercise families on lists of words."""

from __future__ import annotations

import random

from .problems import WORDS, Problem, Request, family, list_kind, random_words, repeating, twice


@family("count tally summarize collect map index", "words", "frequent common")
def count_each(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "dict[str, int]",
                   f"count how often each of the {r.label('words')} occurs, in order of first appearance",
                   f"return dict(Counter({xs}))", twice(lambda: repeating(rng, "words")),
                   ("from collections import Counter",))


@family("find select detect", "words numbers", "frequent common")
def most_frequent(r: Request, rng: random.Random) -> Problem:
    kind, item = list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}]", item,
                   f"return the most frequent of the non-empty list of {r.label(kind)}; on a tie, the one that "
                   "appears first", f"return Counter({xs}).most_common(1)[0][0]",
                   twice(lambda: repeating(rng, kind)), ("from collections import Counter",))


@family("group collect classify index map partition", "words")
def group_by_initial(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    body = f"""groups = defaultdict(list)
for word in {xs}:
    groups[word[0]].append(word)
return dict(groups)"""
    return Problem(f"{xs}: list[str]", "dict[str, list[str]]",
                   f"group the non-empty {r.label('words')} by their first letter, in order of first appearance",
                   body, twice(lambda: random_words(rng, 5)), ("from collections import defaultdict",))


@family("filter select match extract", "words", "matching")
def filter_prefix(r: Request, rng: random.Random) -> Problem:
    xs, data = r.parameter("words"), random_words(rng, 5)
    prefix = rng.choice(data)[: rng.randint(1, 2)]
    return Problem(f"{xs}: list[str], prefix: str", "list[str]",
                   f"keep the {r.label('words')} that start with `prefix`, ignoring case",
                   f"return [word for word in {xs} if word.lower().startswith(prefix.lower())]",
                   ((data, prefix.upper()), (random_words(rng, 5), prefix)))


@family("sort rank order", "words", "longest shortest")
def sort_by_length(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    key, order = ("(-len(word), word)", "longest") if r.modifier == "longest" else ("(len(word), word)", "shortest")
    return Problem(f"{xs}: list[str]", "list[str]",
                   f"sort the {r.label('words')} {order} first, and alphabetically when lengths are equal",
                   f"return sorted({xs}, key=lambda word: {key})", twice(lambda: random_words(rng)))


@family("convert transform format", "words")
def snake_to_title(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "list[str]",
                   f"turn each of the {r.label('words')}, written in snake_case, into Title Case words separated "
                   "by spaces", f"return [' '.join(part.capitalize() for part in word.split('_')) for word in {xs}]",
                   twice(lambda: ["_".join(rng.sample(WORDS, rng.randint(1, 3))) for _ in range(2)]))


@family("detect find filter check match", "words")
def palindromes(r: Request, rng: random.Random) -> Problem:
    xs, pool = r.parameter("words"), ("level", "Anna", "rotor", "stats", "radar", *WORDS[:8])
    return Problem(f"{xs}: list[str]", "list[str]",
                   f"return the {r.label('words')} that read the same backwards, ignoring case",
                   f"return [word for word in {xs} if word.lower() == word.lower()[::-1]]",
                   twice(lambda: rng.sample(pool, 5)))


@family("group match classify pair", "words", "matching")
def anagram_groups(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    pool = ("listen", "silent", "enlist", "stone", "notes", "onset", "apple", "google", "below", "elbow")
    body = f"""groups = defaultdict(list)
for word in {xs}:
    groups["".join(sorted(word))].append(word)
return [group for group in groups.values() if len(group) > 1]"""
    return Problem(f"{xs}: list[str]", "list[list[str]]",
                   f"group the {r.label('words')} that are anagrams of each other; return the groups with more "
                   "than one word, in order of first appearance", body,
                   ((rng.sample(pool, 5),), (rng.sample(pool, 6),)), ("from collections import defaultdict",))


@family("map measure compute index", "words")
def word_lengths(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "dict[str, int]", f"map each of the {r.label('words')} to its length",
                   f"return {{word: len(word) for word in {xs}}}", ((random_words(rng),), (random_words(rng, 2),)))


@family("validate check match", "words", "valid")
def valid_emails(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    good = [f"{rng.choice(WORDS)}@{rng.choice(WORDS)}.com" for _ in range(2)]
    bad = [f"{rng.choice(WORDS)}.{rng.choice(WORDS)}", f"@{rng.choice(WORDS)}.org", f"{rng.choice(WORDS)}@"]
    return Problem(f"{xs}: list[str]", "list[bool]",
                   f"check which of the {r.label('words')} look like e-mail addresses: a name, '@', and a domain "
                   "with a dot", rf"return [bool(re.fullmatch(r'[\w.]+@\w+(\.\w+)+', text)) for text in {xs}]",
                   twice(lambda: rng.sample(good + bad, 3)), ("import re",))
