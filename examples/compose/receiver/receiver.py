"""A stand-in for the system under test: subscribes to CSR callbacks, creates
one order, and prints every <Notification> the simulator posts to it."""
import base64
import http.server
import os
import threading
import urllib.request

SIMULATOR = os.environ.get("SIMULATOR_URL", "http://csr-simulator:8080")
CALLBACK = os.environ.get("CALLBACK_URL", "http://receiver:9000/callbacks")
AUTH = "Basic " + base64.b64encode(b"username:password").decode()
ACCOUNT = "9900000"


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        print("callback:", body.decode(errors="replace"), flush=True)
        self.send_response(200)
        self.end_headers()


def call(method, path, body=None):
    request = urllib.request.Request(SIMULATOR + path, data=body, method=method,
                                     headers={"Authorization": AUTH, "Content-Type": "application/xml"})
    with urllib.request.urlopen(request) as response:
        return response.status, response.read().decode()


def drive():
    call("POST", f"/api/accounts/{ACCOUNT}/subscriptions",
         f"<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>{CALLBACK}</URL>"
         "</CallbackSubscription></Subscription>".encode())
    status, body = call("POST", f"/api/accounts/{ACCOUNT}/csrs",
                        b"<Csr><WorkingOrBillingTelephoneNumber>9195551234</WorkingOrBillingTelephoneNumber></Csr>")
    print("created:", status, body, flush=True)
    # The simulator runs a manual clock: move it so the order fails (26500).
    control = urllib.request.Request(SIMULATOR + "/_sim/clock/advance", data=b'{"by":"5s"}', method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(control).read()


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 9000), Receiver)
    threading.Timer(0.5, drive).start()
    server.serve_forever()
