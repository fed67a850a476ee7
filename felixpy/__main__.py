"""`felixpy` console script: run the agent in the foreground, configured by FELIX_* variables."""
import sys

from felixpy.daemon import run


def main() -> int:
    return run()


if __name__ == "__main__":
    sys.exit(main())
