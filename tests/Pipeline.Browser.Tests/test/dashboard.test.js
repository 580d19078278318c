// The dashboard in a real browser (Debian's Chromium, headless) against the local runner's demo: every page
// loads on a rolled-up day without console errors, the tiles show what the query API answers, the
// mini-program page's distributions, referrers, retention grids, page sharers and custom events show the
// API's numbers, the date picker and the search work from the keyboard and the mouse, and a developer's key
// cannot open another developer's mini-program. Screenshots of each page at desktop and phone sizes go to
// TestResults/screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startDemo, createReadKey, api, repoRoot, DEMO_DAYS } from './demo.js';
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
}, { timeout: 360_000 });

after(async () => {
  await browser?.close();
  await demo?.stop();
});

/** A page signed in with a key, collecting console errors. */
async function open(key, route = '#/', size = 'desktop') {
  const context = await browser.newContext({ viewport: SIZES[size], locale: 'en-US', acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${demo.address}/dashboard/#key=${encodeURIComponent(key)}`);
  await page.waitForSelector('#session .who');
  if (route !== '#/') await page.evaluate((r) => { window.location.hash = r; }, route);
  return { context, page, errors };
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
  const { context, page, errors } = await open(demo.key);
  try {
    await page.waitForSelector('#freshness');
    const shift = (d, n) => { const t = new Date(d + 'T00:00:00Z'); t.setUTCDate(t.getUTCDate() + n); return t.toISOString().slice(0, 10); };
    // The old page stays until the hash change re-renders it: wait for what the new range asks and shows,
    // not for any element the old page also had.
    const metricsAsked = (check) => page.waitForRequest((r) => r.url().includes('/api/v1/metrics') && check(new URL(r.url()).searchParams));
    let asked = metricsAsked((q) => q.get('from') === shift(day, -13) && q.get('to') === day); // a 7-day range asks from a week before its first day
    await page.click('button[data-range="7"]');
    await asked;
    await page.waitForFunction((a) => document.querySelector('#range-note')?.textContent.startsWith(a), shift(day, -6));
    assert.match(await page.textContent('#range-note'), new RegExp(`^${shift(day, -6)} to ${day}`));
    assert.equal(await page.getAttribute('button[data-range="7"]', 'aria-pressed'), 'true');
    await page.waitForSelector('.north-star .chart canvas');
    await screenshot(page, 'scorecard'); // the demo replays a week: 7 days fill the charts
    const full = path.join(shots, 'dashboard-scorecard-full.png');
    await page.screenshot({ path: full, fullPage: true });
    if (process.env.DASHBOARD_SCREENSHOTS_TO_DOCS === '1') await copyFile(full, path.join(repoRoot, 'docs', 'images', path.basename(full)));

    await page.click('button[data-range="custom"]');
    await page.fill('#range-from', shift(day, -3));
    await page.fill('#range-to', shift(day, -1));
    asked = metricsAsked((q) => q.get('to') === shift(day, -1)); // the custom range is requested
    await page.click('.custom-range button[type="submit"]');
    await asked;
    await page.waitForFunction((d) => document.querySelector('#freshness')?.dataset.day === d, shift(day, -1));
    assert.equal(await page.getAttribute('#freshness', 'data-day'), shift(day, -1));

    // Keyboard only: Tab to "Last 90 days" and press Enter.
    await page.evaluate(() => document.activeElement?.blur());
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement?.dataset?.range === '90')) break;
    }
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.location.hash.includes('range=90'));
    await page.waitForFunction((a) => document.querySelector('#range-note')?.textContent.startsWith(a), shift(day, -89));
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
    // The unfiltered table stays in the page until the hash change re-renders it: wait for the filtered one,
    // which says what it matched, not for any table.
    await page.waitForFunction((q) => document.querySelector('#mp-table caption')?.textContent.includes(`matching “${q}”`), first.slice(2, 9));
    const found = await page.$$eval('#mp-table a.mp-link', (links) => links.map((a) => a.textContent));
    assert.ok(found.includes(first), `the search for ${first.slice(2, 9)} lists ${first}: ${found.join(', ')}`);
    assert.ok(found.every((id) => id.includes(first.slice(2, 9))), `every mini-program listed matches ${first.slice(2, 9)}: ${found.join(', ')}`);
    await screenshot(page, 'mini-programs');
    await page.click(`#mp-table a.mp-link:text-is("${first}")`);
    await page.waitForSelector('#mp-day');
    await page.waitForSelector('.heatmap canvas');
    const dau = await api(demo.address, demo.key, { date: day, metric: 'users.dau', miniProgram: first });
    assert.equal(Number(await page.getAttribute('.tile[data-metric="users.dau"] .tile-value', 'data-value')), dau.rows[0].value);
    assert.ok(await page.$('#pages-table'), 'the pages table is shown');
    assert.ok(await page.$('#dist-channel-table'), "the mini-program's own sessions by channel are shown");
    await page.evaluate((id) => { window.location.hash = `#/mini-program/${id}?range=7`; }, first);
    await page.waitForFunction((a) => document.querySelector('.range-note')?.textContent.startsWith(a), shiftDay(day, -6));
    await page.waitForFunction(() => { // every chart drawn, the retention grids and custom events included
      const charts = [...document.querySelectorAll('.mp-body .chart')];
      return charts.length >= 12 && charts.every((c) => c.querySelector('canvas'));
    });
    await screenshot(page, 'mini-program');
    const full = path.join(shots, 'dashboard-mini-program-full.png');
    await page.screenshot({ path: full, fullPage: true }); // every section, for review
    if (process.env.DASHBOARD_SCREENSHOTS_TO_DOCS === '1') await copyFile(full, path.join(repoRoot, 'docs', 'images', path.basename(full)));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("the mini-program page shows its own distributions, referrers, retention grids, page sharers and custom events as the API returns them", async () => {
  const list = await api(demo.address, demo.key, { date: day, metric: 'users.dau', dimension: 'miniProgram' });
  const id = list.rows.sort((a, b) => b.value - a.value)[0].dimensionValue; // the busiest: every section has data
  const from = shiftDay(day, -29); // the page's default range, 30 days: the demo's days all fall inside
  const answer = await api(demo.address, demo.key, { miniProgram: id, from, to: day });
  assert.equal(answer.continuation, null, 'one page of rows');
  const rows = answer.rows;
  const { context, page, errors } = await open(demo.key, `#/mini-program/${id}?range=30`);
  try {
    await page.waitForSelector('#retention');
    const en = { locale: 'en-US' };
    const sums = (metric, dimension) => {
      const out = new Map();
      for (const r of rows) {
        if (r.metric !== metric || r.dimension !== dimension) continue;
        const value = r.dimensionValue.slice(id.length + 1);
        out.set(value, (out.get(value) ?? 0) + r.value);
      }
      return out;
    };
    const cells = (selector) => page.$$eval(selector, (tds) => tds.map((td) => ({ ...td.dataset, text: td.textContent })));

    // Sessions by channel, access source and platform, stay time and depth: this mini-program's rows, summed over the range.
    for (const [key, metric, dimension] of [
      ['channel', 'users.sessions', 'miniProgram.channel'],
      ['source', 'users.sessions', 'miniProgram.source'],
      ['platform', 'users.sessions', 'miniProgram.platform'],
      ['duration', 'users.sessions_by_duration', 'miniProgram.durationBucket'],
      ['depth', 'users.sessions_by_depth', 'miniProgram.depthBucket'],
    ]) {
      const expected = sums(metric, dimension);
      assert.ok(expected.size > 0, `the demo has ${metric} by ${dimension} for ${id}`);
      const shown = await cells(`#dist-${key}-table td[data-key]`);
      assert.deepEqual(new Map(shown.map((c) => [c.key, Number(c.value)])), expected, `${key}: every value and its sessions`);
      for (const c of shown) assert.equal(c.text, formatValue(Number(c.value), 'sessions', en));
      await page.waitForSelector(`#dist-${key} .chart canvas`);
      assert.match(await page.getAttribute(`#dist-${key} .chart`, 'aria-label'), new RegExp(id));
    }
    assert.equal(await page.$('#no-breakdown'), null, 'no ecosystem-wide stand-in any more');
    // Hovering the largest channel's bar names it with its sessions.
    const [topChannel, topSessions] = [...sums('users.sessions', 'miniProgram.channel')].sort((a, b) => b[1] - a[1])[0];
    const channelChart = await page.$('#dist-channel .chart');
    await channelChart.scrollIntoViewIfNeeded();
    const box = await channelChart.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + 20);
    await page.waitForFunction((text) => [...document.querySelectorAll('#dist-channel .chart div')].some((d) => d.textContent.includes(text)),
      `: ${formatValue(topSessions, 'sessions', en)} sessions`, { timeout: 5000 });
    assert.ok(topChannel);

    // Referral sources: the top referrers with their sessions.
    const referred = [...sums('users.referred_sessions', 'miniProgram.referrer')].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (referred.length === 0) {
      assert.ok(await page.$('#referrers .state.empty'));
    } else {
      const shown = await cells('#referrers-table td[data-key]');
      assert.equal(shown.length, Math.min(10, referred.length));
      assert.deepEqual(shown.map((c) => [c.key, Number(c.value)]), referred.slice(0, 10));
      assert.equal(shown[0].text, formatValue(referred[0][1], 'sessions', en));
      await page.waitForSelector('#referrers .chart canvas');
    }

    // Retention: every row of the range in its cohort's cell. Daily rows sit on cohort+N; weekly ones on the
    // Sunday 7N days after the cohort week's Sunday; monthly ones on the last day of the month after the cohort's.
    const retention = rows.filter((r) => r.dimension === 'miniProgram' && /^users\.(active_)?retention_/.test(r.metric));
    const gridOf = (metric) => {
      const [, active, period] = /^users\.(active_)?retention_([dwm])\d+$/.exec(metric);
      return period === 'm' ? 'ret-monthly' : `ret-${{ d: 'daily', w: 'weekly' }[period]}-${active ? 'active' : 'new'}`;
    };
    const cohortOf = (r) => {
      const [, period, n] = /_([dwm])(\d+)$/.exec(r.metric);
      if (period === 'd') return shiftDay(r.date, -Number(n));
      if (period === 'w') return shiftDay(r.date, -7 * Number(n));
      const d = new Date(r.date.slice(0, 7) + '-01T00:00:00Z');
      d.setUTCMonth(d.getUTCMonth() - 1);
      return d.toISOString().slice(0, 7);
    };
    const checked = { d: 0, w: 0, m: 0 };
    for (const r of retention) {
      const period = /_([dwm])\d+$/.exec(r.metric)[1];
      if (period === 'd' && cohortOf(r) < from) continue; // its cohort day is before the range: not a line of the grid
      const [cell] = await cells(`#${gridOf(r.metric)}-table td[data-metric="${r.metric}"][data-date="${r.date}"]`);
      assert.ok(cell, `${r.metric} on ${r.date} has a cell`);
      assert.equal(cell.cohort, cohortOf(r), `${r.metric} on ${r.date}: its cohort`);
      assert.equal(Number(cell.value), r.value);
      assert.match(cell.text, new RegExp('^' + formatValue(r.value, 'ratio', en).replace('.', '\\.')));
      checked[period]++;
    }
    assert.ok(checked.d > 0, 'daily cells');
    assert.ok(retention.some((r) => r.metric.startsWith('users.active_retention_d')), 'active-user daily rows');
    assert.ok(checked.w > 0, `the demo's ${DEMO_DAYS} days give a Sunday with weekly rows`);
    assert.ok(retention.some((r) => r.metric.startsWith('users.active_retention_w')), 'active-user weekly rows');
    await page.waitForSelector('#ret-daily-active .chart canvas');
    await page.waitForSelector('#ret-weekly-new .chart canvas');
    await page.waitForSelector('#ret-weekly-active .chart canvas');
    if (checked.m === 0) assert.match(await page.textContent('#ret-monthly .state.empty'), /month/, 'no monthly row: the state says why');

    // The pages table's sharers on the day.
    const sharers = rows.filter((r) => r.metric === 'pages.sharers' && r.date === day);
    assert.ok(sharers.length > 0, 'the demo has page sharers on the day');
    for (const r of sharers) {
      const [cell] = await cells(`#pages-table tr[data-page="${r.dimensionValue.slice(id.length)}"] td[data-metric="pages.sharers"]`);
      assert.equal(Number(cell.value), r.value);
      assert.equal(cell.text, formatValue(r.value, 'users', en));
    }

    // Custom events: events over the range, events and users on the day, and the note on (other).
    const events = sums('custom.events', 'miniProgram.event');
    assert.ok(events.size > 0, 'the demo has custom events');
    for (const [name, total] of events) {
      const [cell] = await cells(`#custom-events-table tr[data-event="${name}"] td[data-column="total"]`);
      assert.equal(Number(cell.value), total, `${name}: events over the range`);
      assert.equal(cell.text, formatValue(total, 'events', en));
    }
    for (const r of rows.filter((x) => x.metric === 'custom.users' && x.dimension === 'miniProgram.event' && x.date === day)) {
      const [cell] = await cells(`#custom-events-table tr[data-event="${r.dimensionValue.slice(id.length + 1)}"] td[data-column="users"]`);
      assert.equal(Number(cell.value), r.value, `${r.dimensionValue}: users on the day`);
    }
    assert.match(await page.textContent('#custom-other-note'), /\(other\)/);
    await page.waitForSelector('#custom-events .chart canvas');

    // The mini-program whose names pass the day's cap (the demo floods one with 120 names a day): its (other)
    // row shows the API's numbers, over the range and on the day.
    const capped = await api(demo.address, demo.key, { from, to: day, metric: 'custom.events', dimension: 'miniProgram.event' });
    assert.equal(capped.continuation, null, 'one page of rows');
    const otherRows = capped.rows.filter((r) => r.dimensionValue.endsWith('/(other)'));
    assert.ok(otherRows.length > 0, 'the demo has a mini-program past the custom-event cap');
    const flooded = otherRows[0].dimensionValue.slice(0, -'/(other)'.length);
    const otherTotal = otherRows.filter((r) => r.dimensionValue === `${flooded}/(other)`).reduce((t, r) => t + r.value, 0);
    await page.evaluate((mp) => { window.location.hash = `#/mini-program/${mp}?range=30`; }, flooded);
    await page.waitForFunction((mp) => document.querySelector('#page-title')?.textContent.includes(mp), flooded);
    await page.waitForSelector('#custom-events-table tr[data-event="(other)"]');
    const [otherCell] = await cells('#custom-events-table tr[data-event="(other)"] td[data-column="total"]');
    assert.equal(Number(otherCell.value), otherTotal, `${flooded}/(other): events over the range`);
    assert.equal(otherCell.text, formatValue(otherTotal, 'events', en));

    // A range with no Sunday: the weekly grids say why they are empty.
    let monday = day;
    while (new Date(monday + 'T00:00:00Z').getUTCDay() !== 1 || shiftDay(monday, 5) > day) monday = shiftDay(monday, -1);
    await page.evaluate(([mp, a, b]) => { window.location.hash = `#/mini-program/${mp}?from=${a}&to=${b}`; }, [id, monday, shiftDay(monday, 5)]);
    await page.waitForFunction((a) => document.querySelector('.range-note')?.textContent.startsWith(a), monday);
    await page.waitForSelector('#ret-weekly-new .state.empty');
    assert.match(await page.textContent('#ret-weekly-new .state.empty'), /has no Sunday/);
    assert.match(await page.textContent('#ret-weekly-active .state.empty'), /has no Sunday/);
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
    // The per-mini-program dimensions are the developer's own rows: the distributions show for its key too.
    await page.waitForSelector('#dist-channel-table td[data-key]', { state: 'attached' });
    await page.waitForSelector('#retention');
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
