"""What every Snakemake script does around its step: log to the rule's log, report input errors plainly."""

from __future__ import annotations

import sys
from collections.abc import Callable

from .errors import InputError
from .progress import setup_logging


def run_step(snakemake, step: Callable, **kwargs):
    """Run `step(**kwargs)` with logging to the rule's log file; an InputError ends the job with
    its message (naming the file) instead of a traceback."""
    log = setup_logging(snakemake.log[0] if snakemake.log else None)
    try:
        return step(**kwargs)
    except InputError as e:
        log.error("rule %s: %s", snakemake.rule, e)
        sys.exit(1)
