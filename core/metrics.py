"""Prometheus metrics (stub: the real registry replaces these no-ops)."""

from __future__ import annotations


def observe_callback(seconds: float, outcome: str) -> None:
    return None


def count_request(route: str, status: int) -> None:
    return None


def count_outbox(outcome: str) -> None:
    return None
