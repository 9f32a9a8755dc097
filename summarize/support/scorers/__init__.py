"""Pluggable support scorers behind one protocol; `get_scorer(name)` picks one."""

from summarize.support.scorers.base import (
    Scorer,
    ScorerUnavailable,
    available,
    get_scorer,
    needs_model,
    register,
    select_support,
    unavailable,
)

__all__ = [
    "Scorer",
    "ScorerUnavailable",
    "available",
    "get_scorer",
    "needs_model",
    "register",
    "select_support",
    "unavailable",
]
