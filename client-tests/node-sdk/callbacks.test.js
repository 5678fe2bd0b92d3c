// Callbacks: a subscription made with @bandwidth/numbers delivers <Notification>s to a
// receiver written with Node's `http` module, with the subscription's Basic credentials.
"use strict";

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const { CsrOrder, Subscription } = require("@bandwidth/numbers");
const { CallbackReceiver, Simulator, within, xmlText } = require("./simulator");

describe("callbacks to a Node http receiver", { timeout: 60_000 }, () => {
  let sim;
  let client;
  let receiver;
  let subscription;

  before(async () => {
    sim = await Simulator.start(["--seed", "1"]);
    client = sim.basicClient();
    receiver = await CallbackReceiver.start();
    subscription = await within(Subscription.createAsync(client, {
      orderType: "csrs",
      callbackSubscription: {
        URL: receiver.url,
        expiry: 3600,
        callbackCredentials: { basicAuthentication: { username: "hook", password: "s3cret" } },
      },
    }), "Subscription.createAsync");
  });
  after(async () => {
    await receiver?.stop();
    await sim?.stop();
  });

  const notificationsFor = (orderId) => receiver.requests.filter(
    (request) => xmlText(request.body, "OrderId") === orderId);

  it("a completed order posts a COMPLETE notification with the subscription's credentials",
    async () => {
      const { orderId } = await within(CsrOrder.createAsync(client, {
        customerOrderId: "MyId5", WorkingOrBillingTelephoneNumber: "9198675309",
      }), "CsrOrder.createAsync");
      await sim.advance("5s");

      const complete = notificationsFor(orderId)
        .find((request) => xmlText(request.body, "Status") === "COMPLETE");
      assert.ok(complete, `no COMPLETE notification among ${receiver.requests.length} requests`);
      assert.equal(complete.method, "POST");
      assert.equal(complete.url, "/csr-events");
      assert.equal(complete.headers.authorization,
        `Basic ${Buffer.from("hook:s3cret").toString("base64")}`);
      assert.match(complete.headers["content-type"], /^application\/xml/);
      assert.match(complete.body, /^<\?xml[^>]*\?>\s*<Notification>/);
      assert.equal(xmlText(complete.body, "SubscriptionId"), subscription.id);
      assert.equal(xmlText(complete.body, "OrderType"), "csrs");
      assert.equal(xmlText(complete.body, "CustomerOrderId"), "MyId5");
      assert.equal(xmlText(complete.body, "Message"), "The CSR request is complete.");
    });

  it("a FAILED order posts a FAILED notification", async () => {
    const { orderId } = await within(
      CsrOrder.createAsync(client, { WorkingOrBillingTelephoneNumber: "9195550000" }),
      "CsrOrder.createAsync");
    await sim.advance("5s");

    const statuses = notificationsFor(orderId).map((request) => xmlText(request.body, "Status"));
    assert.ok(statuses.includes("FAILED"), `statuses received: ${statuses}`);
  });

  it("the simulator journals the delivery and the subscription reports its outcome",
    async () => {
      const { orderId } = await within(
        CsrOrder.createAsync(client, { WorkingOrBillingTelephoneNumber: "9198675309" }),
        "CsrOrder.createAsync");
      await sim.advance("5s");

      const attempts = await sim.callbackAttempts(orderId);
      const complete = attempts.find((attempt) => attempt.status === "COMPLETE");
      assert.ok(complete, `journal holds ${JSON.stringify(attempts)}`);
      assert.equal(complete.url, receiver.url);
      assert.equal(complete.responseStatus, 200);
      assert.equal(complete.succeeded, true);

      const current = await within(Subscription.getAsync(client, subscription.id),
        "Subscription.getAsync");
      assert.match(String(current.callbackSubscription.status), /^200\b/);
    });
});
