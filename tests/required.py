"""Tests that need something outside Python (a browser, the real Bluesky PDS) skip, saying why,
when it is missing; where it is expected (CI sets ``<VARIABLE>=required``) they fail instead."""

import os
from typing import NoReturn

import pytest


def unavailable(what: str, reason: str, variable: str) -> NoReturn:
    """Skip the test because ``reason``; fail it if ``variable`` is ``required``."""
    if os.environ.get(variable) == "required":
        pytest.fail(f"{what} are required here ({variable}=required), but {reason}")
    pytest.skip(reason)
