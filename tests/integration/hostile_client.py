#!/usr/bin/env python3
"""A hostile local user of the daemon's socket, for tests/integration/availability.sh: written
from PROTOCOL.md, independently of lib/wire.cpp. Each command runs for SECONDS, then prints one
line of `key=value` figures and exits.

    hostile_client.py SOCKET hold COUNT SECONDS
        Keeps up to COUNT connections open, each sending PING every second, and opens new ones
        as the daemon closes or refuses them. Figures: busy (connections refused with ERROR
        busy), most_open (most connections open at once that answered a PING), longest (the
        longest any connection lived, in seconds), pings (PINGs answered).
    hostile_client.py SOCKET connect SECONDS
        Opens connections as fast as it can and never sends anything, closing the oldest half
        when it runs out of descriptors. Figures: opened, refused (connect() failed).
    hostile_client.py SOCKET refused USER CONNECTIONS SECONDS
        Sends STATUS for USER (someone else's account: refused) back to back on CONNECTIONS
        connections. Figures: requests, denied, busy, closed.
    hostile_client.py SOCKET guess USER CONNECTIONS SECONDS
        Sends AUTHENTICATE for USER with wrong passwords back to back on CONNECTIONS connections.
        Figures: requests, busy, other (any other reply).
    hostile_client.py SOCKET checks USER PASSWORD CONNECTIONS SECONDS
        Sends AUTHENTICATE (password only) for USER with PASSWORD back to back on CONNECTIONS
        connections: with USER's right password, each one costs the daemon a password check and
        is never throttled. Figures: requests, busy, succeeded (logins that succeeded), other.
    hostile_client.py SOCKET forge USER SERVICE RHOST
        Sends one AUTHENTICATE for USER (a wrong password) claiming SERVICE and RHOST; prints
        the reply type.
"""
import errno
import selectors
import socket
import struct
import sys
import time

PING, STATUS, AUTHENTICATE, ERROR = 0x01, 0x02, 0x03, 0xFF
AUTH_REPLY, AUTH_SUCCESS, AUTH_THROTTLED = 0x83, 0, 3
ERROR_PERMISSION_DENIED, ERROR_BUSY = 4, 7


def string(text):
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def frame(msg_type, payload=b""):
    body = bytes([1, msg_type]) + payload
    return struct.pack(">I", len(body)) + body


def status_request(user):
    return frame(STATUS, string(user))


def authenticate_request(user, password, service="hostile", rhost=""):
    payload = (string(user) + string(service) + string(rhost) + string("") + bytes([1])
               + string(password) + string(""))
    return frame(AUTHENTICATE, payload)


class Peer:
    """One connection: non-blocking, with a buffer for the reply being read."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.connect(path)
        self.opened = time.monotonic()
        self.inbox = b""
        self.waiting = False
        self.answered = False

    def send(self, data):
        self.sock.send(data)
        self.waiting = True

    def replies(self):
        """Reads what is there; returns the complete reply frames as (type, code) pairs (the
        error code of an ERROR, the result of an AUTH_REPLY), or None when the daemon closed
        the connection."""
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return []
        except OSError:
            return None
        if not chunk:
            return None
        self.inbox += chunk
        out = []
        while len(self.inbox) >= 4:
            (length,) = struct.unpack(">I", self.inbox[:4])
            if len(self.inbox) < 4 + length:
                break
            body, self.inbox = self.inbox[4:4 + length], self.inbox[4 + length:]
            if body[1] == ERROR:
                code = struct.unpack(">H", body[2:4])[0]
            elif body[1] == AUTH_REPLY:
                code = body[2]
            else:
                code = None
            out.append((body[1], code))
            self.waiting = False
        return out

    def close(self):
        self.sock.close()


def hold(path, count, seconds):
    sel = selectors.DefaultSelector()
    peers = set()
    busy = pings = most_open = 0
    longest = 0.0
    end = time.monotonic() + seconds
    next_ping = 0.0

    def drop(peer):
        nonlocal longest
        if peer.answered:
            longest = max(longest, time.monotonic() - peer.opened)
        sel.unregister(peer.sock)
        peer.close()
        peers.discard(peer)

    while time.monotonic() < end:
        while len(peers) < count:
            try:
                peer = Peer(path)
            except OSError:
                break
            peers.add(peer)
            sel.register(peer.sock, selectors.EVENT_READ, peer)
        now = time.monotonic()
        if now >= next_ping:
            for peer in list(peers):
                if not peer.waiting:
                    try:
                        peer.send(frame(PING))
                    except OSError:
                        pass  # the reply (busy) or the close is read below
            next_ping = now + 1.0
        for key, _ in sel.select(timeout=0.05):
            peer = key.data
            got = peer.replies()
            if got is None:
                drop(peer)
                continue
            for msg_type, code in got:
                if msg_type == ERROR and code == ERROR_BUSY:
                    busy += 1
                elif msg_type == PING | 0x80:
                    pings += 1
                    peer.answered = True
        most_open = max(most_open, sum(1 for p in peers if p.answered))
    for peer in list(peers):
        drop(peer)
    print("busy=%d most_open=%d longest=%.1f pings=%d" % (busy, most_open, longest, pings))


def connect_flood(path, seconds):
    held = []
    opened = refused = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            held.append(Peer(path))
            opened += 1
        except OSError as e:
            refused += 1
            if e.errno in (errno.EMFILE, errno.ENFILE):
                for peer in held[: len(held) // 2]:
                    peer.close()
                held = held[len(held) // 2:]
            else:
                time.sleep(0.001)  # the backlog is full
    for peer in held:
        peer.close()
    print("opened=%d refused=%d" % (opened, refused))


def requests_flood(path, request, connections, seconds):
    """Sends `request` back to back on each connection; counts the replies by kind."""
    sel = selectors.DefaultSelector()
    counts = {"requests": 0, "denied": 0, "busy": 0, "closed": 0, "other": 0, "throttled": 0,
              "succeeded": 0}
    end = time.monotonic() + seconds

    def open_one():
        try:
            peer = Peer(path)
            peer.send(request)
        except OSError:
            return
        sel.register(peer.sock, selectors.EVENT_READ, peer)

    for _ in range(connections):
        open_one()
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.05):
            peer = key.data
            got = peer.replies()
            if got is None:
                counts["closed"] += 1
                sel.unregister(peer.sock)
                peer.close()
                open_one()
                continue
            for msg_type, code in got:
                counts["requests"] += 1
                if msg_type == ERROR and code == ERROR_PERMISSION_DENIED:
                    counts["denied"] += 1
                elif msg_type == ERROR and code == ERROR_BUSY:
                    counts["busy"] += 1
                elif msg_type == AUTH_REPLY and code == AUTH_THROTTLED:
                    counts["throttled"] += 1
                elif msg_type == AUTH_REPLY and code == AUTH_SUCCESS:
                    counts["succeeded"] += 1
                else:
                    counts["other"] += 1
            if not peer.waiting:
                try:
                    peer.send(request)
                except OSError:
                    pass
        if not sel.get_map():
            open_one()
    print(" ".join("%s=%d" % item for item in counts.items()))


def main():
    path, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if command == "hold":
        hold(path, int(args[0]), float(args[1]))
    elif command == "connect":
        connect_flood(path, float(args[0]))
    elif command == "refused":
        requests_flood(path, status_request(args[0]), int(args[1]), float(args[2]))
    elif command == "guess":
        requests_flood(path, authenticate_request(args[0], "not-the-password"), int(args[1]),
                       float(args[2]))
    elif command == "checks":
        requests_flood(path, authenticate_request(args[0], args[1]), int(args[2]),
                       float(args[3]))
    elif command == "forge":
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(15)
            sock.connect(path)
            sock.sendall(authenticate_request(args[0], "not-the-password", args[1], args[2]))
            header = sock.recv(6)
            print("REPLY 0x%02x" % header[5] if len(header) == 6 else "CLOSED")
    else:
        raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    main()
