"""Healthy when the server answers `ping` over the wire protocol: one OP_MSG on a raw socket.

No pymongo and no authentication on purpose: importing pymongo and a SCRAM handshake (PBKDF2 on both ends, the
server's in Python) cost 240-480 ms of CPU per check, every 10 s: 3 % of a core, the largest of the stack's
healthchecks. `ping` needs no authentication on MongoDB or the stand-in; credentials are checked by the services
that use them (and `invoke verify`), which report a wrong password themselves.
"""

import os
import socket
import struct
import sys

OP_MSG = 2013


def bson(fields: dict[str, object]) -> bytes:
    """A BSON document of int32 and string values (all a ping needs)."""
    body = b""
    for key, value in fields.items():
        name = key.encode() + b"\x00"
        if isinstance(value, int):
            body += b"\x10" + name + struct.pack("<i", value)
        else:
            text = str(value).encode() + b"\x00"
            body += b"\x02" + name + struct.pack("<i", len(text)) + text
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


def ping(port: int, timeout_s: float = 2.0) -> bool:
    payload = struct.pack("<I", 0) + b"\x00" + bson({"ping": 1, "$db": "admin"})
    message = struct.pack("<iiii", 16 + len(payload), 1, 0, OP_MSG) + payload
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as conn:
        conn.sendall(message)
        header = conn.recv(16, socket.MSG_WAITALL)
        (length,) = struct.unpack("<i", header[:4])
        reply = conn.recv(length - 16, socket.MSG_WAITALL)
    # {ok: 1.0} (a double, or an int32 from some servers) in the reply's body section.
    return b"\x01ok\x00" + struct.pack("<d", 1.0) in reply or b"\x10ok\x00" + struct.pack("<i", 1) in reply


try:
    healthy = ping(int(os.environ.get("MONGO_PORT", "27017")))
except OSError as error:
    print(f"unhealthy: {error}", file=sys.stderr)
    sys.exit(1)
if not healthy:
    print("unhealthy: the server did not answer ping with ok: 1", file=sys.stderr)
sys.exit(0 if healthy else 1)
