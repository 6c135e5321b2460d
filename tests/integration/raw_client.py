#!/usr/bin/env python3
"""A protocol client written independently of lib/wire.cpp, for tests that must send what the
real clients never would: another user's name, malformed frames, slow or oversized ones.

    raw_client.py SOCKET COMMAND [ARGS...]

Commands (one request each, unless said otherwise):
    ping | status USER | authenticate USER MODE PASSWORD CODE | enroll_begin USER
    enroll_confirm USER CODE | send_code USER PASSWORD [CHANNEL]
    raw HEX                  send these bytes as they are
    slow HEX SECONDS         send HEX one byte per second (stops after SECONDS)
    hold SECONDS             connect, send nothing, report when the daemon closes
    ping_last                PING, then shut down the sending side: the reply, then "EOF" when
                             the daemon closes within 2 s, else "STILL-OPEN"
    ping_twice PAUSE         PING, wait PAUSE seconds, PING again on the same connection
Prints one line: "REPLY 0xNN", "ERROR <code> <message>", or "CLOSED" (the daemon closed the
connection without a reply); with `hold`, "CLOSED-AFTER <seconds>" or "STILL-OPEN".
"""
import socket
import struct
import sys
import time

TYPES = {"ping": 1, "status": 2, "authenticate": 3, "enroll_begin": 4, "enroll_confirm": 5,
         "send_code": 11}


def string(text):
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def frame(msg_type, payload, version=1):
    body = bytes([version, msg_type]) + payload
    return struct.pack(">I", len(body)) + body


def build(command, args):
    if command == "ping":
        return frame(TYPES["ping"], b"")
    if command in ("status", "enroll_begin"):
        return frame(TYPES[command], string(args[0]))
    if command == "authenticate":
        user, mode, password, code = args
        payload = (string(user) + string("raw-client") + string("") + string("")
                   + bytes([int(mode)]) + string(password) + string(code))
        return frame(TYPES["authenticate"], payload)
    if command == "send_code":
        user, password = args[0], args[1]
        channel = int(args[2]) if len(args) > 2 else 0
        payload = (string(user) + string("raw-client") + string("") + string("")
                   + string(password) + bytes([channel]))
        return frame(TYPES["send_code"], payload)
    if command == "enroll_confirm":
        return frame(TYPES["enroll_confirm"], string(args[0]) + string(args[1]))
    raise SystemExit("unknown command " + command)


def read_reply(sock):
    def exact(count):
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    header = exact(4)
    if header is None:
        return "CLOSED"
    (length,) = struct.unpack(">I", header)
    body = exact(length)
    if body is None or length < 2:
        return "CLOSED"
    version, msg_type = body[0], body[1]
    if msg_type == 0xFF:
        (code,) = struct.unpack(">H", body[2:4])
        (mlen,) = struct.unpack(">H", body[4:6])
        return "ERROR %d %s" % (code, body[6:6 + mlen].decode(errors="replace"))
    return "REPLY 0x%02x %s" % (msg_type, body[2:].hex())


def main():
    path, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(15)
    sock.connect(path)
    try:
        if command == "hold":
            start = time.monotonic()
            sock.settimeout(float(args[0]))
            try:
                data = sock.recv(1)
                print("CLOSED-AFTER %.1f" % (time.monotonic() - start) if not data else "DATA")
            except socket.timeout:
                print("STILL-OPEN")
            return
        if command == "slow":
            data, limit = bytes.fromhex(args[0]), float(args[1])
            start = time.monotonic()
            for i in range(len(data)):
                if time.monotonic() - start > limit:
                    break
                try:
                    sock.send(data[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    print("CLOSED-AFTER %.1f" % (time.monotonic() - start))
                    return
                time.sleep(1)
            try:
                print(read_reply(sock))
            except ConnectionResetError:
                print("CLOSED")
            return
        if command == "ping_last":
            sock.sendall(build("ping", []))
            sock.shutdown(socket.SHUT_WR)
            print(read_reply(sock))
            sock.settimeout(2)
            try:
                print("EOF" if not sock.recv(1) else "DATA")
            except socket.timeout:
                print("STILL-OPEN")
            return
        if command == "ping_twice":
            for _ in range(2):
                sock.sendall(build("ping", []))
                print(read_reply(sock))
                time.sleep(float(args[0]))
            return
        data = bytes.fromhex(args[0]) if command == "raw" else build(command, args)
        sock.sendall(data)
        try:
            print(read_reply(sock))
        except ConnectionResetError:
            print("CLOSED")
    finally:
        sock.close()


if __name__ == "__main__":
    main()
