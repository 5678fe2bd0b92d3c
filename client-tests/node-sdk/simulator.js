// Test support for the Node SDK suite: starts the real csr-simulator binary on a free
// port and drives its /_sim control API with the project's Node client (clients/node),
// builds SDK clients pointed at it, and runs a callback receiver written with Node's
// `http` module. Only the test files use it.
"use strict";

const http = require("node:http");
const path = require("node:path");
const numbers = require("@bandwidth/numbers");
const { CsrSimulator } = require("csr-simulator-client");

const ACCOUNT_ID = "9900000";
const API_USER = "username";
const API_PASSWORD = "password";
// OAuth client credentials accepted when the simulator runs without --config.
const OAUTH_CLIENT_ID = "clientId";
const OAUTH_CLIENT_SECRET = "clientSecret";

const CALL_TIMEOUT_MS = 10_000;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const BINARY =
  process.env.CSRSIM_BINARY || path.resolve(__dirname, "../../build/csr-simulator");

// Rejects when `promise` has not settled within `ms`, naming the call, so that a
// hanging SDK call fails its test instead of stalling the run.
function within(promise, label, ms = CALL_TIMEOUT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// One HTTP request on its own connection (no keep-alive pool), resolving
// {status, text}. Idle pooled connections would delay the simulator's shutdown.
function send(method, url, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent: false }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => { text += chunk; });
      response.on("end", () => resolve({ status: response.statusCode, text }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

// A running simulator process, started and driven through the project's own Node
// control client (clients/node). Use start(); always stop() it (after() hook).
class Simulator {
  constructor(control) {
    this.control = control;
    this.baseUrl = control.baseUrl;
    // What a user sets as the SDK's apiEndPoint: the SDK appends /accounts/{id}/...
    this.apiEndPoint = control.apiBaseUrl;
  }

  // Starts the binary with `--clock manual --log-level off` plus `extraArgs` on a
  // free port and resolves once it answers its health check.
  static async start(extraArgs = []) {
    const control = await within(
      CsrSimulator.start({ binary: BINARY, args: ["--clock", "manual", "--log-level", "off", ...extraArgs] }),
      `starting ${BINARY}`);
    return new Simulator(control);
  }

  // Sends SIGTERM and waits for the process to exit.
  stop() {
    return within(this.control.close(), "simulator shutdown");
  }

  // Moves the manual clock; resolves after due order steps ran and their callbacks
  // were attempted (control API contract).
  advance(by) {
    return within(this.control.advance(by), `advancing the clock by ${by}`);
  }

  // Delivery attempts the simulator journaled for one order.
  callbackAttempts(orderId) {
    return within(this.control.callbacks({ orderId }), "GET /_sim/callbacks");
  }

  // Fetches an OAuth2 access token the way Bandwidth's token endpoint is called.
  async fetchToken(clientId = OAUTH_CLIENT_ID, clientSecret = OAUTH_CLIENT_SECRET) {
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString("base64");
    const response = await within(
      send("POST", `${this.baseUrl}/api/v1/oauth2/token`, {
        Authorization: `Basic ${basic}`,
        "Content-Type": "application/x-www-form-urlencoded",
      }, "grant_type=client_credentials"),
      "POST /api/v1/oauth2/token");
    if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}`);
    return JSON.parse(response.text);
  }

  // An SDK client using HTTP Basic, as the SDK README's `new numbers.Client(...)`.
  // In open mode every account id is accepted and starts empty, which gives a test
  // its own account.
  basicClient({ accountId = ACCOUNT_ID, userName = API_USER, password = API_PASSWORD } = {}) {
    return new numbers.Client(accountId, userName, password, undefined, undefined,
      { apiEndPoint: this.apiEndPoint });
  }

  // An SDK client carrying a ready OAuth token. The SDK's own clientId/clientSecret
  // flow always posts to https://api.bandwidth.com, so a user of a local endpoint
  // fetches the token and passes it as `tempAccessToken`.
  tokenClient(accessToken, accountId = ACCOUNT_ID) {
    return new numbers.Client(accountId, undefined, undefined, undefined, undefined,
      { apiEndPoint: this.apiEndPoint, tempAccessToken: accessToken });
  }
}

// An HTTP server on 127.0.0.1, a free port, recording every request it gets and
// answering 200. `requests` holds {method, url, headers, body}.
class CallbackReceiver {
  static async start() {
    const receiver = new CallbackReceiver();
    await within(new Promise((resolve) => receiver.server.listen(0, "127.0.0.1", resolve)),
      "starting the callback receiver");
    receiver.url = `http://127.0.0.1:${receiver.server.address().port}/csr-events`;
    return receiver;
  }

  constructor() {
    this.requests = [];
    this.server = http.createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8");
      request.on("data", (chunk) => { body += chunk; });
      request.on("end", () => {
        this.requests.push({
          method: request.method, url: request.url, headers: request.headers, body,
        });
        response.writeHead(200).end();
      });
    });
  }

  stop() {
    this.server.closeAllConnections();
    return within(new Promise((resolve) => this.server.close(resolve)), "stopping the receiver");
  }
}

// Text of the first <name> element of a flat XML document such as <Notification>.
function xmlText(xml, name) {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match ? match[1] : undefined;
}

module.exports = {
  ACCOUNT_ID,
  CallbackReceiver,
  Simulator,
  UUID_PATTERN,
  within,
  xmlText,
};
