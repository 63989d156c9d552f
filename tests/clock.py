"""The test's clock (tests/conftest.py's ``clock`` fixture, a time-machine traveller that every
in-process clock follows: the plugin's and the fakes'). ``tests.utils.run_tasks`` moves it on
to a task's ``run_after`` rather than wait for it."""

traveller = None


def pass_time(seconds: float) -> None:
    """Let ``seconds`` pass on the test's clock at once (the plugin and the fakes see them)."""
    traveller.shift(seconds)
