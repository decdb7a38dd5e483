"""Raw HTTP/1.1 over one TCP connection: the bytes go out exactly as given,
answers are read while sending (a server may answer 413/431 and close before
it has read everything), and every wait has a deadline, so nothing hangs.
Answers are parsed strictly enough to count them, never trusted."""

import errno
import select
import socket
import time

# How a connection ended.
DONE = "done"          # every expected answer arrived
CLOSED = "closed"      # the server closed (FIN) before that
RESET = "reset"        # the server reset the connection
TIMEOUT = "timeout"    # nothing moved for the whole timeout
REFUSED = "refused"    # could not even connect
GARBLED = "garbled"    # the bytes that came back are not HTTP


class response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value (bytes), last wins
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower().encode())


class outcome:
    def __init__(self):
        self.responses = []
        self.end = None
        self.sent_bytes = 0
        self.tail = b""  # bytes after the last parsed answer (e.g. frames)
        self.seconds = 0.0

    def statuses(self):
        return [r.status for r in self.responses]


class _garbled(Exception):
    pass


def _parse_chunked(buf, pos):
    """Returns (body, end) or None when incomplete."""
    body = bytearray()
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = buf[pos:eol].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _garbled("bad chunk size %r" % size_text[:20])
        pos = eol + 2
        if size == 0:
            end = buf.find(b"\r\n\r\n", pos - 2)
            if end < 0:
                return None
            return bytes(body), end + 4
        if len(buf) < pos + size + 2:
            return None
        body += buf[pos:pos + size]
        pos += size + 2


def parse_response(buf, method=b"GET", at_eof=False):
    """One answer from the start of buf: (response, consumed) or None when
    more bytes are needed. Interim 1xx answers other than 101 are skipped."""
    pos = 0
    while True:
        head_end = buf.find(b"\r\n\r\n", pos)
        if head_end < 0:
            if at_eof and len(buf) > pos:
                raise _garbled("answer cut inside its headers")
            return None
        lines = buf[pos:head_end].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise _garbled("status line %r" % lines[0][:60])
        try:
            status = int(parts[1])
        except ValueError:
            raise _garbled("status line %r" % lines[0][:60])
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise _garbled("header line %r" % line[:60])
            headers[name.strip().lower()] = value.strip()
        body_start = head_end + 4
        if 100 <= status < 200 and status != 101:
            pos = body_start
            continue
        break
    if status in (101, 204, 304) or method == b"HEAD":
        return response(status, headers, b""), body_start
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        done = _parse_chunked(buf, body_start)
        if done is None:
            if at_eof:
                raise _garbled("chunked answer cut")
            return None
        body, end = done
        return response(status, headers, body), end
    if b"content-length" in headers:
        try:
            n = int(headers[b"content-length"])
        except ValueError:
            raise _garbled("Content-Length %r" % headers[b"content-length"])
        if len(buf) < body_start + n:
            if at_eof:
                raise _garbled("answer shorter than its Content-Length")
            return None
        return response(status, headers, buf[body_start:body_start + n]), \
            body_start + n
    if not at_eof:
        return None  # delimited by the close
    return response(status, headers, buf[body_start:]), len(buf)


def exchange(port, payload, answers=1, methods=None, half_close=False,
             timeout=20.0, stop_after_101=True, host="127.0.0.1"):
    """Sends payload on a new connection and reads until `answers` answers
    arrived, the server closed, or nothing moved for `timeout` seconds (and
    at most 6 x `timeout` in all, however slowly bytes trickle in).
    `half_close` shuts our side down after the payload (a truncated request
    then ends with EOF, so the server has to decide at once)."""
    out = outcome()
    started = time.monotonic()
    hard_deadline = started + 6 * timeout
    methods = methods or []
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        out.end = REFUSED
        return out
    try:
        sock.setblocking(False)
        data = memoryview(payload)
        sent = 0
        writing = True
        buf = bytearray()
        at_eof = False
        last_progress = time.monotonic()
        while True:
            # Parse what we have.
            try:
                while len(out.responses) < max(answers, 1) or answers == 0:
                    m = methods[len(out.responses)] \
                        if len(out.responses) < len(methods) else b"GET"
                    got = parse_response(bytes(buf), m, at_eof)
                    if got is None:
                        break
                    resp, used = got
                    out.responses.append(resp)
                    del buf[:used]
                    if resp.status == 101 and stop_after_101:
                        out.tail = bytes(buf)
                        out.end = DONE
                        return out
            except _garbled:
                out.end = GARBLED
                out.tail = bytes(buf)
                return out
            if answers and len(out.responses) >= answers:
                out.end = DONE
                out.tail = bytes(buf)
                return out
            if at_eof:
                out.end = CLOSED if out.end is None else out.end
                out.tail = bytes(buf)
                return out
            if writing and sent >= len(data):
                writing = False
                if half_close:
                    try:
                        sock.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
            now = time.monotonic()
            wait = min(timeout - (now - last_progress), hard_deadline - now)
            if wait <= 0:
                out.end = TIMEOUT
                out.tail = bytes(buf)
                return out
            readable, writable, _ = select.select(
                [sock], [sock] if writing else [], [], min(wait, 1.0))
            if writable:
                try:
                    n = sock.send(data[sent:sent + 65536])
                    sent += n
                    out.sent_bytes = sent
                    last_progress = time.monotonic()
                except BlockingIOError:
                    pass
                except OSError:
                    # The server stopped reading (answered and closed, or
                    # reset): what it said may still be in our buffer.
                    writing = False
            if readable:
                try:
                    chunk = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError as e:
                    if e.errno in (errno.ECONNRESET, errno.EPIPE):
                        out.end = RESET
                        at_eof = True
                        continue
                    raise
                last_progress = time.monotonic()
                if not chunk:
                    at_eof = True
                else:
                    buf += chunk
    finally:
        out.seconds = time.monotonic() - started
        try:
            sock.close()
        except OSError:
            pass


def open_upgraded(port, request_bytes, timeout=20.0, host="127.0.0.1"):
    """Sends a WebSocket upgrade; returns (outcome, socket) where the socket
    (blocking, with `timeout`) is open only when the answer was 101."""
    sock = socket.create_connection((host, port), timeout=timeout)
    out = outcome()
    started = time.monotonic()
    sock.settimeout(timeout)
    buf = b""
    try:
        sock.sendall(request_bytes)
        out.sent_bytes = len(request_bytes)
        while True:
            got = None
            try:
                got = parse_response(buf, b"GET", False)
            except _garbled:
                out.end = GARBLED
                break
            if got is not None:
                resp, used = got
                out.responses.append(resp)
                out.tail = buf[used:]
                out.end = DONE
                break
            chunk = sock.recv(65536)
            if not chunk:
                out.end = CLOSED
                break
            buf += chunk
    except socket.timeout:
        out.end = TIMEOUT
    except (ConnectionResetError, BrokenPipeError):
        out.end = RESET
    out.seconds = time.monotonic() - started
    if out.end == DONE and out.responses[0].status == 101:
        return out, sock
    sock.close()
    return out, None
