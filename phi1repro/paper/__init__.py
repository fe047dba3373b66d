"""The paper's experiments as artifacts: Figure 2.1, Tables 1-3 and Figure 3.1, drawn from the
workflow's own results beside the numbers the paper reports (reference.py)."""
