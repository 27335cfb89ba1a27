#!/usr/bin/env python3
"""A console-socket receiver for tests (what runc's recvtty or containerd's shim does).

console_recv.py SOCKET OUTFILE [INPUT]: listen on SOCKET, take the pty master that the runtime
sends (SCM_RIGHTS), type INPUT into it, and append everything the container's terminal prints to
OUTFILE. Keeps the master open until killed: a shell on the terminal stays up while it runs."""
import os
import socket
import sys

sock_path, out_path = sys.argv[1], sys.argv[2]
typed = (sys.argv[3] if len(sys.argv) > 3 else "").encode()
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock_path)
srv.listen(1)
conn, _ = srv.accept()
_, fds, _, _ = socket.recv_fds(conn, 4096, 1)
master = fds[0]
if typed:
    os.write(master, typed)
with open(out_path, "ab", buffering=0) as out:
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        out.write(data)
