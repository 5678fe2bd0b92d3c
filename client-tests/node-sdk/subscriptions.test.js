// Subscriptions through @bandwidth/numbers: Subscription.createAsync/getAsync/listAsync
// and the instance's updateAsync/deleteAsync, as a user manages CSR callbacks.
"use strict";

const assert = require("node:assert/strict");
const { after, before, beforeEach, describe, it } = require("node:test");
const { Subscription } = require("@bandwidth/numbers");
const { Simulator, UUID_PATTERN, within } = require("./simulator");

// The SDK capitalises only the first letter of each key, so `URL` is spelled as on the
// wire; in answers xml2js lower-cases the first letter: <URL> reads back as `uRL`.
function csrSubscription(url, expiry, credentials) {
  const callbackSubscription = { URL: url, expiry };
  if (credentials) callbackSubscription.callbackCredentials = { basicAuthentication: credentials };
  return { orderType: "csrs", callbackSubscription };
}

describe("subscriptions with the official Node SDK", { timeout: 60_000 }, () => {
  let sim;
  let client;
  let nextAccountId = 9900100;

  before(async () => {
    sim = await Simulator.start(["--seed", "1"]);
  });
  // Each test works in an account of its own, so one test's leftovers cannot leak.
  beforeEach(() => {
    client = sim.basicClient({ accountId: String(nextAccountId++) });
  });
  after(() => sim?.stop());

  // Subscription.list(client, callback) is the two-argument form that works: the
  // README's list(query, callback) treats the query as the client.
  const list = () => within(Subscription.listAsync(client, {}), "Subscription.listAsync");
  const get = (id) => within(Subscription.getAsync(client, id), "Subscription.getAsync");

  it("an account without subscriptions lists []", async () => {
    assert.deepEqual(await list(), []);
  });

  it("create, get, list, update and delete round-trip a csrs subscription", async () => {
    const created = await within(
      Subscription.createAsync(client, csrSubscription("http://127.0.0.1:9/first", 3600,
        { username: "receiver", password: "secret" })),
      "Subscription.createAsync");
    assert.match(created.id, UUID_PATTERN);
    assert.equal(created.subscriptionId, created.id);
    assert.equal(created.orderType, "csrs");
    assert.equal(created.callbackSubscription.uRL, "http://127.0.0.1:9/first");
    assert.equal(created.callbackSubscription.expiry, 3600);
    assert.equal(created.callbackSubscription.status, "READY");
    const echoedAuth = created.callbackSubscription.callbackCredentials.basicAuthentication;
    assert.deepEqual(echoedAuth, { username: "receiver" }, "the password is never echoed");

    const fetched = await get(created.id);
    assert.equal(fetched.id, created.id);
    assert.equal(fetched.callbackSubscription.uRL, "http://127.0.0.1:9/first");

    const listed = await list();
    assert.deepEqual(listed.map((s) => s.id), [created.id]);

    await within(fetched.updateAsync(csrSubscription("http://127.0.0.1:9/second", 7200)),
      "subscription.updateAsync");
    const updated = await get(created.id);
    assert.equal(updated.callbackSubscription.uRL, "http://127.0.0.1:9/second");
    assert.equal(updated.callbackSubscription.expiry, 7200);
    assert.equal(updated.callbackSubscription.callbackCredentials, undefined,
      "PUT is a full replace: omitted credentials are gone");

    await within(updated.deleteAsync(), "subscription.deleteAsync");
    assert.deepEqual(await list(), []);
    await assert.rejects(get(created.id), (error) => {
      assert.equal(error.status, 404);
      return true;
    });
  });

  it("a subscription's expiry counts down on the simulator clock", async () => {
    const created = await within(
      Subscription.createAsync(client, csrSubscription("http://127.0.0.1:9/expiry", 600)),
      "Subscription.createAsync");
    await sim.advance("100s");
    assert.equal((await get(created.id)).callbackSubscription.expiry, 500);
  });

  it("a list holds every subscription of the account", async () => {
    const first = await within(
      Subscription.createAsync(client, csrSubscription("http://127.0.0.1:9/a", 3600)),
      "Subscription.createAsync");
    const second = await within(
      Subscription.createAsync(client, csrSubscription("http://127.0.0.1:9/b", 3600)),
      "Subscription.createAsync");
    const ids = (await list()).map((s) => s.id).sort();
    assert.deepEqual(ids, [first.id, second.id].sort());
  });

  it("a duplicate subscription rejects with HTTP 409", async () => {
    const body = csrSubscription("http://127.0.0.1:9/dup", 3600);
    const created = await within(Subscription.createAsync(client, body), "Subscription.createAsync");
    await assert.rejects(within(Subscription.createAsync(client, body), "Subscription.createAsync"),
      (error) => {
        assert.equal(error.status, 409);
        return true;
      });
    assert.deepEqual((await list()).map((s) => s.id), [created.id]);
  });
});
