"""Helpers shared by several test modules (test modules never import each other)."""

from __future__ import annotations

import shutil

import pytest


def tool(name: str) -> str:
    """Path of an external program (soffice, pdfinfo, ...); the test is skipped where it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path
