#!/usr/bin/env python3
"""syslog_listener.py SOCKET FILE: binds a syslog datagram socket at SOCKET and appends every
line it receives to FILE, one a line, until killed. The tests' stand-in for a syslog daemon."""
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536) + b"\n")
