// csr-simulator-client: drive a csr-simulator from a Node.js test suite.
//
//   const { CsrSimulator } = require("csr-simulator-client");
//   const sim = await CsrSimulator.start({ binary: "build/csr-simulator", args: ["--clock", "manual"] });
//   // point your system at sim.apiBaseUrl (http://127.0.0.1:PORT/api) ...
//   await sim.advance("5s");
//   const delivery = await sim.waitForCallback({ orderId, status: "COMPLETE" });
//   await sim.close();
//
// Every method is one call of the simulator's control API (docs/control-api.md in the
// csr-simulator repository) and resolves with its JSON answer; an unexpected HTTP status
// rejects with a CsrSimulatorError carrying `status` and `body`. No dependencies: Node's
// own http module, one connection per call (no keep-alive pool that would outlive close()).
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");
const os = require("node:os");
const path = require("node:path");

/** An answer of the control API with a status the call did not expect. */
class CsrSimulatorError extends Error {
  /**
   * @param {string} message
   * @param {number} status HTTP status of the answer
   * @param {string} body the answer's body
   */
  constructor(message, status, body) {
    super(message);
    this.name = "CsrSimulatorError";
    this.status = status;
    this.body = body;
  }
}

/**
 * @typedef {object} StartOptions
 * @property {string} [binary] path of csr-simulator (default: $CSRSIM_BINARY, else `csr-simulator` on PATH)
 * @property {string[]} [args] extra flags, e.g. ["--clock", "manual"]
 * @property {number} [timeoutMs] how long to wait for the port file and health (default 10000)
 * @property {boolean} [inheritStderr] pass the simulator's stderr through (default false: kept in `stderr`)
 * @property {string} [token] the control token (default: the value of a `--control-token` in `args`)
 *
 * @typedef {object} ConnectOptions
 * @property {string} [token] the --control-token value, sent as a Bearer token
 *
 * @typedef {object} AccountOption
 * @property {string} [account] only this account (per-account reset, clock, filters)
 */

function query(params) {
  const entries = Object.entries(params || {}).filter(([, value]) => value !== undefined && value !== null);
  if (entries.length === 0) return "";
  return "?" + entries.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`).join("&");
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class CsrSimulator {
  /**
   * @param {string} baseUrl e.g. http://127.0.0.1:8080 (no trailing slash)
   * @param {ConnectOptions} [options]
   * @param {import("node:child_process").ChildProcess} [child] the process this object owns
   */
  constructor(baseUrl, options = {}, child = undefined) {
    /** Where the control API and the Bandwidth routes are: http://HOST:PORT */
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    /** What your system uses in place of Bandwidth's base URL: http://HOST:PORT/api */
    this.apiBaseUrl = `${this.baseUrl}/api`;
    this.token = options.token;
    this.child = child;
    /** Everything the owned process wrote to stderr so far. */
    this.stderr = "";
  }

  /**
   * Starts the binary on a free port (`--port 0 --port-file`), waits until it answers
   * `GET /_sim/health`, and resolves with a client that stops it on close().
   * @param {StartOptions} [options]
   * @returns {Promise<CsrSimulator>}
   */
  static async start(options = {}) {
    const binary = options.binary || process.env.CSRSIM_BINARY || "csr-simulator";
    const timeoutMs = options.timeoutMs ?? 10_000;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "csrsim-"));
    const portFile = path.join(dir, "port");
    const args = ["--port", "0", "--port-file", portFile, ...(options.args || [])];
    const child = spawn(binary, args, {
      stdio: ["ignore", "ignore", options.inheritStderr ? "inherit" : "pipe"],
    });
    const tokenFlag = (options.args || []).indexOf("--control-token");
    const token = options.token ?? (tokenFlag >= 0 ? options.args[tokenFlag + 1] : undefined);
    const sim = new CsrSimulator("http://127.0.0.1:0", { token }, child);
    if (child.stderr) child.stderr.on("data", (chunk) => { sim.stderr += chunk; });
    let exited = null;
    let spawnError = null;
    child.once("exit", (code, signal) => { exited = code ?? signal; });
    child.once("error", (error) => { spawnError = error; });

    const deadline = Date.now() + timeoutMs;
    try {
      // The port file appears once the listener is bound.
      let port = 0;
      while (!port) {
        if (spawnError) throw new Error(`cannot start ${binary}: ${spawnError.message}`);
        if (exited !== null) throw new Error(`${binary} exited (${exited}) before listening: ${sim.stderr.trim()}`);
        if (Date.now() > deadline) throw new Error(`${binary} did not write its port file within ${timeoutMs} ms`);
        try {
          port = Number(fs.readFileSync(portFile, "utf8").trim()) || 0;
        } catch {
          port = 0;
        }
        if (!port) await sleep(10);
      }
      sim.baseUrl = `http://127.0.0.1:${port}`;
      sim.apiBaseUrl = `${sim.baseUrl}/api`;
      await sim.health();
      return sim;
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * A client for a simulator that is already running (a CI service, a compose container).
   * close() does not stop it.
   * @param {string} url e.g. http://csr-simulator:8080
   * @param {ConnectOptions} [options]
   * @returns {CsrSimulator}
   */
  static connect(url, options = {}) {
    return new CsrSimulator(url, options);
  }

  /** Stops the process this client started (SIGTERM, then waits for its exit; exit code 0 expected). */
  async close() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * One control API call. Resolves with the parsed JSON answer when its status is one of
   * `expected`; rejects with CsrSimulatorError otherwise.
   * @param {string} method
   * @param {string} target path and query, e.g. /_sim/orders?limit=10
   * @param {object} [body] JSON body (POST)
   * @param {number[]} [expected]
   * @returns {Promise<any>}
   */
  request(method, target, body = undefined, expected = [200]) {
    const url = new URL(target, this.baseUrl);
    const headers = {};
    let payload;
    if (method === "POST" || body !== undefined) {
      payload = JSON.stringify(body ?? {});
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = Buffer.byteLength(payload);
    }
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const transport = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const call = transport.request(url, { method, headers, agent: false }, (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => { text += chunk; });
        response.on("end", () => {
          if (!expected.includes(response.statusCode)) {
            reject(new CsrSimulatorError(`${method} ${target} answered ${response.statusCode}: ${text}`,
              response.statusCode, text));
            return;
          }
          try {
            resolve(text ? JSON.parse(text) : {});
          } catch (error) {
            reject(new CsrSimulatorError(`${method} ${target}: not JSON: ${text}`, response.statusCode, text));
          }
        });
      });
      call.on("error", reject);
      call.end(payload);
    });
  }

  /** `GET /_sim/health`. */
  health() {
    return this.request("GET", "/_sim/health");
  }

  /**
   * Moves the manual clock by `by` ("5s", "250ms", "2m"); resolves once every step due
   * by then ran and its callbacks were attempted.
   * @param {string} by
   * @param {AccountOption} [options] only this account's timeline
   */
  advance(by, options = {}) {
    return this.request("POST", "/_sim/clock/advance", options.account ? { by, account: options.account } : { by });
  }

  /** `GET /_sim/clock` (of one account with `{account}`). @param {AccountOption} [options] */
  clock(options = {}) {
    return this.request("GET", "/_sim/clock" + query({ account: options.account }));
  }

  /** Clears everything, or one account's state with `{account}`. @param {AccountOption} [options] */
  reset(options = {}) {
    return this.request("POST", "/_sim/reset" + query({ account: options.account }));
  }

  /**
   * Every order matching the filters, all pages followed.
   * @param {{account?: string, status?: string}} [filters]
   * @returns {Promise<object[]>}
   */
  async orders(filters = {}) {
    const orders = [];
    let cursor;
    do {
      const page = await this.request("GET", "/_sim/orders" + query({ ...filters, limit: 1000, cursor }));
      orders.push(...page.orders);
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
    return orders;
  }

  /** One order as the control API shows it (history, scenario, notes). @param {string} orderId */
  order(orderId) {
    return this.request("GET", `/_sim/orders/${encodeURIComponent(orderId)}`);
  }

  /**
   * Forces a status now (ends the order's scenario).
   * @param {string} orderId
   * @param {{status: string, message?: string, errors?: {code: number, description: string}[]}} transition
   */
  transition(orderId, transition) {
    return this.request("POST", `/_sim/orders/${encodeURIComponent(orderId)}/transition`, transition);
  }

  /**
   * The callback journal's entries matching the filters.
   * @param {{orderId?: string, status?: string, subscriptionId?: string, account?: string, after?: number}} [filters]
   * @returns {Promise<object[]>}
   */
  async callbacks(filters = {}) {
    return (await this.request("GET", "/_sim/callbacks" + query(filters))).entries;
  }

  /**
   * Waits (wall time, default 5 s) for a callback delivery attempt matching the filters;
   * an attempt that finished before the call counts. Rejects with status 408 on time-out.
   * @param {{orderId?: string, status?: string, subscriptionId?: string, account?: string, after?: number, timeout?: string}} filters
   */
  waitForCallback(filters = {}) {
    return this.request("GET", "/_sim/callbacks/wait" + query(filters));
  }

  /**
   * Adds a fault rule: `{target: "api", action: "status", status: 503, count: 2}` or
   * `{target: "callback", fault: "drop"}`; resolves with the rule and its id.
   * @param {object} rule
   */
  injectFault(rule) {
    return this.request("POST", "/_sim/faults", rule, [201]);
  }

  /** Removes every fault rule, or one by id. @param {string} [id] */
  clearFaults(id = undefined) {
    return this.request("DELETE", id ? `/_sim/faults/${encodeURIComponent(id)}` : "/_sim/faults");
  }

  /**
   * What your system sent: the request journal's entries matching the filters (all pages).
   * @param {{account?: string, method?: string, route?: string, status?: string|number, since?: number}} [filters]
   * @returns {Promise<object[]>}
   */
  async requests(filters = {}) {
    const requests = [];
    let since = filters.since;
    for (;;) {
      const page = await this.request("GET", "/_sim/requests" + query({ ...filters, since, limit: 10000 }));
      requests.push(...page.requests);
      if (page.next === null || page.next === undefined) return requests;
      since = page.next;
    }
  }

  /** How many journaled requests match the filters. @param {object} [filters] @returns {Promise<number>} */
  async requestCount(filters = {}) {
    return (await this.request("GET", "/_sim/requests/count" + query(filters))).count;
  }

  /**
   * Waits (wall time) until `count` requests match the filters; resolves with them.
   * Rejects with status 408 when fewer arrived in time.
   * @param {object} filters plus `count` (default 1) and `timeout` (default "5s")
   * @returns {Promise<object[]>}
   */
  async waitForRequests(filters = {}) {
    return (await this.request("GET", "/_sim/requests/wait" + query(filters))).requests;
  }
}

module.exports = { CsrSimulator, CsrSimulatorError };
