#!/usr/bin/env python3
"""Turns the QR code `studio2fa enroll` printed (plain Unicode half blocks) back into an image,
so an independent decoder (zbarimg) can read it as a phone camera would.

    qr_to_pbm.py ENROLL_OUTPUT OUT.pbm
"""
import sys

BLOCKS = {" ": (0, 0), "\u2580": (1, 0), "\u2584": (0, 1), "\u2588": (1, 1)}
SCALE = 6

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
start = next(i for i, line in enumerate(lines) if line.startswith("Scan this QR code")) + 3
rows = []
for line in lines[start:]:
    if line == "" or not set(line) <= set(BLOCKS):
        break
    top = [BLOCKS[c][0] for c in line]
    bottom = [BLOCKS[c][1] for c in line]
    rows += [top, bottom]
width = max(len(r) for r in rows)
rows = [r + [0] * (width - len(r)) for r in rows]
with open(sys.argv[2], "w") as out:
    out.write("P1\n%d %d\n" % (width * SCALE, len(rows) * SCALE))
    for row in rows:
        line = " ".join(str(v) for v in row for _ in range(SCALE))
        for _ in range(SCALE):
            out.write(line + "\n")
