"""``python -m netfleet_sim``: the simulator CLI."""

import sys

from netfleet_sim.cli import main

sys.exit(main(sys.argv[1:]))
