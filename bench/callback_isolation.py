#!/usr/bin/env python3
"""Callback lateness under API load, with and without dead receivers.

    callback_isolation.py --simulator BUILD/csr-simulator --out results/latest.md [--quick]

Two runs on `--clock scale=100` (an order's COMPLETE falls due 30 ms of wall
time after its creation), each for RUN_SECONDS:
  - "API load": account 9900000 creates ORDER_RATE orders/s (wrk POST, paced)
    while a second wrk GETs a COMPLETE order at GET_RATE req/s; one recording
    receiver (bench/receiver.js) is subscribed;
  - "plus 8 dead receivers": the same, and account 9900001 creates DEAD_RATE
    orders/s with 8 subscriptions to loopback ports that accept TCP connections
    and never answer (listening sockets nobody accepts from), on one host.
Lateness = arrival at the healthy receiver − the wall time at which the
order's COMPLETE fell due (its `created` + 3 s simulated, mapped to wall time
through `GET /_sim/clock`). The first run is the reference of the second.
Appends a Markdown section to the report bench.py wrote. Loopback only;
every wait is bounded. Reuses bench.py's helpers.
"""

import argparse
import os
import socket
import threading
import time

import bench

ORDER_RATE = 1_000
GET_RATE = 5_000
DEAD_RATE = 100
DEAD_PORTS = 8
RUN_SECONDS = 10
WAIT_SECONDS = 30
LATE_TARGET_MS = {"API load": 5.0, "plus 8 dead receivers": 100.0}
DEAD_ACCOUNT = "9900001"


class DeadPorts:
    """Loopback ports that listen and never accept: the kernel completes each
    connection and takes the request bytes; no answer ever comes."""

    def __init__(self, count):
        self.sockets = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((bench.HOST, 0))
            sock.listen(4096)
            self.sockets.append(sock)
        self.urls = [f"http://{bench.HOST}:{s.getsockname()[1]}/cb" for s in self.sockets]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for sock in self.sockets:
            sock.close()


# wrk connections of each load: few for the orders, so that they arrive spread
# out rather than in bursts of one per connection (each connection pauses
# between requests, and they all start together).
ORDER_CONNECTIONS = 10
GET_CONNECTIONS = 64


def paced_delay_ms(rate, connections):
    """wrk's per-connection pause for `rate` requests/s over `connections`."""
    return max(1, int(connections * 1000 / rate) - 1)  # less the time a request takes


def subscribe(simulator, account, url):
    body = (f"<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>{url}</URL>"
            "<Expiry>3600</Expiry></CallbackSubscription></Subscription>")
    status, answer, _ = bench.request(simulator.port, "POST", f"/api/accounts/{account}/subscriptions",
                                      body, {"Authorization": bench.AUTH, "Content-Type": "application/xml"})
    if status >= 300:
        raise RuntimeError(f"subscription answered {status}: {answer[:200]!r}")


def run(binary, *, dead):
    figures = {}
    # Up to three wrk runs of 64 keep-alive connections each: a server thread for every one.
    with bench.Simulator(binary, "--clock", f"scale={bench.CALLBACK_SCALE}", "--log-level", "off",
                         "--journal-capacity", "100000", "--http-threads", "256") as simulator, \
            bench.Receiver("record") as good, DeadPorts(DEAD_PORTS if dead else 0) as dead_ports:
        subscribe(simulator, bench.ACCOUNT, good.url)
        for url in dead_ports.urls:
            subscribe(simulator, DEAD_ACCOUNT, url)
        complete_order = simulator.create_order()

        wall_origin, sim_origin = bench.clock_origin(simulator)

        def wall(sim_seconds):
            return wall_origin + (sim_seconds - sim_origin) / bench.CALLBACK_SCALE

        loads = {
            "orders": dict(path=bench.CSRS_PATH, method="POST", body=bench.CSR_BODY,
                           max_requests=ORDER_RATE * RUN_SECONDS, connections=ORDER_CONNECTIONS,
                           delay_ms=paced_delay_ms(ORDER_RATE, ORDER_CONNECTIONS)),
            "gets": dict(path=f"{bench.CSRS_PATH}/{complete_order}", connections=GET_CONNECTIONS,
                         delay_ms=paced_delay_ms(GET_RATE, GET_CONNECTIONS)),
        }
        if dead:
            loads["dead orders"] = dict(path=f"/api/accounts/{DEAD_ACCOUNT}/csrs", method="POST",
                                        body=bench.CSR_BODY, max_requests=DEAD_RATE * RUN_SECONDS,
                                        connections=ORDER_CONNECTIONS,
                                        delay_ms=paced_delay_ms(DEAD_RATE, ORDER_CONNECTIONS))
        results = {}

        def load(name, spec):
            spec = dict(spec)
            results[name] = bench.wrk(simulator.port, spec.pop("path"), seconds=RUN_SECONDS, **spec)

        threads = [threading.Thread(target=load, args=item) for item in loads.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        created = results["orders"]["requests"]
        deadline = time.monotonic() + WAIT_SECONDS
        records = good.records()
        while len(records) < created + 1 and time.monotonic() < deadline:
            time.sleep(0.5)
            records = good.records()

        due = {}
        lags = []
        for order_id, arrived in records:
            if order_id == complete_order:
                continue
            order = simulator.json(f"/_sim/orders/{order_id}")
            due[order_id] = wall(bench.parse_time(order["created"]) + bench.COMPLETE_AFTER_SIM_SECONDS)
            lags.append((arrived - due[order_id]) * 1000)
        # Where the time went, from the journal: the step ran late (scheduler), or
        # the callback waited for a worker (sentAt − scheduledAt).
        journal = [e for e in simulator.json(f"/_sim/callbacks?account={bench.ACCOUNT}")["entries"]
                   if e["orderId"] in due]
        step_lags = [(wall(bench.parse_time(e["scheduledAt"])) - due[e["orderId"]]) * 1000 for e in journal]
        queue_lags = [(bench.parse_time(e["sentAt"]) - bench.parse_time(e["scheduledAt"])) * 1000
                      / bench.CALLBACK_SCALE for e in journal]
        dead_journal = simulator.json(f"/_sim/callbacks?account={DEAD_ACCOUNT}")["entries"] if dead else []
        figures.update(
            orders=created, delivered=len(lags),
            order_rate=results["orders"]["rps"], get_rate=results["gets"]["rps"],
            get_p99=results["gets"]["p99_us"] / 1000,
            dead_orders=results.get("dead orders", {}).get("requests", 0),
            dead_attempts=len(dead_journal),
            lag_p50=bench.percentile(lags, 0.50) if lags else float("nan"),
            lag_p99=bench.percentile(lags, 0.99) if lags else float("nan"),
            lag_max=max(lags) if lags else float("nan"),
            step_lag_p99=bench.percentile(step_lags, 0.99) if step_lags else float("nan"),
            queue_lag_p99=bench.percentile(queue_lags, 0.99) if queue_lags else float("nan"))
    return figures


def report(runs, load_before, load_after):
    lines = ["## Callback lateness under API load, with dead receivers", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; load average {load_before} before, "
             f"{load_after} after (the machine is shared: compare the two rows, not runs).", "",
             f"`bench/callback_isolation.py`: on `--clock scale={bench.CALLBACK_SCALE}`, account "
             f"{bench.ACCOUNT} creates ~{ORDER_RATE:,} orders/s (wrk POST, {ORDER_CONNECTIONS} connections, paced) while a second wrk GETs "
             f"a COMPLETE order at ~{GET_RATE:,} req/s ({GET_CONNECTIONS} connections), for {RUN_SECONDS} s; one recording receiver is "
             "subscribed; `--http-threads 256` so that every wrk connection has a server thread. Lateness = arrival − the wall time the order's COMPLETE fell due. The second "
             f"run adds account {DEAD_ACCOUNT}, creating ~{DEAD_RATE} orders/s with {DEAD_PORTS} "
             "subscriptions to loopback ports of one host that accept TCP connections and never answer "
             "(each of its attempts hangs for `--callback-timeout`, 5 s). The first run is the "
             "reference of the second.", "",
             "*p99 step late / queued*: from the journal, the transition ran (`scheduledAt`) after it fell "
             "due (scheduler thread), and `sentAt − scheduledAt` (waiting for a callback worker).", "",
             "| run | orders/s | GET req/s (p99) | delivered / created (wrk count) | lateness p50 | p99 (× reference) | max | p99 step late / queued | "
             "dead attempts ended | target | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    reference = runs["API load"]["lag_p99"]
    for name, r in runs.items():
        target = LATE_TARGET_MS[name]
        ok = r["delivered"] >= r["orders"] and r["lag_p99"] <= target
        dead = f"{r['dead_attempts']:,} of {r['dead_orders'] * DEAD_PORTS:,}" if r["dead_orders"] else ""
        lines.append(f"| {name} | {r['order_rate']:,.0f} | {r['get_rate']:,.0f} ({r['get_p99']:.1f} ms) | "
                     f"{r['delivered']:,} / {r['orders']:,} | {r['lag_p50']:.2f} ms | "
                     f"{r['lag_p99']:.2f} ms ({r['lag_p99'] / reference:.2f}×) | "
                     f"{r['lag_max']:.1f} ms | {r['step_lag_p99']:.2f} / {r['queue_lag_p99']:.2f} ms | {dead} | p99 ≤ {target:g} ms | {bench.met(ok)} |")
    return lines


def main():
    global RUN_SECONDS, WAIT_SECONDS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulator", required=True, help="the Release csr-simulator binary")
    parser.add_argument("--out", required=True, help="Markdown report: its section is replaced, or added")
    parser.add_argument("--quick", action="store_true", help="2-second runs; figures mean little")
    args = parser.parse_args()
    if args.quick:
        RUN_SECONDS, WAIT_SECONDS = 2, 8
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    runs = {}
    for name, dead in (("API load", False), ("plus 8 dead receivers", True)):
        bench.log(f"callback isolation: {name}")
        runs[name] = run(args.simulator, dead=dead)
    bench.replace_section(args.out, report(runs, load_before, " ".join(f"{x:.2f}" for x in os.getloadavg())), None)
    bench.log(f"wrote the callback isolation section of {args.out}")


if __name__ == "__main__":
    main()
