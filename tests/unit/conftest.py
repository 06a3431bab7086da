"""Make ``tests/factories.py`` importable as ``factories`` from the unit tests.

The tests directory is not a package (pytest's default rootdir import mode), so its own
folder is not on ``sys.path`` for tests one level down.
"""

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent.parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
