#!/usr/bin/env python3
"""The event streams' reference writer (bench.py, "Event streams"): a bare
server-sent-events writer that sends the same bytes a simulator's streams send,
from its own process, so a run beside it shows what the bytes alone cost.

    stream_writer.py FRAME_BYTES EVENTS_PER_SECOND

Listens on 127.0.0.1, port 0, and prints "listening on 127.0.0.1:PORT".
GET /clients answers how many streams are open. Any other request is
answered with a text/event-stream header; from then on,
every 100 ms (the simulator's busy batch interval), each client gets that
interval's events — frames of FRAME_BYTES — in one send. Stops on SIGTERM.
"""
import signal
import socket
import sys
import threading
import time

INTERVAL = 0.1
HEADER = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"


def frame(size):
    """One SSE frame of `size` bytes: "id: ...\\ndata: {...}\\n\\n"."""
    head, tail = b'id: 1000000\ndata: {"id":1000000,"type":"order.created","pad":"', b'"}\n\n'
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def main():
    frame_bytes, rate = int(sys.argv[1]), float(sys.argv[2])
    batch = frame(frame_bytes) * max(1, round(rate * INTERVAL))
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    print(f"listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
    clients, lock, stopping = [], threading.Lock(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    def accept():
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            request = client.recv(65536)
            if request.startswith(b"GET /clients "):
                with lock:
                    count = str(len(clients)).encode()
                client.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                               % (len(count), count))
                client.close()
                continue
            client.sendall(HEADER)
            with lock:
                clients.append(client)

    threading.Thread(target=accept, daemon=True).start()
    next_batch = time.monotonic()
    while not stopping.is_set():
        with lock:
            current = list(clients)
        for client in current:
            try:
                client.sendall(batch)
            except OSError:
                with lock:
                    clients.remove(client)
        next_batch += INTERVAL
        stopping.wait(max(0.0, next_batch - time.monotonic()))
    listener.close()


if __name__ == "__main__":
    main()
