from __future__ import annotations


class ConfigError(Exception):
    """A user's mistake in the configuration; printed without a traceback.

    ``problems`` holds one line per mistake, each naming the file, line and
    key path, e.g. ``config.yaml:12 targets[1].interval: '5 minutes' is not a
    duration (use 15s, 5m, 1h)``.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
