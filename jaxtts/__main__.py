"""`python -m jaxtts` runs the `jaxtts` command."""
from jaxtts.cli import main

raise SystemExit(main())
