"""``python -m wedgenet``: the ``wedgenet`` console script (see :mod:`wedgenet.cli`)."""

import sys

from .cli import main

sys.exit(main())
