#!/usr/bin/env python3
"""A fake SMS/voice gateway on loopback, over TLS, for the HTTPS sender's tests.

    fake_gateway.py --record FILE --serve CERT:KEY:PORT_FILE [--serve ...]

Each --serve listens on 127.0.0.1 on a port of its own (written to PORT_FILE once listening)
with that certificate. Every request is appended to FILE as one JSON line:

    {"port": 40123, "method": "POST", "path": "/ok", "headers": {"Content-Type": ...},
     "body": "To=%2B447946004567&..."}

What it answers depends on the path:
    /ok          200, echoing the body (as providers echo the message: the sender must not
                 log the answer)
    /fail        500
    /slow?ms=N   200 after N milliseconds
    /redirect    302 to /ok on the same port (the sender must not follow it)
    anything else 404
"""
import argparse
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECORD_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    record_path = None

    def log_message(self, *args):  # quiet: the record file is the log
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length > 0 else b""
        url = urllib.parse.urlsplit(self.path)
        entry = {"port": self.server.server_address[1], "method": "POST", "path": url.path,
                 "headers": dict(self.headers.items()), "body": body.decode("latin-1")}
        with RECORD_LOCK, open(self.record_path, "a") as record:
            record.write(json.dumps(entry) + "\n")
        if url.path == "/ok":
            echo = json.dumps({"status": "queued", "echo": body.decode("latin-1")})
            self.answer(200, echo.encode())
        elif url.path == "/fail":
            self.answer(500, b'{"error": "internal"}')
        elif url.path == "/slow":
            query = urllib.parse.parse_qs(url.query)
            time.sleep(int(query.get("ms", ["5000"])[0]) / 1000)
            self.answer(200, b"{}")
        elif url.path == "/redirect":
            host = self.headers.get("Host", "localhost")
            self.answer(302, b"", {"Location": "https://%s/ok" % host})
        else:
            self.answer(404, b"")

    def answer(self, status, body, headers=None):
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the sender gave up (its deadline): ssl.SSLError, a broken pipe, a reset


def serve(cert, key, port_file, record):
    handler = type("BoundHandler", (Handler,), {"record_path": record})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(port_file + ".new", "w") as out:
        out.write("%d\n" % server.server_address[1])
    # Renamed whole, so that a reader never sees a half-written port.
    os.rename(port_file + ".new", port_file)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True)
    parser.add_argument("--serve", action="append", required=True)
    args = parser.parse_args()
    threads = [serve(*spec.split(":"), args.record) for spec in args.serve]
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    sys.exit(main())
