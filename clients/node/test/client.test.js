// The client against the real binary (CSRSIM_BINARY): start on a free port, every
// control call it wraps, connect() with a token, and close() stopping the process.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const { CsrSimulator, CsrSimulatorError } = require("..");

const AUTH = "Basic " + Buffer.from("username:password").toString("base64");

// A Bandwidth API call as the system under test would make it.
function api(sim, method, path, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(`${sim.apiBaseUrl}${path}`, {
      method, agent: false, headers: { Authorization: AUTH, "Content-Type": "application/xml" },
    }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => { text += chunk; });
      response.on("end", () => resolve({ status: response.statusCode, text, headers: response.headers }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

function orderIdOf(xml) {
  return /<OrderId>([^<]+)<\/OrderId>/.exec(xml)[1];
}

// A receiver for callbacks, answering 200.
function receiver() {
  return new Promise((resolve) => {
    const server = http.createServer((request, response) => {
      request.resume();
      request.on("end", () => response.writeHead(200).end());
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

let sim;
let callbacks;
before(async () => {
  sim = await CsrSimulator.start({ args: ["--clock", "manual", "--log-level", "off"] });
  callbacks = await receiver();
});
after(async () => {
  callbacks.closeAllConnections();
  callbacks.close();
  if (sim) await sim.close();
});

test("start() serves on a free port and health answers", async () => {
  assert.match(sim.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(sim.apiBaseUrl, `${sim.baseUrl}/api`);
  const health = await sim.health();
  assert.equal(health.status, "ok");
  assert.equal(health.clock, "manual");
});

test("advance, waitForCallback, orders, order and requests follow one order", async () => {
  await sim.reset();
  const url = `http://127.0.0.1:${callbacks.address().port}/cb`;
  const subscribed = await api(sim, "POST", "/accounts/9900000/subscriptions",
    `<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>${url}</URL></CallbackSubscription></Subscription>`);
  assert.equal(subscribed.status, 201);
  const created = await api(sim, "POST", "/accounts/9900000/csrs",
    "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber></Csr>");
  assert.equal(created.status, 200);
  const orderId = orderIdOf(created.text);

  const clock = await sim.advance("5s");
  assert.equal(clock.now, "2026-01-01T00:00:05.000Z");
  assert.equal((await sim.clock()).now, "2026-01-01T00:00:05.000Z");
  const delivery = await sim.waitForCallback({ orderId, status: "COMPLETE", timeout: "5s" });
  assert.equal(delivery.responseStatus, 200);
  assert.equal((await sim.callbacks({ orderId })).length, 1);

  const orders = await sim.orders({ account: "9900000" });
  assert.deepEqual(orders.map((order) => order.id), [orderId]);
  const order = await sim.order(orderId);
  assert.equal(order.status, "COMPLETE");
  assert.equal(order.scenario, "house-of-mouse");

  const sent = await sim.requests({ account: "9900000", route: "POST /csrs" });
  assert.equal(sent.length, 1);
  assert.equal(sent[0].status, 200);
  assert.equal(await sim.requestCount({ account: "9900000" }), 2);
  const waited = await sim.waitForRequests({ account: "9900000", method: "POST", count: 2, timeout: "1s" });
  assert.equal(waited.length, 2);
});

test("waitForCallback rejects with the 408 when nothing comes", async () => {
  await assert.rejects(sim.waitForCallback({ orderId: "no-such-order", timeout: "10ms" }),
    (error) => error instanceof CsrSimulatorError && error.status === 408);
});

test("injectFault and clearFaults shape what the API answers", async () => {
  await sim.reset();
  const rule = await sim.injectFault({ target: "api", route: "POST /csrs", action: "status", status: 503, count: 1 });
  assert.match(rule.id, /^fault-/);
  const refused = await api(sim, "POST", "/accounts/9900000/csrs",
    "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber></Csr>");
  assert.equal(refused.status, 503);
  await sim.injectFault({ target: "api", action: "status", status: 500 });
  await sim.clearFaults();
  const accepted = await api(sim, "POST", "/accounts/9900000/csrs",
    "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber></Csr>");
  assert.equal(accepted.status, 200);
});

test("transition forces a status and reset({account}) clears only that account", async () => {
  await sim.reset();
  const mine = orderIdOf((await api(sim, "POST", "/accounts/9900001/csrs",
    "<Csr><WorkingOrBillingTelephoneNumber>9195550002</WorkingOrBillingTelephoneNumber></Csr>")).text);
  const theirs = orderIdOf((await api(sim, "POST", "/accounts/9900002/csrs",
    "<Csr><WorkingOrBillingTelephoneNumber>9195550002</WorkingOrBillingTelephoneNumber></Csr>")).text);
  const forced = await sim.transition(mine, {
    status: "FAILED", errors: [{ code: 26500, description: "CSR is not available for this TN" }],
  });
  assert.equal(forced.status, "FAILED");
  await sim.reset({ account: "9900001" });
  await assert.rejects(sim.order(mine), (error) => error.status === 404);
  assert.equal((await sim.order(theirs)).status, "RECEIVED");
});

test("connect() sends the control token; close() leaves a connected simulator running", async () => {
  const guarded = await CsrSimulator.start({ args: ["--clock", "manual", "--log-level", "off", "--control-token", "s3cret"] });
  try {
    const stranger = CsrSimulator.connect(guarded.baseUrl);
    await assert.rejects(stranger.health(), (error) => error.status === 401);
    const operator = CsrSimulator.connect(guarded.baseUrl, { token: "s3cret" });
    assert.equal((await operator.health()).status, "ok");
    await operator.close();
    assert.equal((await operator.health()).status, "ok");
  } finally {
    assert.equal(await guarded.close(), 0);
  }
});

test("start() rejects with the simulator's own message when it cannot start", async () => {
  await assert.rejects(CsrSimulator.start({ args: ["--clock", "sometimes"] }),
    /exited \(2\) before listening: csr-simulator: --clock/);
});
