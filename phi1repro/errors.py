"""Errors that name the file, key or item at fault."""


class InputError(Exception):
    """An input file is missing, corrupt or malformed. The message names the file."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
