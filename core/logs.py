"""Logging set-up: one line per event, secrets masked on the way out."""
from __future__ import annotations

import logging
import sys

from core.masking import mask


class MaskingFilter(logging.Filter):
    def __init__(self, secrets: frozenset[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        # Render once, mask, and freeze the message so no handler sees the raw args.
        record.msg = mask(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text, self.secrets)
        return True


def setup_logging(secrets: frozenset[str], level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler logs every job run at INFO: that is noise at 15 s intervals.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
