#!/usr/bin/env python3
"""What one more note costs on an order that already has many.

    bench/notes.py --simulator BUILD/csr-simulator [--notes 6000] [--state]

Starts the simulator on a free loopback port (--clock manual, port file in a temp
dir), creates one order and adds --notes notes to it over one keep-alive
connection, timing each POST. Prints the median add time around 1k notes and in
the last 1k, and the median GET of the order, of its notes and of its /_sim JSON
at 1k and at the end. O(1) per add means the two add medians are about equal.
Not a test: absolute times depend on the machine and its load.
"""

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACCOUNT = "9900000"
AUTH = {"Authorization": "Basic dXNlcm5hbWU6cGFzc3dvcmQ=", "Content-Type": "application/xml"}
CSR = "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber></Csr>"
NOTE = ("<Note><UserId>bench-user</UserId><Description>" + "d" * 400 + "</Description></Note>")
SAMPLE = 1000  # adds per window; reads per measurement point: 50


def timed(connection, method, path, body=None, headers=AUTH):
    start = time.perf_counter()
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    return time.perf_counter() - start, response.status, data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--simulator", required=True)
    parser.add_argument("--notes", type=int, default=6000)
    parser.add_argument("--state", action="store_true", help="run with --state FILE (a temp file)")
    args = parser.parse_args()
    if args.notes < 2 * SAMPLE:
        sys.exit("--notes must be at least 2000")

    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        command = [args.simulator, "--port", "0", "--port-file", str(port_file), "--clock", "manual",
                   "--log-level", "off", "--max-notes-per-order", str(args.notes)]
        if args.state:
            command += ["--state", str(Path(tmp) / "state.db")]
        simulator = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        try:
            for _ in range(1000):
                if port_file.exists() and port_file.read_text().strip():
                    break
                time.sleep(0.01)
            port = int(port_file.read_text())
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            _, status, body = timed(connection, "POST", f"/api/accounts/{ACCOUNT}/csrs", CSR)
            assert status in (200, 201), (status, body)
            order_id = body.decode().split("<OrderId>")[1].split("</OrderId>")[0]
            order_path = f"/api/accounts/{ACCOUNT}/csrs/{order_id}"

            def reads():
                figures = {}
                for name, method, path, headers in (
                        ("GET order", "GET", order_path, AUTH),
                        ("GET notes", "GET", order_path + "/notes", AUTH),
                        ("GET /_sim/orders/{id}", "GET", f"/_sim/orders/{order_id}", {})):
                    times = []
                    for _ in range(50):
                        elapsed, status, _ = timed(connection, method, path, headers=headers)
                        assert status == 200, (name, status)
                        times.append(elapsed)
                    figures[name] = statistics.median(times)
                return figures

            adds = []
            read_points = {}
            for index in range(1, args.notes + 1):
                elapsed, status, body = timed(connection, "POST", order_path + "/notes", NOTE)
                assert status == 201, (status, body)
                adds.append(elapsed)
                if index == SAMPLE:
                    read_points[index] = reads()
            read_points[args.notes] = reads()

            first = statistics.median(adds[SAMPLE // 2:SAMPLE + SAMPLE // 2])
            last = statistics.median(adds[-SAMPLE:])
            mode = "with --state" if args.state else "in memory"
            print(f"notes on one order, {mode}, 400-byte descriptions ({os.cpu_count()} cores, "
                  f"load average {os.getloadavg()[0]:.1f})")
            print(f"  add, median of notes {SAMPLE // 2}-{SAMPLE + SAMPLE // 2}: {first * 1e6:8.0f} us")
            print(f"  add, median of notes {args.notes - SAMPLE}-{args.notes}: {last * 1e6:8.0f} us"
                  f"   ({last / first:.2f}x)")
            for name in read_points[SAMPLE]:
                at_first = read_points[SAMPLE][name]
                at_last = read_points[args.notes][name]
                print(f"  {name:<22} at {SAMPLE} notes: {at_first * 1e6:8.0f} us; at {args.notes}: "
                      f"{at_last * 1e6:8.0f} us")
        finally:
            simulator.terminate()
            simulator.wait(timeout=30)


if __name__ == "__main__":
    main()
