"""Exercise families on text: sentences, messages, brackets, characters."""

from __future__ import annotations

import random

from .problems import Problem, Request, family, random_words, twice


@family("reverse transform invert", "text")
def reverse_words(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "str", f"reverse the order of the words in the {r.label('text')}, separating "
                   "them by single spaces", f"return ' '.join(reversed({text}.split()))",
                   ((" ".join(random_words(rng)),), (" ".join(random_words(rng, 2)),), ("",)))


@family("parse decode extract split", "text")
def parse_pairs(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    separator, assign = rng.choice(((";", "="), (",", ":"), ("&", "=")))
    body = f"""result = {{}}
for part in {text}.split({separator!r}):
    if part.strip():
        key, _, value = part.partition({assign!r})
        result[key.strip()] = int(value)
return result"""
    return Problem(f"{text}: str", "dict[str, int]",
                   f"parse the {r.label('text')}, made of `key{assign}number` parts separated by {separator!r}, into "
                   "a dictionary of integers", body,
                   twice(lambda: separator.join(f"{w}{assign}{rng.randint(0, 99)}" for w in random_words(rng, 3)))
                   + (("",),))


@family("extract parse collect", "text")
def extract_numbers(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "list[int]",
                   f"extract all the integers (possibly negative) from the {r.label('text')}",
                   f"return [int(number) for number in re.findall(r'-?\\d+', {text})]",
                   twice(lambda: " ".join(f"{w} {rng.randint(-20, 99)}" for w in random_words(rng, 3)))
                   + (("no digits here",),), ("import re",))


@family("split extract parse normalize", "text")
def split_words(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "list[str]",
                   f"split the {r.label('text')} into lowercase words, dropping punctuation",
                   f"return re.findall(r'[a-z]+', {text}.lower())",
                   twice(lambda: ", ".join(w.capitalize() if i % 2 else w for i, w in enumerate(random_words(rng)))
                         + "!"),
                   ("import re",))


@family("compress encode summarize", "text")
def run_length_encode(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "str", f"compress the {r.label('text')} with run-length encoding: each run of "
                   "a repeated character becomes the character followed by the run's length",
                   f"return ''.join(f'{{char}}{{len(list(run))}}' for char, run in groupby({text}))",
                   twice(lambda: "".join(rng.choice("abc") * rng.randint(1, 4) for _ in range(4))) + (("",),),
                   ("from itertools import groupby",))


@family("decode expand", "text")
def run_length_decode(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "str", f"decode the run-length encoded {r.label('text')}, where each character "
                   "is followed by how many times it repeats",
                   f"return ''.join(char * int(count) for char, count in re.findall(r'(\\D)(\\d+)', {text}))",
                   twice(lambda: "".join(f"{rng.choice('xyz')}{rng.randint(1, 4)}" for _ in range(3))),
                   ("import re",))


@family("encode decode shift transform", "text")
def caesar_shift(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    body = f"""result = []
for char in {text}:
    if char.islower():
        result.append(chr((ord(char) - ord('a') + shift) % 26 + ord('a')))
    else:
        result.append(char)
return ''.join(result)"""
    return Problem(f"{text}: str, shift: int", "str", f"shift every lowercase letter of the {r.label('text')} "
                   "`shift` places along the alphabet, wrapping from z to a; other characters stay", body,
                   ((" ".join(random_words(rng, 2)), rng.randint(1, 5)), ("xyz!", rng.randint(1, 5))))


@family("validate check balance match", "text", "balanced valid")
def balanced_brackets(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    body = f"""pairs = {{')': '(', ']': '[', '}}': '{{'}}
stack = []
for char in {text}:
    if char in '([{{':
        stack.append(char)
    elif char in pairs:
        if not stack or stack.pop() != pairs[char]:
            return False
return not stack"""
    samples = ("(a[b]{c})", "([)]", "{[()()]}", "((x)", "[]{}()", "(]", "x(y)z]")
    return Problem(f"{text}: str", "bool", f"check that the brackets (), [] and {{}} in the {r.label('text')} are "
                   "balanced and properly nested", body, tuple((sample,) for sample in rng.sample(samples, 3)))


@family("count tally measure", "text")
def count_vowels(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "int",
                   f"count the vowels (a, e, i, o, u, in either case) in the {r.label('text')}",
                   f"return sum(1 for char in {text}.lower() if char in 'aeiou')",
                   ((" ".join(random_words(rng, 2)).title(),), (" ".join(random_words(rng, 3)),), ("",)))
