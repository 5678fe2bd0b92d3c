#!/usr/bin/env python3
"""Runs every benchmark of bench/README.md and writes the results as Markdown.

    bench.py --simulator BUILD/csr-simulator --out results/latest.md [--wiremock-jar JAR] [--quick]

Every figure is taken in this run beside its reference (nginx serving the same
bytes, the same measurement on the peer) and its target. Only
loopback addresses are used; every wait and loop is bounded in count and time.
Standard library only; needs wrk, nginx and node on PATH.
"""

import argparse
import contextlib
import datetime
import http.client
import json
import math
import os
import platform
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WRK_SCRIPT = HERE / "wrk.lua"
RECEIVER_SCRIPT = HERE / "receiver.js"
STREAM_WRITER_SCRIPT = HERE / "stream_writer.py"

HOST = "127.0.0.1"
ACCOUNT = "9900000"
AUTH = "Basic dXNlcm5hbWU6cGFzc3dvcmQ="
CSR_BODY = ("<Csr><WorkingOrBillingTelephoneNumber>9198675309"
            "</WorkingOrBillingTelephoneNumber></Csr>")
CSRS_PATH = f"/api/accounts/{ACCOUNT}/csrs"

WRK_SECONDS = 10                 # 2 threads, 64 keep-alive connections, 10 s
STARTUP_RUNS = 20
MEMORY_TARGET_ORDERS = 1_000_000
MEMORY_BUDGET_SECONDS = 120      # creation time allowed before extrapolating
CALLBACK_ORDERS = 10_000
CALLBACK_SCALE = 100             # 3 s of simulated time = 30 ms of wall time
COMPLETE_AFTER_SIM_SECONDS = 3.0  # the default scenario of TN 9198675309
CALLBACK_PACE_DELAY_MS = 10      # 64 connections, 10 ms apart: at most 6,400 orders/s
CALLBACK_WINDOW_SECONDS = 30     # how long a run waits for its callbacks


# ---------------------------------------------------------------------------
# Small helpers

def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def request(port, method, path, body=None, headers=None, timeout=5.0):
    """One HTTP request on a fresh connection; returns (status, body bytes, headers)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), response.headers
    finally:
        connection.close()


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_until_answers(port, path, headers=None, timeout=30.0):
    """Polls GET path until it answers 200; returns the seconds waited."""
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        try:
            if request(port, "GET", path, headers=headers, timeout=1.0)[0] == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.0005)
    raise RuntimeError(f"nothing answered 200 on {HOST}:{port}{path} within {timeout} s")


def stop(process, grace=10.0):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def read_line(process, timeout=10.0):
    """The next stdout line of a process started with stdout=PIPE, bounded in time."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise RuntimeError(f"{process.args[0]} printed nothing within {timeout} s")
    return process.stdout.readline().decode().strip()


def rss_bytes(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024


def listen_overflows():
    """The machine's count of connections dropped by a full accept queue."""
    names, values = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines()
                     if line.startswith("TcpExt:")]
    return int(values[names.index("ListenOverflows")])


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def parse_time(iso):
    """The simulator's timestamps ("2026-01-01T00:00:05.000Z") as Unix seconds."""
    parsed = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ")
    return parsed.replace(tzinfo=datetime.timezone.utc).timestamp()


def wrk(port, path, *, method="GET", body=None, seconds=None, max_requests=0, delay_ms=0, connections=64):
    """Runs wrk (2 threads, 64 connections unless told) through wrk.lua; returns its totals."""
    seconds = seconds or WRK_SECONDS
    env = dict(os.environ, BENCH_METHOD=method, BENCH_AUTH=AUTH,
               BENCH_MAX_REQUESTS=str(max_requests), BENCH_DELAY_MS=str(delay_ms))
    if body:
        env["BENCH_BODY"] = body
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(WRK_SCRIPT),
               f"http://{HOST}:{port}{path}", "--", "2"]
    overflows = listen_overflows()
    output = subprocess.run(command, env=env, capture_output=True, text=True,
                            timeout=seconds + 30, check=True).stdout
    result = json.loads(re.search(r"^BENCH_JSON (.*)$", output, re.M).group(1))
    result["listen_overflows"] = listen_overflows() - overflows
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def clock_origin(simulator):
    """(wall seconds, simulated seconds) of one instant, to map simulated to wall
    time: the clock reading with the shortest round trip of five."""
    samples = []
    for _ in range(5):
        before = time.time()
        simulated = simulator.json("/_sim/clock")["epoch_ms"] / 1000
        after = time.time()
        samples.append((after - before, (before + after) / 2, simulated))
    _, wall_origin, sim_origin = min(samples)
    return wall_origin, sim_origin


class Simulator:
    """A csr-simulator process on a free port, stopped on exit."""

    def __init__(self, binary, *flags, stderr=subprocess.DEVNULL):
        self.process = subprocess.Popen(
            [binary, "--port", "0", *flags],
            stdout=subprocess.PIPE, stderr=stderr)
        line = read_line(self.process)
        match = re.search(r"listening on [\d.]+:(\d+)", line)
        if not match:
            stop(self.process)
            raise RuntimeError(f"unexpected first line from the simulator: {line!r}")
        self.port = int(match.group(1))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stop(self.process)

    def call(self, method, path, body=None):
        headers = {"Authorization": AUTH}
        if body is not None:
            headers["Content-Type"] = ("application/json" if path.startswith("/_sim")
                                       else "application/xml")
        status, answer, _ = request(self.port, method, path, body, headers)
        if status >= 300:
            raise RuntimeError(f"{method} {path} answered {status}: {answer[:200]!r}")
        return answer

    def json(self, path):
        return json.loads(self.call("GET", path))

    def create_order(self):
        answer = self.call("POST", CSRS_PATH, CSR_BODY).decode()
        return re.search(r"<OrderId>([^<]+)</OrderId>", answer).group(1)

    def complete_order(self):
        """Creates an order, advances the manual clock past its COMPLETE; returns
        (its GET path, the GET's body)."""
        get_path = f"{CSRS_PATH}/{self.create_order()}"
        self.call("POST", "/_sim/clock/advance", '{"by":"5s"}')
        body = self.call("GET", get_path)
        if b"<Status>COMPLETE</Status>" not in body:
            raise RuntimeError(f"the order did not complete: {body[:300]!r}")
        return get_path, body

    def subscribe(self, url):
        body = (f"<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>{url}</URL>"
                "<Expiry>3600</Expiry></CallbackSubscription></Subscription>")
        status, answer, headers = request(
            self.port, "POST", f"/api/accounts/{ACCOUNT}/subscriptions", body,
            {"Authorization": AUTH, "Content-Type": "application/xml"})
        if status >= 300:
            raise RuntimeError(f"subscription answered {status}: {answer[:200]!r}")
        return headers["Location"].rsplit("/", 1)[1]  # the subscription id

    def order_count(self):
        return self.json("/_sim/health")["orders"]

    def orders(self):
        """Every order, as GET /_sim/orders lists them a page at a time."""
        orders, cursor = [], None
        while True:
            page = self.json("/_sim/orders?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
            orders += page["orders"]
            cursor = page["next"]
            if cursor is None:
                return orders

    def rss(self):
        return rss_bytes(self.process.pid)


class Nginx:
    """nginx serving `files` ({url path: bytes}) from a temp root on a free port."""

    CONFIG = """
daemon off;
worker_processes 2;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  default_type application/xml;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  server {{ listen {host}:{port}; root {root}/www; }}
}}
"""

    def __init__(self, workdir, files):
        self.root = Path(workdir) / "nginx"
        for path, content in files.items():
            target = self.root / "www" / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        for path in [self.root, *self.root.rglob("*")]:
            path.chmod(0o755)  # nginx workers run as an unprivileged user
        self.port = free_port()
        self.config = self.root / "nginx.conf"
        self.config.write_text(self.CONFIG.format(root=self.root, host=HOST, port=self.port))

    def start(self):
        return subprocess.Popen(["nginx", "-e", str(self.root / "error.log"), "-c", str(self.config)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class WireMock:
    """WireMock standalone (the npm package's jar) with one stub for `path`."""

    def __init__(self, workdir, jar, path, body):
        self.jar = jar
        self.root = Path(workdir) / "wiremock"
        (self.root / "mappings").mkdir(parents=True)
        stub = {"request": {"method": "GET", "url": path},
                "response": {"status": 200, "body": body.decode(),
                             "headers": {"Content-Type": "application/xml"}}}
        (self.root / "mappings" / "get.json").write_text(json.dumps(stub))
        self.port = free_port()

    def start(self):
        return subprocess.Popen(
            ["java", "-jar", str(self.jar), "--port", str(self.port), "--bind-address", HOST,
             "--root-dir", str(self.root), "--disable-banner", "--no-request-journal"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Receiver:
    """A bench/receiver.js process ("record" or "hang")."""

    def __init__(self, mode):
        self.process = subprocess.Popen(["node", str(RECEIVER_SCRIPT), mode],
                                        stdout=subprocess.PIPE)
        self.port = int(read_line(self.process).split()[1])
        self.url = f"http://{HOST}:{self.port}/cb"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stop(self.process)

    def records(self):
        return json.loads(request(self.port, "GET", "/records", timeout=10)[1])


# ---------------------------------------------------------------------------
# Benchmarks. Each returns a dict of figures that write_report lays out.

def median_start(start, port, path, runs):
    """(median, min, max) ms from exec (`start()`) to the first 200 of GET path, over `runs`."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        process = start()
        try:
            wait_until_answers(port, path)
            times.append((time.perf_counter() - started) * 1000)
        finally:
            stop(process)
    return statistics.median(times), min(times), max(times)


def bench_startup(binary, workdir, wiremock_jar):
    log("start-up: exec to first 200 of GET /_sim/health, and nginx's first 200")
    nginx = Nginx(Path(workdir) / "startup", {"/health": b"ok"})

    def start_simulator():
        return subprocess.Popen([binary, "--port", str(simulator_port), "--log-level", "off"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    simulator_port = free_port()
    figures = {"simulator_ms": median_start(start_simulator, simulator_port, "/_sim/health",
                                            STARTUP_RUNS),
               "nginx_ms": median_start(nginx.start, nginx.port, "/health", STARTUP_RUNS)}
    if wiremock_jar:
        wiremock = WireMock(Path(workdir) / "startup", wiremock_jar, "/health", b"ok")
        figures["wiremock_ms"] = median_start(wiremock.start, wiremock.port, "/health", 3)
    return figures


def bench_throughput(binary, workdir, wiremock_jar):
    figures = {}
    with Simulator(binary, "--clock", "manual", "--log-level", "off") as simulator:
        get_path, body = simulator.complete_order()
        figures["body_bytes"] = len(body)

        nginx = Nginx(workdir, {get_path: body})
        log(f"throughput: nginx GET of the same {len(body)}-byte body (reference)")
        process = nginx.start()
        try:
            wait_until_answers(nginx.port, get_path)
            figures["nginx_get"] = wrk(nginx.port, get_path)
        finally:
            stop(process)

        log("throughput: simulator GET of a COMPLETE order")
        figures["get"] = wrk(simulator.port, get_path)
        log("throughput: simulator POST /csrs")
        figures["post"] = wrk(simulator.port, CSRS_PATH, method="POST", body=CSR_BODY)

    log("throughput: simulator GET with the default --log-level info (stderr to a file)")
    with open(Path(workdir) / "requests.log", "wb") as request_log, \
            Simulator(binary, "--clock", "manual", stderr=request_log) as simulator:
        order_id = simulator.create_order()
        simulator.call("POST", "/_sim/clock/advance", '{"by":"5s"}')
        figures["get_logged"] = wrk(simulator.port, f"{CSRS_PATH}/{order_id}")

    if wiremock_jar:
        log("throughput: WireMock GET stub of the same body (peer)")
        wiremock = WireMock(workdir, wiremock_jar, get_path, body)
        process = wiremock.start()
        try:
            wait_until_answers(wiremock.port, get_path)
            wrk(wiremock.port, get_path, seconds=3)  # JIT warm-up, not reported
            figures["wiremock_get"] = wrk(wiremock.port, get_path)
        finally:
            stop(process)
    return figures


def bench_memory(binary):
    figures = {}
    with Simulator(binary, "--log-level", "off") as simulator:  # real clock: orders complete
        simulator.order_count()
        figures["idle_rss"] = simulator.rss()
        order_id = simulator.create_order()
        get_path = f"{CSRS_PATH}/{order_id}"
        wrk(simulator.port, CSRS_PATH, method="POST", body=CSR_BODY, seconds=2, max_requests=999)
        time.sleep(3.5)  # every order reaches COMPLETE (3 s)
        figures["small_orders"] = simulator.order_count()
        log(f"memory: GET p99 at {figures['small_orders']} orders")
        figures["small_get"] = wrk(simulator.port, get_path, seconds=5)

        log(f"memory: creating up to {MEMORY_TARGET_ORDERS} orders within "
            f"{MEMORY_BUDGET_SECONDS} s (wrk POST in 10 s rounds)")
        started = time.monotonic()
        created = figures["small_orders"]
        while created < MEMORY_TARGET_ORDERS and time.monotonic() - started < MEMORY_BUDGET_SECONDS:
            wrk(simulator.port, CSRS_PATH, method="POST", body=CSR_BODY, seconds=10,
                max_requests=MEMORY_TARGET_ORDERS - created)
            created = simulator.order_count()
            log(f"memory: {created} orders, RSS {simulator.rss() / 2**20:.0f} MiB")
        figures["create_seconds"] = time.monotonic() - started
        time.sleep(3.5)
        figures["orders"] = simulator.order_count()
        figures["rss"] = simulator.rss()
        log(f"memory: GET p99 at {figures['orders']} orders")
        figures["large_get"] = wrk(simulator.port, get_path, seconds=5)
    return figures


def bench_callbacks(binary, *, paced, with_hanging_receiver):
    """CALLBACK_ORDERS orders on the scaled clock, created as fast as wrk can or paced
    at ~5,000/s; one recording receiver, and optionally a second one that hangs."""
    figures = {}
    with Simulator(binary, "--clock", f"scale={CALLBACK_SCALE}", "--log-level", "off",
                   "--journal-capacity", str(4 * CALLBACK_ORDERS)) as simulator, \
            Receiver("record") as good, Receiver("hang") as hanging:  # hanging: idle unless subscribed
        good_subscription = simulator.subscribe(good.url)
        if with_hanging_receiver:
            simulator.subscribe(hanging.url)

        wall_origin, sim_origin = clock_origin(simulator)

        delay_ms = CALLBACK_PACE_DELAY_MS if paced else 0
        seconds = 4 + math.ceil(3 * CALLBACK_ORDERS * delay_ms / (64 * 1000))  # ample
        wrk(simulator.port, CSRS_PATH, method="POST", body=CSR_BODY, seconds=seconds,
            max_requests=CALLBACK_ORDERS, delay_ms=delay_ms)
        orders = simulator.order_count()
        deadline = time.monotonic() + CALLBACK_WINDOW_SECONDS
        records = good.records()
        while len(records) < orders and time.monotonic() < deadline:
            time.sleep(0.5)
            records = good.records()

        # When each order's COMPLETE fell due, in wall time; and, from the journal,
        # when the transition actually ran (scheduledAt) and its POST started (sentAt).
        def wall(sim_seconds):
            return wall_origin + (sim_seconds - sim_origin) / CALLBACK_SCALE

        due = {order["id"]: wall(parse_time(order["created"]) + COMPLETE_AFTER_SIM_SECONDS)
               for order in simulator.orders()}
        journal = simulator.json(f"/_sim/callbacks?subscriptionId={good_subscription}")["entries"]
        lags = [(arrived - due[order_id]) * 1000 for order_id, arrived in records]
        step_lags = [(wall(parse_time(e["scheduledAt"])) - due[e["orderId"]]) * 1000
                     for e in journal]
        queue_lags = [(parse_time(e["sentAt"]) - parse_time(e["scheduledAt"])) * 1000 / CALLBACK_SCALE
                      for e in journal]
        arrivals = sorted(arrived for _, arrived in records)
        due_times = sorted(due.values())
        figures.update(
            orders=orders, delivered=len(records),
            lag_p50=percentile(lags, 0.50), lag_p99=percentile(lags, 0.99), lag_max=max(lags),
            step_lag_p99=percentile(step_lags, 0.99), queue_lag_p99=percentile(queue_lags, 0.99),
            offered=len(due_times) / max(due_times[-1] - due_times[0], 1e-9),
            rate=len(arrivals) / max(arrivals[-1] - arrivals[0], 1e-9))
    return figures


def bench_callback_drain(binary):
    """Delivery capacity without order creation competing for the cores:
    CALLBACK_ORDERS orders on the manual clock, then one advance past their
    COMPLETE; the advance returns once every callback was attempted."""
    with Simulator(binary, "--clock", "manual", "--log-level", "off",
                   "--journal-capacity", str(4 * CALLBACK_ORDERS)) as simulator, \
            Receiver("record") as good:
        simulator.subscribe(good.url)
        wrk(simulator.port, CSRS_PATH, method="POST", body=CSR_BODY, seconds=30,
            max_requests=CALLBACK_ORDERS)
        orders = simulator.order_count()
        started = time.perf_counter()
        simulator.call("POST", "/_sim/clock/advance", '{"by":"5s"}')
        seconds = time.perf_counter() - started
        delivered = len(good.records())
    return {"orders": orders, "delivered": delivered, "rate": delivered / seconds}


# ---------------------------------------------------------------------------
# Report

EVENT_STREAMS = 50
EVENT_STREAM_THREADS = 128  # 50 streams + wrk's 64 connections, one worker thread each
EVENT_STREAM_ROUNDS = 3
EVENT_STREAM_SECONDS = 5


class EventStreams:
    """N clients of GET /_sim/events (curl, discarding what it reads), stopped on exit.
    `writer`: read from a StreamWriter instead of the simulator at `port`."""

    def __init__(self, port, count, query="", writer=None):
        self.port = port
        self.writer = writer
        target = writer.port if writer else port
        self.processes = [subprocess.Popen(
            ["curl", "-sN", "-o", "/dev/null", f"http://{HOST}:{target}/_sim/events{query}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]

    def open_streams(self):
        if self.writer:
            return int(request(self.writer.port, "GET", "/clients")[1])
        return json.loads(request(self.port, "GET", "/_sim/health")[1])["eventStreams"]

    def __enter__(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # every stream subscribed
            if self.open_streams() >= len(self.processes):
                return self
            time.sleep(0.01)
        raise RuntimeError("the event streams did not all open within 30 s")

    def __exit__(self, *exc):
        for process in self.processes:
            stop(process)


class StreamWriter:
    """bench/stream_writer.py: the bytes of the simulator's streams, from a process
    of their own, `rate` frames of `frame_bytes` a second to each client."""

    def __init__(self, frame_bytes, rate):
        self.process = subprocess.Popen([sys.executable, str(STREAM_WRITER_SCRIPT), str(frame_bytes), str(rate)],
                                        stdout=subprocess.PIPE)
        self.port = int(read_line(self.process).rsplit(":", 1)[1])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stop(self.process)


def first_event_frame(port):
    """The frame of event 1, read from GET /_sim/events with Last-Event-ID 0."""
    with socket.create_connection((HOST, port), timeout=10) as connection:
        connection.sendall(f"GET /_sim/events HTTP/1.1\r\nHost: {HOST}\r\nLast-Event-ID: 0\r\n\r\n".encode())
        received = b""
        while b"\nid: 1\n" not in received or b"\n\n" not in received.split(b"\nid: 1\n", 1)[1]:
            received += connection.recv(65536)
    return b"id: 1\n" + received.split(b"\nid: 1\n", 1)[1].split(b"\n\n")[0] + b"\n\n"


def bench_event_streams(binary):
    """API throughput with and without 50 open event streams, in one simulator.

    The runs (alone, streams of every event, streams of another account, and for
    POST alone beside a bare writer of the every-event run's bytes) alternate for
    EVENT_STREAM_ROUNDS rounds; each figure is the run with the median req/s, so a
    burst of load from elsewhere on the machine moves one round, not the ratio."""
    runs = {}
    with Simulator(binary, "--clock", "manual", "--log-level", "off",
                   "--http-threads", str(EVENT_STREAM_THREADS)) as simulator:
        order_id = simulator.create_order()
        # The ids of a run have about six digits, event 1's one.
        frame_bytes = len(first_event_frame(simulator.port)) + 10
        simulator.call("POST", "/_sim/clock/advance", '{"by":"5s"}')
        get_path = f"{CSRS_PATH}/{order_id}"
        for name, method, path, body in (("get", "GET", get_path, None),
                                         ("post", "POST", CSRS_PATH, CSR_BODY)):
            for round_number in range(EVENT_STREAM_ROUNDS):
                log(f"event streams: {method}, round {round_number + 1} of {EVENT_STREAM_ROUNDS}")
                for label, query in (("alone", None), ("all", ""), ("other", "?account=9999999"), ("writer", None)):
                    if label == "writer" and method == "GET":
                        continue  # a GET publishes nothing: there are no bytes to compare with
                    if method == "POST":  # every POST run starts from an empty store, far from --max-orders
                        simulator.call("POST", "/_sim/reset", "")
                    before = simulator.json("/_sim/health")["droppedEventStreams"]
                    # The writer sends what the streams of this round's "all" run carried.
                    with (StreamWriter(frame_bytes, runs[f"{name}_streams_all"][-1]["rps"])
                          if label == "writer" else contextlib.nullcontext()) as writer, \
                            EventStreams(simulator.port, 0 if label == "alone" else EVENT_STREAMS,
                                         query or "", writer):
                        result = wrk(simulator.port, path, method=method, body=body, seconds=EVENT_STREAM_SECONDS)
                        result["dropped"] = simulator.json("/_sim/health")["droppedEventStreams"] - before
                    key = f"{name}_alone" if label == "alone" else f"{name}_streams_{label}"
                    runs.setdefault(key, []).append(result)
    figures = {key: sorted(results, key=lambda r: r["rps"])[len(results) // 2] for key, results in runs.items()}
    figures["frame_bytes"] = frame_bytes
    return figures


def event_streams_section(figures):
    lines = ["## Event streams", "",
             f"wrk as above against one simulator (`--clock manual --http-threads {EVENT_STREAM_THREADS}`: each open "
             "stream holds a worker thread), first alone, then with "
             f"{EVENT_STREAMS} `curl -N` clients reading `GET /_sim/events` — every event (POST creates one "
             "`order.created` per request, so each is written to all 50 streams), or only those of "
             "another account (idle dashboards). The runs alternate, "
             f"{EVENT_STREAM_ROUNDS} rounds of {EVENT_STREAM_SECONDS} s each; each row is its median round. The ratio "
             "is against the run alone, same process, same run. *Dropped*: streams of that round the "
             "simulator dropped for falling a whole ring (10,000 events) behind; curl does not reconnect, "
             "so a round with drops carried fewer streams for the rest of it.",
             "",
             "*Bare writer* (POST only): the simulator alone again, while `bench/stream_writer.py` — a "
             f"separate process that does nothing but write — sends {EVENT_STREAMS} `curl -N` clients the "
             "bytes the simulator's streams carried in that round's every-event run (frames of "
             f"{figures['frame_bytes']} bytes, as many a second as that run's req/s, in 100 ms batches as "
             "the simulator writes them). It is what those bytes cost the 2 cores whoever writes them, "
             "and it is below 0.90× alone on this machine: so the every-event POST row is held to 0.90× "
             "of the bare writer's run (*× writer*) — the streams may cost at most 10 % beyond their bytes.",
             "",
             "| run | req/s | p99 | × alone | × writer | dropped | target | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for name, title in (("get", "GET /csrs/{id}"), ("post", "POST /csrs")):
        alone = figures[f"{name}_alone"]
        writer = figures.get(f"{name}_streams_writer")
        lines.append(f"| {title}, no stream (reference) | {alone['rps']:,.0f} | {ms(alone['p99_us'])} | 1.00 | | | | |")
        if writer:
            lines.append(f"| {title}, no stream, beside the bare writer | {writer['rps']:,.0f} | "
                         f"{ms(writer['p99_us'])} | {writer['rps'] / alone['rps']:.2f} | 1.00 | | | |")
        for label, text in (("all", "50 streams, every event"), ("other", "50 streams, another account")):
            result = figures[f"{name}_streams_{label}"]
            ratio = result["rps"] / alone["rps"]
            against_writer, target, held = "", "≥ 0.90× alone", ratio
            if writer and label == "all":
                held = result["rps"] / writer["rps"]
                against_writer, target = f"{held:.2f}", "≥ 0.90× writer"
            lines.append(f"| {title}, {text} | {result['rps']:,.0f} | {ms(result['p99_us'])} | {ratio:.2f} | "
                         f"{against_writer} | {result['dropped']} of {EVENT_STREAMS} | {target} | {met(held >= 0.9)} |")
    return lines


STATE_ROUNDS = 3          # --state: alternating rounds of POST /csrs with and without
STATE_SECONDS = 5
STATE_RESTORE_ORDERS = 100_000
STATE_RESTORE_RUNS = 3


def bench_state(binary):
    """POST /csrs with --state FILE against the in-memory default, and start-up on a
    state file of STATE_RESTORE_ORDERS orders.

    Two simulators run side by side (--clock manual, so each create is one write);
    their wrk runs alternate for STATE_ROUNDS rounds and each figure is the median
    round, so load from elsewhere moves one round, not the ratio."""
    runs = {"memory": [], "state": []}
    with tempfile.TemporaryDirectory(prefix="csrsim-bench-state-") as workdir:
        state_file = str(Path(workdir) / "state.db")
        flags = ("--clock", "manual", "--log-level", "off")
        with Simulator(binary, *flags) as memory, Simulator(binary, *flags, "--state", state_file) as state:
            for round_number in range(STATE_ROUNDS):
                log(f"state: POST /csrs, round {round_number + 1} of {STATE_ROUNDS}")
                for name, simulator in (("memory", memory), ("state", state)):
                    runs[name].append(wrk(simulator.port, CSRS_PATH, method="POST", body=CSR_BODY,
                                          seconds=STATE_SECONDS))
        # The start-up figure gets a file of its own, filled to STATE_RESTORE_ORDERS
        # (the rounds above leave one of a size that depends on the machine's speed).
        restore_dir = Path(workdir) / "restore"
        restore_dir.mkdir()
        state_file = str(restore_dir / "state.db")
        with Simulator(binary, *flags, "--state", state_file) as state:
            stored = 0
            started = time.monotonic()
            while stored < STATE_RESTORE_ORDERS and time.monotonic() - started < 120:
                log(f"state: {stored:,} orders; creating more for the start-up figure")
                wrk(state.port, CSRS_PATH, method="POST", body=CSR_BODY, seconds=5,
                    max_requests=STATE_RESTORE_ORDERS - stored)
                stored = state.json("/_sim/health")["orders"]
        file_bytes = sum(f.stat().st_size for f in restore_dir.iterdir())
        times = []
        for _ in range(STATE_RESTORE_RUNS):
            port = free_port()
            started = time.perf_counter()
            process = subprocess.Popen([binary, "--port", str(port), *flags, "--state", state_file],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_until_answers(port, "/_sim/health")
                times.append((time.perf_counter() - started) * 1000)
            finally:
                stop(process)
    median = {name: sorted(results, key=lambda r: r["rps"])[len(results) // 2] for name, results in runs.items()}
    return {"memory": median["memory"], "state": median["state"], "orders": stored,
            "file_bytes": file_bytes, "restore_ms": statistics.median(times)}


def state_section(figures):
    memory, state = figures["memory"], figures["state"]
    ratio = state["rps"] / memory["rps"]
    return ["## Durable state (--state)", "",
            f"wrk POST /csrs (2 threads, 64 connections) against two simulators side by side, `--clock manual`, "
            f"one in memory and one with `--state FILE` (SQLite, WAL, synchronous=NORMAL, group commit: "
            f"concurrent creates share a transaction); the two alternate for {STATE_ROUNDS} rounds of {STATE_SECONDS} s and each row is "
            "its median round. Start-up: exec to the first 200 of `GET /_sim/health` on a second state file "
            f"filled to {figures['orders']:,} orders, median of {STATE_RESTORE_RUNS}.",
            "",
            "| figure | value | reference | target | verdict |",
            "|---|---|---|---|---|",
            f"| POST /csrs in memory (reference) | {memory['rps']:,.0f} req/s, p99 {ms(memory['p99_us'])} | | | |",
            f"| POST /csrs with --state | {state['rps']:,.0f} req/s, p99 {ms(state['p99_us'])} | "
            f"{ratio:.2f}× in memory | ≥ 0.30× | {met(ratio >= 0.3)} |",
            f"| start-up on a state file of {figures['orders']:,} orders "
            f"({figures['file_bytes'] / 2**20:,.0f} MiB) | {figures['restore_ms']:,.0f} ms | | ≤ 1,000 ms | "
            f"{met(figures['restore_ms'] <= 1000)} |"]


SERVING_ROUNDS = 3         # serving: alternating rounds of GET, simulator and bare httplib
SERVING_SECONDS = 10
SERVING_WIDE_CONNECTIONS = 1000


class BareHttplib:
    """bench/bare_httplib.cpp: bare cpp-httplib answering `path` with `body` from
    memory, tuned like simulator/server.cpp; `threads` 0 keeps httplib's default pool."""

    def __init__(self, binary, workdir, path, body, threads, port=0):
        self.binary = binary
        self.body_file = Path(workdir) / "bare-body.xml"
        self.body_file.write_bytes(body)
        self.path = path
        self.threads = threads
        self.port = port

    def start(self):
        return subprocess.Popen([self.binary, str(self.port), self.path, str(self.body_file), str(self.threads)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def __enter__(self):
        self.process = self.start()
        self.port = int(re.search(r"listening on [\d.]+:(\d+)", read_line(self.process)).group(1))
        return self

    def __exit__(self, *exc):
        stop(self.process)


def bench_serving(binary, bare_binary):
    """The serving layer against its library's own ceiling: GET of a COMPLETE
    order vs bare httplib serving the same bytes (alternating rounds, median),
    1,000 connections at once, and start-up."""
    figures = {"rounds": {"simulator": [], "bare": []}}
    with tempfile.TemporaryDirectory(prefix="csrsim-serving-") as workdir, \
            Simulator(binary, "--clock", "manual", "--log-level", "off") as simulator:
        get_path, body = simulator.complete_order()
        figures["body_bytes"] = len(body)
        # 64 threads: one per wrk connection, as the simulator grows to.
        with BareHttplib(bare_binary, workdir, get_path, body, 64) as bare:
            for round_number in range(SERVING_ROUNDS):
                log(f"serving: GET, round {round_number + 1} of {SERVING_ROUNDS}, bare httplib then simulator")
                figures["rounds"]["bare"].append(wrk(bare.port, get_path, seconds=SERVING_SECONDS))
                figures["rounds"]["simulator"].append(wrk(simulator.port, get_path, seconds=SERVING_SECONDS))
                log(f"serving: bare {figures['rounds']['bare'][-1]}, simulator {figures['rounds']['simulator'][-1]}")
        log(f"serving: {SERVING_WIDE_CONNECTIONS} connections at once (wrk -c{SERVING_WIDE_CONNECTIONS})")
        figures["wide"] = wrk(simulator.port, get_path, seconds=SERVING_SECONDS,
                              connections=SERVING_WIDE_CONNECTIONS)
        figures["wide_threads"] = int(re.search(r"Threads:\s+(\d+)",
                                                Path(f"/proc/{simulator.process.pid}/status").read_text()).group(1))
        log(f"serving: simulator -c{SERVING_WIDE_CONNECTIONS}: {figures['wide']}")
        with BareHttplib(bare_binary, workdir, get_path, body, SERVING_WIDE_CONNECTIONS) as bare:
            log(f"serving: bare httplib with {SERVING_WIDE_CONNECTIONS} threads, wrk -c{SERVING_WIDE_CONNECTIONS}")
            figures["bare_wide"] = wrk(bare.port, get_path, seconds=SERVING_SECONDS,
                                       connections=SERVING_WIDE_CONNECTIONS)

        log(f"serving: start-up, simulator and bare httplib alternating, {STARTUP_RUNS} runs each")
        simulator_port, bare_port = free_port(), free_port()
        bare_default = BareHttplib(bare_binary, workdir, get_path, body, 0, bare_port)
        simulator_times, bare_times = [], []
        for _ in range(STARTUP_RUNS):
            simulator_times.append(median_start(
                lambda: subprocess.Popen([binary, "--port", str(simulator_port), "--log-level", "off"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
                simulator_port, "/_sim/health", 1)[0])
            bare_times.append(median_start(bare_default.start, bare_port, "/_sim/health", 1)[0])
        figures["startup"] = {"simulator": (statistics.median(simulator_times), min(simulator_times),
                                            max(simulator_times)),
                              "bare": (statistics.median(bare_times), min(bare_times), max(bare_times))}
    return figures


def serving_section(figures):
    """The serving layer's figures against bare cpp-httplib, as Markdown lines."""
    def median_run(runs):
        return sorted(runs, key=lambda run: run["rps"])[len(runs) // 2]

    simulator = median_run(figures["rounds"]["simulator"])
    bare = median_run(figures["rounds"]["bare"])
    rps_ratio = simulator["rps"] / bare["rps"]
    p99_ratio = simulator["p99_us"] / max(bare["p99_us"], 1)

    def row(name, result, ratio="", target="", verdict=""):
        return (f"| {name} | {result['rps']:,.0f} | {ms(result['p50_us'])} | {ms(result['p99_us'])} | "
                f"{result['socket_errors']} | {result['non_2xx']} | {result['listen_overflows']} | "
                f"{ratio} | {target} | {verdict} |")

    wide, bare_wide = figures["wide"], figures["bare_wide"]

    def error_kinds(result):
        kinds = [f"{result.get(key, 0)} {name}" for key, name in
                 (("connect_errors", "connect"), ("read_errors", "read"), ("write_errors", "write"),
                  ("timeouts", "time-outs (wrk's 2 s)")) if result.get(key, 0)]
        return ", ".join(kinds) or "none"

    wide_ok = wide["socket_errors"] == 0 and wide["non_2xx"] == 0 and wide["p99_us"] <= 100_000
    sim_start, bare_start = figures["startup"]["simulator"], figures["startup"]["bare"]
    start_ratio = sim_start[0] / bare_start[0]
    lines = ["## Serving layer against bare cpp-httplib", "",
             "`bench/run.sh --only serving`. The reference is `bench/bare_httplib.cpp`: bare cpp-httplib "
             "0.11.4 (the Debian package the simulator is built on) answering the same "
             f"{figures['body_bytes']}-byte XML of a COMPLETE order from memory at the same path, tuned as "
             "`simulator/server.cpp` tunes its listener (TCP_NODELAY, keep-alive 5 s with no cap on requests "
             "per connection, listen backlog SOMAXCONN), with a pool of one thread per wrk connection "
             "(httplib holds a thread per keep-alive connection). wrk, 2 threads, "
             f"{SERVING_SECONDS} s per run; the 64-connection runs alternate between the two servers for "
             f"{SERVING_ROUNDS} rounds and each figure is the round with the median req/s. The simulator "
             "checks Basic credentials and reads the order from its store on every request; the reference "
             "does neither.", "",
             "| run | req/s | p50 | p99 | socket errors | non-2xx | accept-queue overflows | ratio | target | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|",
             row("bare httplib GET, 64 connections (reference)", bare),
             row("csr-simulator GET /csrs/{id}, 64 connections", simulator,
                 f"{rps_ratio:.2f}× req/s, {p99_ratio:.2f}× p99", "≥ 0.95× req/s, p99 ≤ 2×",
                 met(rps_ratio >= 0.95 and p99_ratio <= 2)),
             row(f"csr-simulator GET, {SERVING_WIDE_CONNECTIONS} connections", wide, "",
                 "no socket errors, p99 ≤ 100 ms", met(wide_ok)),
             row(f"bare httplib GET, {SERVING_WIDE_CONNECTIONS} connections, {SERVING_WIDE_CONNECTIONS} threads",
                 bare_wide),
             "",
             "Every round (req/s, p99):", ""]
    for index, (ours, theirs) in enumerate(zip(figures["rounds"]["simulator"], figures["rounds"]["bare"])):
        lines.append(f"- round {index + 1}: csr-simulator {ours['rps']:,.0f} req/s, {ms(ours['p99_us'])}; "
                     f"bare httplib {theirs['rps']:,.0f} req/s, {ms(theirs['p99_us'])}")
    lines += ["", f"The simulator ran {figures['wide_threads']} threads at the end of the "
              f"{SERVING_WIDE_CONNECTIONS}-connection run (one per open connection, plus its own); "
              f"socket errors of that run by kind: {error_kinds(wide)}.", "",
              f"Start-up: exec to the first 200 of `GET /_sim/health` (the reference answers that path too, "
              f"with httplib's default pool of 8 threads), polling every 0.5 ms, the two alternating, "
              f"median of {STARTUP_RUNS} each.", "",
              "| server | median | min | max | ratio | target | verdict |", "|---|---|---|---|---|---|---|",
              f"| bare httplib (reference) | {bare_start[0]:.1f} ms | {bare_start[1]:.1f} ms | "
              f"{bare_start[2]:.1f} ms | | | |",
              f"| csr-simulator | {sim_start[0]:.1f} ms | {sim_start[1]:.1f} ms | {sim_start[2]:.1f} ms | "
              f"{start_ratio:.2f}× | ≤ 1.3× | {met(start_ratio <= 1.3)} |"]
    return lines


def command_output(*command):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        return (result.stdout + result.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "not found"


def machine_info(binary, wiremock_jar):
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    return [
        ("cores (nproc)", str(os.cpu_count())),
        ("CPU", cpu.group(1) if cpu else platform.processor()),
        ("kernel", platform.release()),
        ("memory", f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.1f} GiB"),
        ("load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("csr-simulator", command_output(binary, "--version")),
        ("compiler", command_output("c++", "--version")),
        ("wrk", command_output("wrk", "-v")),
        ("nginx", command_output("nginx", "-v")),
        ("node", command_output("node", "--version")),
        ("java (WireMock)", command_output("java", "-version") if wiremock_jar else "not run"),
        ("WireMock", Path(wiremock_jar).name if wiremock_jar else "not run"),
    ]


def met(ok):
    return "**met**" if ok else "**not met**"


def ms(micros):
    return f"{micros / 1000:.2f} ms"


def write_report(out, info, startup, throughput, memory, callbacks, drain, streams, total_seconds):
    lines = ["# csr-simulator benchmark results", "",
             f"Generated by `bench/run.sh` on {time.strftime('%Y-%m-%d %H:%M:%S %Z')} "
             f"in {total_seconds:.0f} s. Every figure was taken in this run, beside its "
             "reference. The machine is shared: compare ratios, not absolute numbers.", "",
             "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in info]

    nginx_rps = throughput["nginx_get"]["rps"]
    lines += ["", "## API throughput",
              "", f"wrk, 2 threads, 64 keep-alive connections, {WRK_SECONDS} s; the reference is "
              f"nginx serving the same {throughput['body_bytes']}-byte XML as a static file "
              "(`--log-level off` unless said). Accept-queue overflows: the kernel's "
              "ListenOverflows during the run (each costs the client a 0.2–1 s retransmission).",
              "",
              "| run | req/s | p50 | p99 | × nginx | accept-queue overflows | target | verdict |",
              "|---|---|---|---|---|---|---|---|"]

    def row(name, result, target="", verdict=""):
        errors = result["non_2xx"] + result["socket_errors"]
        note = f" ({errors} errors)" if errors else ""
        return (f"| {name} | {result['rps']:,.0f}{note} | {ms(result['p50_us'])} | "
                f"{ms(result['p99_us'])} | {result['rps'] / nginx_rps:.2f} | "
                f"{result['listen_overflows']} | {target} | {verdict} |")

    get, post = throughput["get"], throughput["post"]
    lines.append(row("nginx static GET (reference)", throughput["nginx_get"]))
    lines.append(row("GET /csrs/{id} (COMPLETE)", get, "≥ 0.8× nginx, p99 ≤ 5 ms",
                     met(get["rps"] >= 0.8 * nginx_rps and get["p99_us"] <= 5000)))
    lines.append(row("POST /csrs", post, "≥ 0.5× nginx", met(post["rps"] >= 0.5 * nginx_rps)))
    lines.append(row("GET, default `--log-level info`", throughput["get_logged"]))
    if "wiremock_get" in throughput:
        lines.append(row("WireMock stub GET (peer)", throughput["wiremock_get"]))

    median, fastest, slowest = startup["simulator_ms"]
    lines += ["", "## Start-up", "",
              f"exec to the first 200 answer (csr-simulator: `GET /_sim/health`), median of "
              f"{STARTUP_RUNS} runs (WireMock: 3), polling every 0.5 ms.", "",
              "| server | median | min | max | target | verdict |", "|---|---|---|---|---|---|",
              f"| csr-simulator | {median:.1f} ms | {fastest:.1f} ms | {slowest:.1f} ms | ≤ 20 ms | "
              f"{met(median <= 20)} |"]
    for key, name in (("nginx_ms", "nginx (reference)"), ("wiremock_ms", "WireMock (peer)")):
        if key in startup:
            lines.append(f"| {name} | {startup[key][0]:.1f} ms | {startup[key][1]:.1f} ms | "
                         f"{startup[key][2]:.1f} ms | | |")

    orders = memory["orders"]
    per_order = (memory["rss"] - memory["idle_rss"]) / orders
    ratio = memory["large_get"]["p99_us"] / max(memory["small_get"]["p99_us"], 1)
    reached = orders >= MEMORY_TARGET_ORDERS
    lines += ["", "## Memory", "",
              f"RSS (VmRSS) idle, then after {orders:,} orders created through `POST /csrs` "
              f"(wrk, {memory['create_seconds']:.0f} s) and completed (real clock, House of Mouse "
              "CSR data on every order).", "",
              "| figure | value | reference | target | verdict |", "|---|---|---|---|---|",
              f"| RSS idle | {memory['idle_rss'] / 2**20:.1f} MiB | | ≤ 20 MB | "
              f"{met(memory['idle_rss'] <= 20e6)} |",
              f"| RSS after {orders:,} orders | {memory['rss'] / 2**20:.0f} MiB | | | |",
              f"| bytes per order (ΔRSS / orders) | {per_order:,.0f} B | | ≤ 1 KB | "
              f"{met(per_order <= 1024)} |"]
    if not reached:
        estimate = memory["idle_rss"] + per_order * MEMORY_TARGET_ORDERS
        lines.append(f"| RSS at 1,000,000 orders (extrapolated: {orders:,} fit in "
                     f"{MEMORY_BUDGET_SECONDS} s) | {estimate / 2**20:.0f} MiB | | | |")
    small, large = memory["small_get"], memory["large_get"]
    lines.append(f"| GET p99 at {orders:,} orders | {ms(large['p99_us'])} ({ratio:.2f}×; "
                 f"{large['listen_overflows']} accept-queue overflows) | {ms(small['p99_us'])} at "
                 f"{memory['small_orders']:,} orders ({small['listen_overflows']} overflows) | "
                 f"≤ 1.5× | {met(ratio <= 1.5)} |")

    lines += ["", "## Callback timing", "",
              f"{CALLBACK_ORDERS:,} orders created by wrk POST on `--clock scale={CALLBACK_SCALE}` "
              "(COMPLETE falls due 30 ms of wall time after creation), either paced "
              f"(64 connections, {CALLBACK_PACE_DELAY_MS} ms between requests: "
              f"≤ {64000 // CALLBACK_PACE_DELAY_MS:,} orders/s) "
              "or as fast as wrk can (burst); one subscription to a Node receiver that records "
              "the wall-clock arrival of each callback. Lag = arrival − the wall time at which "
              "the order's COMPLETE fell due (its `created` + 3 s simulated; clock calibrated with "
              "`GET /_sim/clock`, 10 µs resolution). Of which, from the journal: *step late* = "
              "the transition ran (`scheduledAt`) after it fell due (scheduler thread), *queued* "
              "= `sentAt − scheduledAt` (dispatcher queue). Orders/s created = orders / the span "
              "of their due times; callbacks/s = delivered / (last − first arrival). A run "
              f"waits at most {CALLBACK_WINDOW_SECONDS} s for its callbacks.", "",
              "| run | orders/s created | delivered | lag p50 | lag p99 | lag max | "
              "p99 step late / queued | callbacks/s | target | verdict |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    reference_p99 = callbacks["paced"]["lag_p99"]
    for name, result in callbacks.items():
        complete = result["delivered"] >= result["orders"]
        p99 = result["lag_p99"] if complete else float("inf")
        if name == "paced":
            target, verdict = "p99 ≤ 5 ms", met(p99 <= 5)
        elif name == "burst":
            target, verdict = "≥ 5,000 callbacks/s", met(complete and result["rate"] >= 5000)
        else:
            target, verdict = "p99 as paced", met(p99 <= max(5, 1.5 * reference_p99))
        p99_text = f"{p99:.2f} ms" if complete else f"> {CALLBACK_WINDOW_SECONDS} s (undelivered)"
        lines.append(f"| {name} | {result['offered']:,.0f} | "
                     f"{result['delivered']:,} / {result['orders']:,} | "
                     f"{result['lag_p50']:.2f} ms | {p99_text} | {result['lag_max']:.1f} ms | "
                     f"{result['step_lag_p99']:.2f} / {result['queue_lag_p99']:.2f} ms | "
                     f"{result['rate']:,.0f} | {target} | {verdict} |")
    lines += ["", "Delivery capacity alone, without wrk creating orders on the same two cores: "
              f"{drain['orders']:,} orders on `--clock manual`, then one `POST /_sim/clock/advance` "
              "past their COMPLETE, which returns once every callback was attempted.", "",
              "| run | delivered | callbacks/s | target | verdict |", "|---|---|---|---|---|",
              f"| drain on advance | {drain['delivered']:,} / {drain['orders']:,} | "
              f"{drain['rate']:,.0f} | ≥ 5,000 callbacks/s | "
              f"{met(drain['delivered'] >= drain['orders'] and drain['rate'] >= 5000)} |"]
    lines += [""] + event_streams_section(streams)
    merge_report(out, "\n".join(lines) + "\n")


def merge_report(out, report):
    """Writes a whole report over `out` section by section, so that what the report
    does not make (callback_isolation.py's section, notes kept by replace_section)
    stays; the text before the first section is the report's."""
    head, *sections = re.split(r"^(?=## )", report, flags=re.M)
    for section in sections:
        replace_section(out, section.rstrip("\n").split("\n"), None)
    text = Path(out).read_text()
    first = re.search(r"^## ", text, re.M)
    Path(out).write_text(head + (text[first.start():] if first else ""))


LOAD_BEFORE = os.getloadavg()  # the run's own threads (wrk -c1000) inflate the figure after it
KEPT_NOTES = "<!-- written by hand from here to the next section; bench.py keeps it -->"


def replace_section(out, section, only="event-streams"):
    """Puts `section` (starting with its "## " title) in place of the one in `out`,
    keeping what the old one had from a KEPT_NOTES line on."""
    text = Path(out).read_text() if Path(out).exists() else ""
    stamp = [] if only is None else [
        f"Taken alone (`bench.py --only {only}`) on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC, load average "
        + " ".join(f"{x:.2f}" for x in LOAD_BEFORE) + " before the run, "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()) + " after it.", ""]
    block = "\n".join(section[:2] + stamp + section[2:]) + "\n"
    start = text.find(section[0] + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + block
    else:
        end = text.find("\n## ", start + 1)
        old = text[start:end + 1 if end >= 0 else len(text)]
        if KEPT_NOTES in old:
            block += "\n" + old[old.index(KEPT_NOTES):].rstrip("\n") + "\n"
        text = text[:start] + block + ("\n" + text[end + 1:] if end >= 0 else "")
    Path(out).write_text(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulator", required=True, help="the Release csr-simulator binary")
    parser.add_argument("--out", required=True, help="Markdown file to write")
    parser.add_argument("--wiremock-jar", help="WireMock standalone jar (peer figures)")
    parser.add_argument("--bare-httplib", help="bench/bare_httplib.cpp built (the serving reference)")
    parser.add_argument("--only", choices=["event-streams", "state", "serving"],
                        help="run one benchmark and replace its section of --out")
    parser.add_argument("--quick", action="store_true",
                        help="a one-minute smoke run of the harness; its figures mean little")
    args = parser.parse_args()
    if args.quick:
        global WRK_SECONDS, STARTUP_RUNS, MEMORY_BUDGET_SECONDS, CALLBACK_ORDERS
        global CALLBACK_WINDOW_SECONDS
        global SERVING_ROUNDS, SERVING_SECONDS
        WRK_SECONDS, STARTUP_RUNS, MEMORY_BUDGET_SECONDS = 2, 5, 5
        SERVING_ROUNDS, SERVING_SECONDS = 1, 2
        CALLBACK_ORDERS, CALLBACK_WINDOW_SECONDS = 1000, 8

    if args.only == "event-streams":
        replace_section(args.out, event_streams_section(bench_event_streams(args.simulator)))
        log(f"wrote the event-streams section of {args.out}")
        return
    if args.only == "state":
        replace_section(args.out, state_section(bench_state(args.simulator)), "state")
        log(f"wrote the durable-state section of {args.out}")
        return
    if args.only == "serving":
        replace_section(args.out, serving_section(bench_serving(args.simulator, args.bare_httplib)), "serving")
        log(f"wrote the serving section of {args.out}")
        return

    started = time.monotonic()
    info = machine_info(args.simulator, args.wiremock_jar)
    with tempfile.TemporaryDirectory(prefix="csrsim-bench-") as workdir:
        Path(workdir).chmod(0o755)  # nginx workers run as an unprivileged user
        startup = bench_startup(args.simulator, workdir, args.wiremock_jar)
        throughput = bench_throughput(args.simulator, workdir, args.wiremock_jar)
    memory = bench_memory(args.simulator)
    callbacks = {}
    for name, paced, hanging in (("paced", True, False), ("burst", False, False),
                                 ("paced, plus a receiver that hangs", True, True)):
        log(f"callbacks: {name}")
        callbacks[name] = bench_callbacks(args.simulator, paced=paced,
                                          with_hanging_receiver=hanging)
    log("callbacks: drain on a manual-clock advance")
    drain = bench_callback_drain(args.simulator)
    streams = bench_event_streams(args.simulator)
    state = bench_state(args.simulator)
    serving = bench_serving(args.simulator, args.bare_httplib) if args.bare_httplib else None
    info.append(("load average at end", " ".join(f"{x:.2f}" for x in os.getloadavg())))
    write_report(args.out, info, startup, throughput, memory, callbacks, drain, streams,
                 time.monotonic() - started)
    replace_section(args.out, state_section(state), None)
    if serving:
        replace_section(args.out, serving_section(serving), None)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
