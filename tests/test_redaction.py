"""ID numbers never reach a log line in full."""

from __future__ import annotations

import logging

from pipeline.redaction import RedactIds, install_redaction, redact


def test_redact_masks_18_and_15_digit_ids_only() -> None:
    text = "row 12: 11010519900101123X and 110105900101123 but not 12345 or 2026-06-30"
    assert redact(text) == ("row 12: 110105********123X and 110**********23 but not 12345 "
                            "or 2026-06-30")


def test_installed_filter_masks_records_of_every_handler() -> None:
    logger = logging.getLogger("bidui.test.redaction")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        install_redaction()
        assert any(isinstance(f, RedactIds) for f in handler.filters)
        record = logging.LogRecord("x", logging.ERROR, __file__, 1,
                                   "bad value %s", ("11010519900101123X",), None)
        for f in handler.filters:
            f.filter(record)
        assert record.getMessage() == "bad value 110105********123X"
    finally:
        logger.removeHandler(handler)
