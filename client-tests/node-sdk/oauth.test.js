// OAuth2 with @bandwidth/numbers after Basic retirement (`--auth oauth`): a token from
// the simulator's /api/v1/oauth2/token, passed as the SDK's `tempAccessToken`, runs the
// core flow, while Basic credentials get 401.
"use strict";

const assert = require("node:assert/strict");
const { after, before, describe, it } = require("node:test");
const { CsrOrder, Subscription } = require("@bandwidth/numbers");
const { CallbackReceiver, Simulator, UUID_PATTERN, within, xmlText } = require("./simulator");

function assertUnauthorized(error) {
  assert.equal(error.status, 401);
  return true;
}

describe("OAuth tokens with the official Node SDK", { timeout: 60_000 }, () => {
  let sim;
  let token;
  let client;

  before(async () => {
    sim = await Simulator.start(["--seed", "1", "--auth", "oauth"]);
    token = await sim.fetchToken();
    client = sim.tokenClient(token.access_token);
  });
  after(() => sim?.stop());

  it("the token endpoint answers a Bearer token with its lifetime", () => {
    assert.equal(typeof token.access_token, "string");
    assert.ok(token.access_token.length > 0);
    assert.equal(token.token_type, "Bearer");
    assert.equal(typeof token.expires_in, "number");
    assert.ok(token.expires_in > 0);
  });

  it("with a token, the seed order completes and failures still surface as BandwidthError",
    async () => {
      const created = await within(
        CsrOrder.createAsync(client, { WorkingOrBillingTelephoneNumber: "9198675309" }),
        "CsrOrder.createAsync");
      assert.match(created.orderId, UUID_PATTERN);
      const failed = await within(
        CsrOrder.createAsync(client, { WorkingOrBillingTelephoneNumber: "9195550000" }),
        "CsrOrder.createAsync");
      await sim.advance("5s");

      const order = await within(CsrOrder.getAsync(client, created.orderId), "CsrOrder.getAsync");
      assert.equal(order.status, "COMPLETE");
      assert.equal(order.csrData.customerName, "House of Mouse");
      assert.equal(order.csrData.serviceAddress.unparsedAddress, "1234 Main ST Durham NC 27707");

      await assert.rejects(within(CsrOrder.getAsync(client, failed.orderId), "CsrOrder.getAsync"),
        (error) => {
          assert.equal(error.constructor.name, "BandwidthError");
          assert.equal(error.code, 26500);
          assert.equal(error.httpStatus, 200);
          return true;
        });
    });

  it("with a token, ACTION_REQUIRED resumes after an update and notes work", async () => {
    const created = await within(
      CsrOrder.createAsync(client, { WorkingOrBillingTelephoneNumber: "9195550001" }),
      "CsrOrder.createAsync");
    await sim.advance("5s");
    const order = await within(CsrOrder.getAsync(client, created.orderId), "CsrOrder.getAsync");
    assert.equal(order.status, "ACTION_REQUIRED");

    order.id = order.orderId;  // SDK bug workaround: update/notes use `this.id`
    await within(order.updateAsync({ endUserPIN: "1234" }), "order.updateAsync");
    const note = await within(order.addNoteAsync({ userId: "customer", description: "PIN sent" }),
      "order.addNoteAsync");
    assert.equal(note.description, "PIN sent");
    await sim.advance("5s");

    const completed = await within(CsrOrder.getAsync(client, created.orderId), "CsrOrder.getAsync");
    assert.equal(completed.status, "COMPLETE");
    const notes = await within(order.getNotesAsync(), "order.getNotesAsync");
    assert.deepEqual(notes.map((n) => n.description), ["PIN sent"]);
  });

  it("with a token, subscriptions round-trip and the callback reaches the receiver",
    async () => {
      const receiver = await CallbackReceiver.start();
      try {
        assert.deepEqual(await within(Subscription.listAsync(client, {}), "Subscription.listAsync"),
          []);
        const subscription = await within(Subscription.createAsync(client, {
          orderType: "csrs",
          callbackSubscription: {
            URL: receiver.url,
            expiry: 3600,
            callbackCredentials: { basicAuthentication: { username: "hook", password: "pw" } },
          },
        }), "Subscription.createAsync");
        const { orderId } = await within(
          CsrOrder.createAsync(client, { WorkingOrBillingTelephoneNumber: "9198675309" }),
          "CsrOrder.createAsync");
        await sim.advance("5s");

        const complete = receiver.requests.find((request) =>
          xmlText(request.body, "OrderId") === orderId &&
          xmlText(request.body, "Status") === "COMPLETE");
        assert.ok(complete, "the receiver got the COMPLETE notification");
        assert.equal(complete.headers.authorization,
          `Basic ${Buffer.from("hook:pw").toString("base64")}`);

        await within(subscription.updateAsync({
          orderType: "csrs", callbackSubscription: { URL: receiver.url, expiry: 60 },
        }), "subscription.updateAsync");
        await within(subscription.deleteAsync(), "subscription.deleteAsync");
        assert.deepEqual(await within(Subscription.listAsync(client, {}), "Subscription.listAsync"),
          []);
      } finally {
        await receiver.stop();
      }
    });

  it("Basic credentials are refused with 401 when only OAuth is accepted", async () => {
    const basic = sim.basicClient();
    await assert.rejects(
      within(CsrOrder.createAsync(basic, { WorkingOrBillingTelephoneNumber: "9198675309" }),
        "CsrOrder.createAsync"),
      assertUnauthorized);
    await assert.rejects(within(Subscription.listAsync(basic, {}), "Subscription.listAsync"),
      assertUnauthorized);
  });

  it("an unknown token is refused with 401", async () => {
    const forged = sim.tokenClient("not-a-token-the-simulator-issued");
    await assert.rejects(
      within(CsrOrder.getAsync(forged, "00000000-0000-4000-8000-000000000000"),
        "CsrOrder.getAsync"),
      assertUnauthorized);
  });

  // Last on purpose: moving the clock past the lifetime also expires `token`.
  it("a token expires on the simulator clock", async () => {
    const shortLived = await sim.fetchToken();
    const expiring = sim.tokenClient(shortLived.access_token);
    await within(Subscription.listAsync(expiring, {}), "Subscription.listAsync");

    await sim.advance(`${shortLived.expires_in + 1}s`);
    await assert.rejects(within(Subscription.listAsync(expiring, {}), "Subscription.listAsync"),
      assertUnauthorized);
  });
});
