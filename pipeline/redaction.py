"""Keep ID numbers out of logs: a filter that masks them in every record a handler emits.

The pipeline never logs names or ID numbers on purpose (only counts); this filter is the
safety net for messages it does not control (a library's exception text, say). It masks
anything shaped like an 18- or 15-digit resident ID (`110105********123X`).
"""

from __future__ import annotations

import logging
import re

from pipeline.normalise.id_number import mask_id

ID_PATTERN = re.compile(r"(?<![0-9])(\d{17}[\dXx]|\d{15})(?![0-9])")


def redact(text: str) -> str:
    return ID_PATTERN.sub(lambda m: mask_id(m.group(0)), text)


class RedactIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_redaction() -> None:
    """Add the filter to every handler configured so far (root, Prefect's, any other)."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactIds) for f in handler.filters):
                handler.addFilter(RedactIds())
