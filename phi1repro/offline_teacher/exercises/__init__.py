"""Code exercises: the offline teacher's answers to exercise prompts (synth/prompts.py: EXERCISE_MARKER).

ExerciseGenerator answers with one function named as asked: a docstring stating a task set in the
requested domain, doctest examples and a solution, from parameterised problem families chosen by the
verb, noun and modifier in the name (writing.py). The modules imported below register the families, by
kind of data. The order of registration decides which family a request gets (choose_family), so they are
imported in the order their families were written, and a new family goes at the end of the last one.
"""

from . import numbers, words, text, structures, more_numbers, more_words  # noqa: F401, I001 (registration order)
from .problems import FAMILIES, Family, Problem, Request
from .writing import (
    FLAW_KINDS,
    FLAW_RATE,
    FLAW_WEIGHTS,
    Exercise,
    ExerciseGenerator,
    build_exercise,
    choose_family,
    draw_flaw,
    family_exercise,
    parse_request,
    write_exercise,
)

__all__ = [
    "FAMILIES", "FLAW_KINDS", "FLAW_RATE", "FLAW_WEIGHTS", "Exercise", "ExerciseGenerator", "Family", "Problem",
    "Request", "build_exercise", "choose_family", "draw_flaw", "family_exercise", "parse_request", "write_exercise",
]
