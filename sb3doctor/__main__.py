"""``python -m sb3doctor`` is the same as the ``sb3doctor`` command."""

from sb3doctor.cli import main

raise SystemExit(main())
