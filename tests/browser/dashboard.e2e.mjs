// The dashboard in headless Chromium (Debian's chromium, driven by playwright-core): log in with
// a token, watch a running campaign's progress bar move, open the inbox, and save screenshots.
//
//   LOA_URL=http://127.0.0.1:PORT/ LOA_TOKEN=... LOA_ARTIFACTS=DIR node dashboard.e2e.mjs
// Exits 0 when every step passed; prints the step that failed otherwise.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const url = process.env.LOA_URL;
const token = process.env.LOA_TOKEN;
const artifacts = process.env.LOA_ARTIFACTS || '.';
const executablePath = process.env.LOA_CHROMIUM || '/usr/bin/chromium';
if (!url || !token) {
  console.error('dashboard.e2e: set LOA_URL and LOA_TOKEN');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });

function step(name) { console.log(`dashboard.e2e: ${name}`); }

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let failed = false;
const page = await browser.newPage({ viewport: { width: 1280, height: 1100 }, locale: 'vi-VN' });
const external = [];
page.on('request', (r) => { if (!r.url().startsWith(new URL(url).origin)) external.push(r.url()); });
page.on('pageerror', (e) => { console.error('dashboard.e2e: page error: ' + e.message); failed = true; });
try {
  step('open ' + url);
  await page.goto(url);
  await page.waitForSelector('#login-form', { state: 'visible', timeout: 10000 });

  step('a wrong token is refused');
  await page.fill('#token', 'not-a-token');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0,
    null, { timeout: 10000 });

  step('log in');
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#app', { state: 'visible', timeout: 10000 });
  await page.waitForSelector('#login', { state: 'hidden', timeout: 5000 });
  if ((await page.evaluate(() => sessionStorage.getItem('loa.token'))) !== token)
    throw new Error('the token is not in sessionStorage');

  step('the running campaign has a progress bar');
  const bar = page.locator('#campaigns .bar[role=progressbar]').first();
  await bar.waitFor({ timeout: 20000 });
  const first = Number(await bar.getAttribute('aria-valuenow'));
  const planned = Number(await bar.getAttribute('aria-valuemax'));
  step(`progress ${first} of ${planned}; waiting for it to move`);
  await page.waitForFunction((before) => {
    const b = document.querySelector('#campaigns .bar[role=progressbar]');
    return b && Number(b.getAttribute('aria-valuenow')) > before;
  }, first, { timeout: 30000, polling: 250 });
  const later = Number(await bar.getAttribute('aria-valuenow'));
  step(`progress moved to ${later} of ${planned}`);

  step('the funnel and the per-area table are drawn');
  await page.waitForSelector('#funnel svg rect', { timeout: 10000 });
  const areas = await page.locator('#areas tbody tr').count();
  if (areas < 1) throw new Error('the per-area table is empty');
  await page.waitForSelector('#daily svg', { timeout: 10000 });
  await page.screenshot({ path: `${artifacts}/dashboard-overview.png`, fullPage: true });

  step('open the inbox');
  await page.click('#open-inbox');
  await page.waitForSelector('#panel-inbox', { state: 'visible', timeout: 5000 });
  await page.waitForFunction(() => !document.getElementById('inbox').textContent.includes('Đang tải'),
    null, { timeout: 10000 });
  if (await page.locator('#inbox-missing').count()) throw new Error('the inbox endpoint is missing');
  // The simulator's households reply (reply_rate): their replies reach the inbox table.
  await page.waitForSelector('#inbox table tbody tr', { timeout: 20000 }).catch(async () => {
    await page.click('#open-inbox');  // the panel refreshes when opened again
    await page.waitForSelector('#inbox table tbody tr', { timeout: 10000 });
  });
  step('inbox: ' + (await page.locator('#inbox tbody tr').count()) + ' replies shown');
  await page.screenshot({ path: `${artifacts}/dashboard-inbox.png`, fullPage: true });

  if (external.length) throw new Error('requests left loa: ' + external.join(', '));
  step(`screenshots in ${artifacts}`);
} catch (e) {
  failed = true;
  console.error('dashboard.e2e: FAILED: ' + e.message);
  await page.screenshot({ path: `${artifacts}/dashboard-failure.png`, fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
