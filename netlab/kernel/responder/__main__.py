"""``python -m netlab.kernel.responder --config FILE [--ready-fd N] [--foreground]``."""

import sys

from netlab.kernel.responder.server import main

sys.exit(main())
