#!/usr/bin/python3
"""Runs Apache's /usr/bin/htdigest (apache2-utils) on a pseudo-terminal, since it reads the
password from the terminal only:  run_htdigest.py [-c] FILE REALM USER PASSWORD"""
import os
import pty
import sys
import termios
import time

args, password = sys.argv[1:-1], sys.argv[-1].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv("/usr/bin/htdigest", ["htdigest"] + args)
out = b""
for _ in range(2):
    while b"assword" not in out:
        chunk = os.read(fd, 1024)
        if not chunk:
            sys.exit("htdigest closed the terminal early: " + out.decode(errors="replace"))
        out += chunk
    out = b""
    # htdigest turns echo off with TCSAFLUSH, which discards input typed before: wait for it.
    for _ in range(500):
        if not termios.tcgetattr(fd)[3] & termios.ECHO:
            break
        time.sleep(0.01)
    time.sleep(0.05)
    os.write(fd, password + b"\n")
try:
    while os.read(fd, 1024):
        pass
except OSError:
    pass
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
