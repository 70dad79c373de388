"""``python -m lcpfn.cli ...``: the same as the ``lcpfn`` command."""

from lcpfn.cli.main import main

raise SystemExit(main())
