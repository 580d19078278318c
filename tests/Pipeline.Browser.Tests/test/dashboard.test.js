// The dashboard in a real browser (Debian's Chromium, headless) against the local runner's demo: every page
// loads on a rolled-up day without console errors, the tiles show what the query API answers, the date
// picker and the search work from the keyboard and the mouse, and a developer's key cannot open another
// developer's mini-program. Screenshots of each page at desktop and phone sizes go to TestResults/screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startDemo, createReadKey, api, repoRoot } from './demo.js';
import { formatValue } from '../../../web/dashboard/src/format.js';

const shots = path.join(repoRoot, 'TestResults', 'screenshots');
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
let demo, browser, day;

before(async () => {
  demo = await startDemo();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await mkdir(shots, { recursive: true });
  // The day the pages show: the latest rolled-up day before today (today is rolled up too, but not over).
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  const answer = await api(demo.address, demo.key, { from: shiftDay(today, -10), to: today, metric: 'northstar.engaged_users', dimension: 'total' });
  day = answer.rows.map((r) => r.date).filter((d) => d < today).sort().at(-1);
}, { timeout: 300_000 });

after(async () => {
  await browser?.close();
  await demo?.stop();
});

/** A page signed in with a key, collecting console errors and the metrics queries it sends. */
async function open(key, route = '#/', size = 'desktop') {
  const context = await browser.newContext({ viewport: SIZES[size], locale: 'en-US', acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  const queries = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (r.url().includes('/api/v1/metrics')) queries.push(new URL(r.url()).searchParams); });
  await page.goto(`${demo.address}/dashboard/#key=${encodeURIComponent(key)}`);
  await page.waitForSelector('#session .who');
  if (route !== '#/') await page.evaluate((r) => { window.location.hash = r; }, route);
  return { context, page, errors, queries };
}

async function screenshot(page, name) {
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(300); // charts resize on the next frame
    const file = path.join(shots, `dashboard-${name}-${size}.png`);
    await page.screenshot({ path: file });
    if (process.env.DASHBOARD_SCREENSHOTS_TO_DOCS === '1') await copyFile(file, path.join(repoRoot, 'docs', 'images', path.basename(file)));
  }
  await page.setViewportSize(SIZES.desktop);
}

test('the scorecard shows a rolled-up day whose tiles equal the query API', async () => {
  const { context, page, errors } = await open(demo.key);
  try {
    await page.waitForSelector('#freshness');
    assert.equal(await page.getAttribute('#freshness', 'data-day'), day);
    assert.ok(await page.getAttribute('#freshness', 'data-computed-at'), 'the day says when it was rolled up');
    assert.equal(await page.textContent('#time-zone'), 'Asia/Shanghai');

    const answer = await api(demo.address, demo.key, { date: day, dimension: 'total' });
    const byMetric = new Map(answer.rows.map((r) => [r.metric, r]));
    const tiles = await page.$$eval('.tile[data-dimension-value=""] .tile-value', (els) => els.map((e) => ({
      metric: e.closest('.tile').dataset.metric, value: e.dataset.value, unit: e.dataset.unit, text: e.textContent,
    })));
    assert.ok(tiles.length >= 15, `expected the core and guardrail tiles, found ${tiles.length}`);
    for (const tile of tiles) {
      const row = byMetric.get(tile.metric);
      assert.ok(row, `${tile.metric} has a tile but no row on ${day}`);
      assert.equal(Number(tile.value), row.value, `${tile.metric}: tile value`);
      assert.equal(tile.text, formatValue(row.value, row.unit, { locale: 'en-US' }), `${tile.metric}: tile text`);
    }
    const ns = byMetric.get('northstar.engaged_users');
    assert.equal(await page.textContent('.ns-value'), formatValue(ns.value, 'users', { locale: 'en-US' }));

    const money = await api(demo.address, demo.key, { date: day, metric: 'businesses.gmv', dimension: 'currency' });
    for (const row of money.rows) {
      const text = await page.textContent(`.tile[data-metric="businesses.gmv"][data-dimension-value="${row.dimensionValue}"] .tile-value`);
      assert.equal(text, formatValue(row.value, 'minor_units', { currency: row.dimensionValue, locale: 'en-US' }));
    }
    assert.ok(await page.$$eval('.guardrails .tile', (els) => els.length) >= 6, 'every guardrail has a tile');
    assert.ok(await page.$('.north-star .chart canvas'), 'the North Star trend is drawn');
    assert.ok(await page.getAttribute('.north-star .chart', 'aria-label'));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the date picker changes the range and the data requested, also from the keyboard', async () => {
  const { context, page, errors, queries } = await open(demo.key);
  try {
    await page.waitForSelector('#freshness');
    const shift = (d, n) => { const t = new Date(d + 'T00:00:00Z'); t.setUTCDate(t.getUTCDate() + n); return t.toISOString().slice(0, 10); };
    queries.length = 0;
    await page.click('button[data-range="7"]');
    await page.waitForFunction(() => window.location.hash.includes('range=7'));
    await page.waitForSelector('#freshness');
    assert.ok(queries.some((q) => q.get('from') === shift(day, -13) && q.get('to') === day), 'a 7-day range asks from a week before its first day');
    assert.match(await page.textContent('#range-note'), new RegExp(`^${shift(day, -6)} to ${day}`));
    assert.equal(await page.getAttribute('button[data-range="7"]', 'aria-pressed'), 'true');
    await page.waitForSelector('.north-star .chart canvas');
    await screenshot(page, 'scorecard'); // the demo replays a week: 7 days fill the charts
    const full = path.join(shots, 'dashboard-scorecard-full.png');
    await page.screenshot({ path: full, fullPage: true });
    if (process.env.DASHBOARD_SCREENSHOTS_TO_DOCS === '1') await copyFile(full, path.join(repoRoot, 'docs', 'images', path.basename(full)));

    queries.length = 0;
    await page.click('button[data-range="custom"]');
    await page.fill('#range-from', shift(day, -3));
    await page.fill('#range-to', shift(day, -1));
    await page.click('.custom-range button[type="submit"]');
    await page.waitForFunction(() => window.location.hash.includes('from='));
    await page.waitForSelector('#freshness');
    assert.ok(queries.some((q) => q.get('to') === shift(day, -1)), 'the custom range is requested');
    assert.equal(await page.getAttribute('#freshness', 'data-day'), shift(day, -1));

    // Keyboard only: Tab to "Last 90 days" and press Enter.
    await page.evaluate(() => document.activeElement?.blur());
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement?.dataset?.range === '90')) break;
    }
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.location.hash.includes('range=90'));
    await page.waitForSelector('#freshness');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the metric page draws a metric by a dimension, lists its rows and downloads them as CSV', async () => {
  const { context, page, errors } = await open(demo.key, '#/metric/users.sessions?dimension=channel&mode=stacked&range=7');
  try {
    await page.waitForSelector('#metric-table');
    await page.waitForSelector('.chart canvas');
    const answer = await api(demo.address, demo.key, { from: shiftDay(day, -6), to: day, metric: 'users.sessions', dimension: 'channel' });
    assert.equal(await page.$$eval('#metric-table tbody tr', (rows) => rows.length), answer.rows.length);
    assert.match(await page.getAttribute('.chart', 'aria-label'), /users\.sessions by channel, stacked/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.download')]);
    const csv = await readFile(await download.path(), 'utf8');
    assert.equal(csv.split('\r\n')[0], 'date,metric,dimension,dimension_value,value,numerator,denominator,unit,computed_at,restated');
    assert.equal(csv.trim().split('\r\n').length, answer.rows.length + 1);
    await screenshot(page, 'metric');

    // A ratio: lines only, and its numerator and denominator in the tooltip.
    await page.evaluate(() => { window.location.hash = '#/metric/users.retention_d1?range=7'; });
    await page.waitForFunction(() => document.querySelector('#page-title')?.textContent === 'users.retention_d1');
    await page.waitForSelector('#metric-table');
    assert.equal(await page.isDisabled('.segmented button:nth-child(2)'), true, 'ratios cannot be stacked');
    const box = await (await page.$('.chart')).boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => [...document.querySelectorAll('.chart div')].some((d) => / \/ /.test(d.textContent)), null, { timeout: 5000 });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the search finds a mini-program and opens its analysis page', async () => {
  const { context, page, errors } = await open(demo.key, '#/mini-programs');
  try {
    await page.waitForSelector('#mp-table');
    const first = await page.textContent('#mp-table a.mp-link');
    await page.fill('#mp-search', first.slice(2, 9));
    await page.press('#mp-search', 'Enter');
    await page.waitForFunction((q) => window.location.hash.includes('q=' + q), first.slice(2, 9));
    await page.waitForSelector('#mp-table');
    const found = await page.$$eval('#mp-table a.mp-link', (links) => links.map((a) => a.textContent));
    assert.ok(found.includes(first) && found.every((id) => id.includes(first.slice(2, 9))));
    await screenshot(page, 'mini-programs');
    await page.click(`#mp-table a.mp-link:text-is("${first}")`);
    await page.waitForSelector('#mp-day');
    await page.waitForSelector('.heatmap canvas');
    const dau = await api(demo.address, demo.key, { date: day, metric: 'users.dau', miniProgram: first });
    assert.equal(Number(await page.getAttribute('.tile[data-metric="users.dau"] .tile-value', 'data-value')), dau.rows[0].value);
    assert.ok(await page.$('#pages-table'), 'the pages table is shown');
    assert.ok(await page.$('#no-breakdown'), 'the page says which breakdowns exist only for the whole ecosystem');
    await page.evaluate((id) => { window.location.hash = `#/mini-program/${id}?range=7`; }, first);
    await page.waitForFunction(() => document.querySelectorAll('.mp-body canvas').length >= 8);
    await screenshot(page, 'mini-program');
    const full = path.join(shots, 'dashboard-mini-program-full.png');
    await page.screenshot({ path: full, fullPage: true }); // every section, for review
    if (process.env.DASHBOARD_SCREENSHOTS_TO_DOCS === '1') await copyFile(full, path.join(repoRoot, 'docs', 'images', path.basename(full)));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("a developer's key opens its own mini-program and gets the 403 state for another's", async () => {
  const list = await api(demo.address, demo.key, { date: day, metric: 'users.dau', dimension: 'miniProgram' });
  const [mine, theirs] = list.rows.map((r) => r.dimensionValue);
  const devKey = await createReadKey(demo.storage, 'dev-browser', mine);
  const { context, page } = await open(devKey, `#/mini-program/${theirs}`);
  try {
    await page.waitForSelector('.state.forbidden');
    assert.equal(await page.getAttribute('.state.forbidden', 'data-code'), 'forbidden_mini_program');
    assert.equal(await page.$('.tile'), null, 'no number of the other mini-program is shown');
    assert.match(await page.textContent('#session .who'), /Developer/);
    await screenshot(page, 'forbidden');

    await page.evaluate((id) => { window.location.hash = `#/mini-program/${id}`; }, mine);
    await page.waitForSelector('.tile[data-metric="users.dau"]');
    await page.evaluate(() => { window.location.hash = '#/'; });
    await page.waitForSelector('#mp-table');
    assert.deepEqual(await page.$$eval('#mp-table a.mp-link', (links) => links.map((a) => a.textContent)), [mine]);
  } finally {
    await context.close();
  }
});

function shiftDay(d, n) {
  const t = new Date(d + 'T00:00:00Z');
  t.setUTCDate(t.getUTCDate() + n);
  return t.toISOString().slice(0, 10);
}
