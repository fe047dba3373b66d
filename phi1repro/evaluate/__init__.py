"""Evaluation: generate completions from a checkpoint, execute them in the sandbox, score pass@k."""
