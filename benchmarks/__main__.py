"""``python -m benchmarks all|province|febrl4|generated [--json]``: see :mod:`benchmarks.cli`."""

from benchmarks.cli import main

raise SystemExit(main())
