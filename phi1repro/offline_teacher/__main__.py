"""`python -m phi1repro.offline_teacher`: serve the offline teacher (see server.py)."""

from .server import main

main()
