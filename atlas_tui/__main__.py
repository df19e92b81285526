"""`python -m atlas_tui` behaves exactly like `atlas`."""

import sys

from atlas_tui.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
