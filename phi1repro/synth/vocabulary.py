"""The built-in lists that diversify synthetic prompts. A config list, when given, replaces one of these.

phi-1 made its synthetic data diverse by constraining each prompt: a topic and a target audience
for textbook sections, a function name for exercises. These defaults are broad enough for the
demo and a start at scale; a paper-scale run should extend them (the rule rejects a config whose
name space is smaller than the exercises it asks for).
"""

TOPICS = (
    # Python, the language
    "variables and assignment", "numbers and arithmetic", "integer division and remainders",
    "floating point numbers and rounding", "strings and string methods", "string formatting with f-strings",
    "booleans and comparisons", "if, elif and else", "while loops", "for loops and range",
    "break, continue and loop else", "lists", "list slicing", "list comprehensions", "tuples and unpacking",
    "dictionaries", "dictionary comprehensions", "sets and set operations", "functions and parameters",
    "default and keyword arguments", "*args and **kwargs", "return values", "scope and closures",
    "recursion", "lambda functions", "higher-order functions: map, filter and sorted", "iterators",
    "generators and yield", "exceptions and try/except", "raising your own exceptions", "classes and objects",
    "methods and attributes", "inheritance", "special methods like __init__ and __repr__", "dataclasses",
    "modules and imports", "reading and writing text files", "working with paths", "regular expressions",
    "type hints", "context managers and with", "decorators", "enumerate and zip", "itertools",
    "collections: Counter, defaultdict and deque", "the math module", "random numbers", "dates and times",
    "JSON", "CSV files", "unit testing with assert", "doctest", "debugging strategies", "code style and PEP 8",
    # computer science basics
    "algorithms and their running time", "big-O notation", "linear search", "binary search",
    "sorting algorithms", "stacks", "queues", "linked lists", "hash tables", "trees and tree traversal",
    "binary search trees", "heaps and priority queues", "graphs and breadth-first search",
    "depth-first search", "dynamic programming", "greedy algorithms", "divide and conquer",
    "prime numbers", "greatest common divisor", "bit manipulation", "number bases: binary and hexadecimal",
    "matrices as lists of lists", "string algorithms: palindromes and anagrams", "parsing text",
    "simulation with random numbers", "memoization", "immutability", "state machines",
)

AUDIENCES = (
    "a curious ten-year-old", "a high-school student", "a first-year university student",
    "a self-taught beginner", "a data analyst who knows spreadsheets", "a scientist who writes scripts",
    "a teacher preparing a lesson", "a programmer coming from JavaScript",
    "a professional software engineer", "a job candidate preparing for coding interviews",
)

STYLES = (
    "a clear explanation followed by worked examples", "a step-by-step tutorial",
    "a story with characters who solve a problem", "questions and answers",
    "a comparison of a wrong and a right approach", "a short lecture with a summary at the end",
)

VERBS = (
    "add", "average", "balance", "build", "check", "clamp", "classify", "collect", "combine", "compare",
    "compress", "compute", "convert", "count", "decode", "deduplicate", "detect", "encode", "estimate",
    "expand", "extract", "filter", "find", "flatten", "format", "group", "generate", "index", "interleave",
    "invert", "join", "label", "limit", "list", "locate", "map", "match", "measure", "merge", "normalize",
    "pair", "parse", "partition", "rank", "reverse", "rotate", "round", "sample", "scale", "score",
    "select", "shift", "sort", "split", "summarize", "swap", "tally", "transform", "trim", "validate",
)

MODIFIERS = (
    "active", "adjacent", "alternating", "ascending", "average", "balanced", "common", "consecutive",
    "descending", "distinct", "duplicate", "empty", "even", "first", "frequent", "hidden", "largest",
    "last", "longest", "lower", "matching", "missing", "negative", "nested", "odd", "overlapping",
    "positive", "prime", "rare", "repeated", "shortest", "smallest", "sorted", "total", "unique", "upper",
    "valid", "weighted",
)

NOUNS = (
    "accounts", "ages", "amounts", "angles", "answers", "balances", "bits", "blocks", "books", "brackets",
    "buckets", "cells", "characters", "cities", "coins", "colors", "columns", "coordinates", "counts",
    "dates", "days", "digits", "distances", "edges", "emails", "entries", "events", "files", "flights",
    "fractions", "grades", "grid", "groups", "hours", "intervals", "items", "keys", "labels", "letters",
    "lines", "matrix", "measurements", "messages", "minutes", "names", "nodes", "numbers", "orders",
    "pairs", "paths", "points", "prices", "primes", "queue", "ratings", "readings", "records", "rows",
    "scores", "segments", "sentences", "sequence", "signals", "squares", "stack", "steps", "strings",
    "students", "tags", "tasks", "temperatures", "tickets", "tokens", "totals", "tree", "values", "vectors",
    "votes", "weights", "words",
)

DOMAINS = (
    "text processing", "school grades", "inventory management", "banking", "weather data", "games",
    "geometry", "calendars and dates", "music playlists", "sports statistics", "e-commerce orders",
    "library catalogues", "social networks", "transport schedules", "recipes and cooking",
    "health and fitness tracking", "file systems", "networking logs", "elections and voting",
    "chemistry", "physics simulations", "maps and navigation", "puzzles", "cryptography basics",
    "data cleaning", "finance", "event scheduling", "robotics", "ecology", "board games",
)
