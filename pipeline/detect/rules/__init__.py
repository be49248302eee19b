"""One module per discrepancy code of SPEC §4. Each exposes CODE, SEVERITY and `detect(ctx)`."""
