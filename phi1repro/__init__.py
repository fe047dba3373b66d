"""phi1repro: a reproducible build of phi-1 ("Textbooks Are All You Need")."""

__version__ = "0.1.0"
