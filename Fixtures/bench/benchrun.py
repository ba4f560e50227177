"""What the benchmark scripts share: one timed run of a fresh process."""
import os
import subprocess
import sys
import time


def run(cmd):
    """Wall seconds and peak RSS (MB) of one fresh process (its own rusage, via wait4); exits on failure."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024
