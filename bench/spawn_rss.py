# SPDX-License-Identifier: AGPL-3.0-or-later
"""Run a command and write its peak RSS (KiB, ``ru_maxrss``) to a file: ``spawn_rss.py OUT CMD…``.

Linux carries a process's peak RSS across ``exec``, so a command forked straight from the
benchmark (a large Python process) would report at least the benchmark's own size. This small
interpreter (only ``os`` and ``sys``) spawns the command instead, so every program measured
starts from the same small floor (about 10 MiB).
"""

import os
import sys

out, cmd = sys.argv[1], sys.argv[2:]
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
