"""`python -m sandbox.faults hold ROOT COUNT IN_TRANSACTION`: the helper process of the connection faults."""

import sys

from sandbox.faults.database import hold

if __name__ == "__main__" and sys.argv[1] == "hold":
    hold(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "True")
