"""``python -m dcgan_core.train …``: the command line's documented entry (README.md).

The command line itself lives in ``dcgan_core.cli``; the training core in
``config`` → ``step``/``fastpath`` → ``trainer`` → ``rundir`` → ``loop`` → the drivers.
"""

import sys

from dcgan_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
