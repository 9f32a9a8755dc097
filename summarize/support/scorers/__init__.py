"""Pluggable support scorers behind one protocol; `get_scorer(name)` picks one."""

from summarize.support.scorers.base import Scorer, available, get_scorer, register, select_support

__all__ = ["Scorer", "available", "get_scorer", "register", "select_support"]
