"""``python -m backend.followers SETTINGS_JSON``: the followers process (worker.py)."""

import sys

from backend.followers.worker import main

sys.exit(main(sys.argv[1:]))
