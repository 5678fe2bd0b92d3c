// The dashboard (/_sim/ui) in a real browser: Debian's chromium driven by
// playwright-core, against the real binary on a manual clock. Nothing sleeps:
// every step waits on a condition of the page. Also takes the README's
// screenshot: ctest writes it into the build directory; to refresh the one in
// the README run with CSRSIM_SCREENSHOT=docs/images/dashboard.png.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const BINARY = process.env.CSRSIM_BINARY;
const CHROMIUM = process.env.CSRSIM_CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.CSRSIM_SCREENSHOT ||
  path.join(__dirname, '..', '..', 'docs', 'images', 'dashboard.png');
const GUIDE_AUTH = 'Basic ' + Buffer.from('username:password').toString('base64');
const WAIT = { timeout: 10_000 };

let context;  // one browser for the file, one page per test
const simulators = [];

// Starts the binary on port 0 and reads the port from --port-file once it says
// it listens (its stdout line comes after the file is written).
async function startSimulator(extra = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csrsim-ui-'));
  const portFile = path.join(dir, 'port');
  const child = spawn(BINARY, ['--port', '0', '--port-file', portFile, '--clock', 'manual', '--seed', '7',
    '--log-level', 'off', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  simulators.push(child);
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`csr-simulator exited with ${code}`)));
  });
  const port = Number(fs.readFileSync(portFile, 'utf8').trim());
  return { port, base: `http://127.0.0.1:${port}`, child };
}

function request(base, method, urlPath, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(base + urlPath, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// A port on which nothing listens: bound, then closed.
async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function openDashboard(sim, { errors } = {}) {
  const page = await context.newPage();
  if (errors) {
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    page.on('pageerror', (error) => errors.push(String(error)));
  }
  await page.goto(sim.base + '/_sim/ui');
  return page;
}

const live = (page) => page.waitForSelector('#live[data-state="live"]', WAIT);
const detailStatus = (page, status) =>
  page.waitForSelector(`#d-status .badge[data-status="${status}"]`, WAIT);

before(async () => {
  assert.ok(BINARY, 'CSRSIM_BINARY must name the csr-simulator binary');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'csrsim-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 720 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await context?.close();
  for (const child of simulators) if (child.exitCode === null) child.kill('SIGTERM');
});

test('the page loads with no console error and names the simulator host:port', async () => {
  const sim = await startSimulator();
  const errors = [];
  const page = await openDashboard(sim, { errors });
  await live(page);
  await page.waitForSelector('#clock-now:has-text("2026-01-01 00:00:00")', WAIT);
  assert.equal(await page.title(), `CSR simulator · 127.0.0.1:${sim.port}`);
  assert.match(await page.getAttribute('link[rel="icon"]', 'href'), /^data:image\/svg\+xml,/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('an order created with plain HTTP appears within 1 s, without a reload', async () => {
  const sim = await startSimulator();
  const page = await openDashboard(sim);
  await live(page);
  const created = await request(sim.base, 'POST', '/api/accounts/9900000/csrs', {
    headers: { Authorization: GUIDE_AUTH, 'Content-Type': 'application/xml' },
    body: '<Csr><CustomerOrderId>from-curl</CustomerOrderId>' +
      '<WorkingOrBillingTelephoneNumber>9195551234</WorkingOrBillingTelephoneNumber></Csr>',
  });
  assert.equal(created.status, 200);
  const orderId = /<OrderId>([^<]+)<\/OrderId>/.exec(created.body)[1];
  const row = await page.waitForSelector(`#orders tr[data-order-id="${orderId}"]`, { timeout: 1000 });
  assert.match(await row.innerText(), /9900000\s+9195551234\s+from-curl\s+.*RECEIVED/);
  await page.close();
});

test('the 26500 demo, after "+5 s", shows FAILED and the 26500 text in the timeline', async () => {
  const sim = await startSimulator();
  const page = await openDashboard(sim);
  await live(page);
  await page.click('[data-demo="9198670000"]');
  await detailStatus(page, 'RECEIVED');
  await page.click('[data-advance="5s"]');
  await detailStatus(page, 'FAILED');
  await page.waitForSelector('#timeline li:has-text("26500 — CSR is not available for this TN")', WAIT);
  await page.waitForSelector('#orders tr[data-status="FAILED"] .badge:has-text("FAILED")', WAIT);
  await page.close();
});

test('an ACTION_REQUIRED order resumed from the PIN form reaches COMPLETE', async () => {
  const sim = await startSimulator();
  const page = await openDashboard(sim);
  await live(page);
  await page.click('[data-demo="9198670001"]');
  await detailStatus(page, 'RECEIVED');
  await page.click('[data-advance="5s"]');
  await detailStatus(page, 'ACTION_REQUIRED');
  await page.fill('#pin', '4321');
  await page.click('#pin-form button[type="submit"]');
  await detailStatus(page, 'PROCESSING');
  await page.click('[data-advance="5s"]');
  await detailStatus(page, 'COMPLETE');
  await page.waitForSelector('#d-csr pre.csr', WAIT);
  await page.close();
});

test('a callback to a stopped receiver shows its connection error', async () => {
  const sim = await startSimulator();
  const url = `http://127.0.0.1:${await closedPort()}/callbacks`;
  const page = await openDashboard(sim);
  await live(page);
  await page.fill('#sub-url', url);
  await page.click('#sub-form button[type="submit"]');
  await page.waitForSelector(`#subs li:has-text("${url}")`, WAIT);
  await page.click('[data-demo="9198675309"]');
  await detailStatus(page, 'RECEIVED');
  await page.click('[data-advance="5s"]');
  await detailStatus(page, 'COMPLETE');
  await page.waitForSelector('#timeline li[data-kind="callback"][data-ok="false"]:has-text("connection refused")', WAIT);
  await page.waitForSelector(`#journal tr:has-text("${url}"):has-text("connection refused")`, WAIT);
  await page.close();
});

test('with --control-token the page refuses actions until the token is entered', async () => {
  const sim = await startSimulator(['--control-token', 's3cret']);
  const page = await openDashboard(sim);
  await page.waitForSelector('body.locked #locked', WAIT);
  assert.equal(await page.isDisabled('[data-demo="9198675309"]'), true);
  assert.equal(await page.isDisabled('[data-advance="5s"]'), true);
  await page.waitForSelector('#token-dialog[open]', WAIT);
  await page.fill('#token-input', 's3cret');
  await page.click('#token-save');
  await live(page);
  await page.waitForSelector('body:not(.locked)', WAIT);
  assert.equal(await page.isDisabled('[data-demo="9198675309"]'), false);
  await page.click('[data-demo="9198675309"]');
  await detailStatus(page, 'RECEIVED');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('csrsim.controlToken')), 's3cret');
  await page.close();
});

test('"Run until idle" steps the clock until orders stop moving; rows are selectable from the keyboard', async () => {
  const sim = await startSimulator();
  const page = await openDashboard(sim);
  await live(page);
  await page.click('[data-demo="9198675309"]');
  await page.click('[data-demo="9198670002"]');
  await detailStatus(page, 'RECEIVED');
  await page.click('#run-idle');
  await page.waitForSelector('#toast:has-text("Idle after 1 min")', WAIT);
  await page.waitForSelector('#orders tr[data-status="COMPLETE"]', WAIT);
  await page.focus('#orders tr[data-status="COMPLETE"]');
  await page.keyboard.press('Enter');
  await detailStatus(page, 'COMPLETE');
  await page.close();
});

test('a demo session, kept as the README screenshot', async () => {
  const sim = await startSimulator();
  const page = await openDashboard(sim);
  await live(page);
  await page.click('#sub-dead');
  await page.waitForSelector('#subs li:has-text("127.0.0.1:9")', WAIT);
  for (const tn of ['9198670002', '9198675309', '9198670001', '9198670000']) {
    await page.click(`[data-demo="${tn}"]`);
    await page.waitForSelector(`#d-tn:has-text("${tn}")`, WAIT);
  }
  await page.click('[data-demo="9198670503"]');
  await page.waitForSelector('#toast.error:has-text("503")', WAIT);
  await page.click('[data-advance="5s"]');
  await detailStatus(page, 'FAILED');
  await page.waitForSelector('#journal tbody tr:nth-child(3)', WAIT);
  await page.click('#orders tr:has-text("9198675309")');
  await detailStatus(page, 'COMPLETE');
  await page.waitForSelector('#timeline li[data-kind="callback"]', WAIT);
  await page.waitForSelector('#toast:not(.show)', WAIT);
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  await page.close();
});
