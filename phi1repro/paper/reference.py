"""The numbers phi-1's paper reports, drawn beside ours (Gunasekar et al. 2023, as PAPER.md gives them).

None marks a number PAPER.md does not give; a figure leaves that bar out and says so, rather than
reading a value off the paper's chart.
"""

DATASETS = {  # Figure 2.1's bars within a group, in order, with the paper's colours
    "stack_plus": ("The Stack+", "tab:orange"),
    "codetextbook": ("CodeTextbook", "yellowgreen"),
    "codeexercises": ("CodeTextbook → CodeExercises", "darkgreen"),
}

FIGURE_2_1 = {  # group -> dataset -> HumanEval pass@1 (%)
    "350M, 26B tokens": {"stack_plus": None, "codetextbook": None, "codeexercises": None},
    "350M, 76B tokens": {"stack_plus": None, "codetextbook": 20.12, "codeexercises": 45.0},
    "1.3B, 51-76B tokens": {"stack_plus": None, "codetextbook": 29.0, "codeexercises": 50.6},
}
FIGURE_2_1_NOTE = (
    "Paper values as PAPER.md gives them: phi-1 50.6, phi-1-base 29, phi-1-small 45, and 20.12 for 350M on "
    "CodeTextbook; the Stack+ bars' values are not given (its text: 12.19 for 350M after ~200B tokens).")

TABLE_1 = [  # model, parameters, training tokens (the dataset, seen ~8 times), HumanEval, MBPP pass@1 (%)
    ("phi-1", "1.3B", "7B", 50.6, 55.5),
    ("phi-1-base", "1.3B", "7B", 29.0, None),
    ("phi-1-small", "350M", "7B", 45.0, None),
]
