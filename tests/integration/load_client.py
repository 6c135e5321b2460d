#!/usr/bin/env python3
"""Load for crash tests: code-only AUTHENTICATE requests for distinct users, each with the code
its app shows now (TOTP computed here, independently of the daemon), from several connections.
Every success the daemon confirms is appended to SUCCESSES ("user code" per line, flushed at
once), so that a test can replay them after killing the daemon.

    load_client.py SOCKET USERS_FILE FIRST COUNT THREADS SUCCESSES [--replay]

With --replay, SUCCESSES is read instead and every line is sent again; prints how many of them
were accepted (which must be 0).

    load_client.py SOCKET USERS_FILE FIRST COUNT THREADS CONFIRMED --enroll

With --enroll, the users (names only) enroll instead: ENROLL_BEGIN, then ENROLL_CONFIRM with
the code of the secret the daemon returned; every confirmation the daemon answers is appended
to CONFIRMED.
"""
import base64, hashlib, hmac, socket, struct, sys, threading, time


def totp(secret, now):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(now // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 15
    value = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000
    return "%06d" % value


def string(text):
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def exchange(sock, msg_type, payload):
    body = bytes([1, msg_type]) + payload
    sock.sendall(struct.pack(">I", len(body)) + body)
    header = b""
    while len(header) < 4:
        chunk = sock.recv(4 - len(header))
        if not chunk:
            raise ConnectionError("closed")
        header += chunk
    (length,) = struct.unpack(">I", header)
    reply = b""
    while len(reply) < length:
        chunk = sock.recv(length - len(reply))
        if not chunk:
            raise ConnectionError("closed")
        reply += chunk
    return reply


def enroll(sock, user):
    """Begins and confirms an enrollment; True when the daemon says confirmed."""
    reply = exchange(sock, 4, string(user))
    if reply[1] != 0x84:
        return False
    (length,) = struct.unpack(">H", reply[2:4])
    secret = reply[4:4 + length].decode()
    confirm = exchange(sock, 5, string(user) + string(totp(secret, time.time())))
    return confirm[1] == 0x85 and confirm[2] == 0


def authenticate(sock, user, code):
    payload = string(user) + string("crash-test") + string("") + string("") + bytes([3]) \
        + string("") + string(code)
    reply = exchange(sock, 3, payload)
    return reply[1] == 0x83 and reply[2] == 0


def main():
    path, users_file, first, count, threads, successes = sys.argv[1:7]
    if "--replay" in sys.argv:
        accepted = 0
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        for line in open(successes):
            user, code = line.split()
            if authenticate(sock, user, code):
                accepted += 1
        print(accepted)
        return
    enrolling = "--enroll" in sys.argv
    users = [line.split() for line in open(users_file)][int(first):int(first) + int(count)]
    out = open(successes, "a")
    lock = threading.Lock()
    next_index = [0]

    def worker():
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)
            while True:
                with lock:
                    index = next_index[0]
                    next_index[0] += 1
                if index >= len(users):
                    return
                if enrolling:
                    user = users[index][0]
                    if enroll(sock, user):
                        with lock:
                            out.write("%s\n" % user)
                            out.flush()
                    continue
                user, secret = users[index]
                code = totp(secret, time.time())
                if authenticate(sock, user, code):
                    with lock:
                        out.write("%s %s\n" % (user, code))
                        out.flush()
        except (ConnectionError, OSError):
            return  # the daemon was killed

    pool = [threading.Thread(target=worker) for _ in range(int(threads))]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


if __name__ == "__main__":
    main()
