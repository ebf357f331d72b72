"""`python -m sandbox …` is `opscheck sandbox …` (what the sandbox's own crontab runs)."""

import sys

from sandbox.cli import main

sys.exit(main())
