"""The version of the core distribution (a module of its own, so any layer may read it)."""

__version__ = "0.3.0"
