"""Progress bars and step logging shared by every stage."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from tqdm import tqdm


def progress(iterable: Iterable | None = None, *, desc: str, total: int | None = None, unit: str = "doc") -> tqdm:
    """A tqdm bar on stderr: lively on a terminal, a line every 30 s in a log or a batch job."""
    interactive = sys.stderr.isatty()
    return tqdm(
        iterable,
        desc=desc,
        total=total,
        unit=unit,
        unit_scale=True,
        file=sys.stderr,
        mininterval=0.2 if interactive else 30,
        dynamic_ncols=interactive,
    )


def setup_logging(log_path: str | None = None) -> logging.Logger:
    """Log INFO and above to stderr and, when given, to the rule's log file."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=handlers, force=True)
    for chatty in ("httpx", "httpx2", "openai"):  # one line per HTTP request
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return logging.getLogger("phi1repro")
