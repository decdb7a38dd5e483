"""WebSocket frames as a hostile client writes them (RFC 6455 §5.2), any
field set to any value, and a reader for what the server sends back."""

import base64
import os
import socket
import struct
import time

TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


def frame(opcode, payload=b"", fin=True, masked=True, rsv=0,
          declared_length=None, length_form=None, mask_key=b"\x11\x22\x33\x44"):
    """One frame. `declared_length` puts any length in the header whatever
    the payload is; `length_form` forces the 7-bit, 16-bit or 64-bit form
    (7, 16, 64), so non-minimal encodings can be sent too."""
    n = len(payload) if declared_length is None else declared_length
    first = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)
    mask_bit = 0x80 if masked else 0
    form = length_form or (7 if n < 126 else 16 if n < 65536 else 64)
    if form == 7:
        head = struct.pack("!BB", first, mask_bit | (n & 0x7F))
    elif form == 16:
        head = struct.pack("!BBH", first, mask_bit | 126, n & 0xFFFF)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127,
                           n & 0xFFFFFFFFFFFFFFFF)
    if not masked:
        return head + payload
    body = bytes(b ^ mask_key[i % 4] for i, b in enumerate(payload))
    return head + mask_key + body


def upgrade_request(port, headers, path=b"/hitl/ws", key=None,
                    version=None, method=b"GET"):
    """An upgrade request; `key`/`version` None means a valid one, b"" means
    the header is left out, anything else is sent as given."""
    if key is None:
        key = base64.b64encode(os.urandom(16))
    if version is None:
        version = b"13"
    lines = [method + b" " + path + b" HTTP/1.1",
             b"Host: 127.0.0.1:" + str(port).encode(),
             b"Upgrade: websocket", b"Connection: Upgrade"]
    if key != b"":
        lines.append(b"Sec-WebSocket-Key: " + key)
    if version != b"":
        lines.append(b"Sec-WebSocket-Version: " + version)
    for name, value in headers:
        lines.append(name + b": " + value)
    return b"\r\n".join(lines) + b"\r\n\r\n"


class server_frames:
    """Reads the server's frames (unmasked) from a blocking socket."""

    def __init__(self, sock, initial=b""):
        self.sock = sock
        self.buf = bytearray(initial)
        self.eof = False

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout()
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                self.eof = True
                raise EOFError()
            self.buf += chunk

    def next(self, deadline):
        """(opcode, payload) of the next frame; EOFError when the server
        closed the TCP connection, socket.timeout at the deadline."""
        self._fill(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        pos = 2
        if n == 126:
            self._fill(4, deadline)
            n = struct.unpack("!H", self.buf[2:4])[0]
            pos = 4
        elif n == 127:
            self._fill(10, deadline)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            pos = 10
        if b1 & 0x80:
            pos += 4  # a server must not mask, but skip it if it does
        if n > 16 * 1024 * 1024:
            raise ValueError("server frame declares %d bytes" % n)
        self._fill(pos + n, deadline)
        payload = bytes(self.buf[pos:pos + n])
        del self.buf[:pos + n]
        return b0 & 0x0F, payload


def await_close(sock, initial, timeout):
    """Waits for the server to end the WebSocket: returns ("close", code) for
    a close frame (code None when it has no payload), ("eof", None) for a
    TCP close without one, ("reset", None), or ("timeout", None). Event
    frames pushed meanwhile are skipped."""
    reader = server_frames(sock, initial)
    deadline = time.monotonic() + timeout
    try:
        while True:
            opcode, payload = reader.next(deadline)
            if opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] \
                    if len(payload) >= 2 else None
                return "close", code
    except EOFError:
        return "eof", None
    except socket.timeout:
        return "timeout", None
    except (ConnectionResetError, BrokenPipeError):
        return "reset", None
    except ValueError:
        return "garbled", None
