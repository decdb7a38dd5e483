"""A webhook receiver that can be down: it answers 503 (and records
nothing) until told to answer 200, and then records each delivery id it
accepted. The backup test keeps it down while the source service runs, so
that the dump holds undelivered outbox rows."""

import http.server
import threading


class receiver:
    def __init__(self):
        self.lock = threading.Lock()
        self.status = 503
        self.ids = set()
        outer = self

        class handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    status = outer.status
                    if status == 200:
                        outer.ids.add(self.headers.get("X-HITL-Delivery"))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class server(http.server.ThreadingHTTPServer):
            request_queue_size = 512   # a notifier sends up to 64 at once
            daemon_threads = True

        self.server = server(("127.0.0.1", 0), handler)
        self.url = "http://127.0.0.1:%d/hooks" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, status):
        with self.lock:
            self.status = status

    def delivered(self):
        with self.lock:
            return set(self.ids)
