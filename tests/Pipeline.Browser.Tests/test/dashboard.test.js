// The dashboard in a real browser (Debian's Chromium, headless) against the local runner's demo: every page
// loads on a rolled-up day without console errors; the numbers on the tiles (value, changes, sparkline, level),
// the freshness line, the metric table and its CSV, the ratio tooltip and the mini-program page's tiles, pages
// table, distributions, referrers, retention grids and custom events equal what the query API returns; money
// in different currencies is never stacked; the loading and error states show; no page overflows a phone's
// width; the date picker, the dropdowns and the search work from the keyboard and the mouse; and a developer's
// key cannot open another developer's mini-program. Screenshots of each page at desktop and phone sizes go to
// TestResults/screenshots (and to docs/images with DASHBOARD_SCREENSHOTS_TO_DOCS=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startDemo, createReadKey, api, repoRoot, DEMO_DAYS } from './demo.js';
import { formatValue, formatChange, formatTimestamp } from '../../../web/dashboard/src/format.js';
import { level } from '../../../web/dashboard/src/thresholds.js';

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

/** Waits until every chart has been drawn at its container's new width (ECharts resizes on the next frame). */
async function chartsFit(page) {
  await page.waitForFunction(() => [...document.querySelectorAll('.chart')].every((c) => {
    const canvas = c.querySelector('canvas');
    if (!canvas) return !c.isConnected || getComputedStyle(c).display === 'none' || c.closest('[hidden]') !== null || c.offsetWidth === 0;
    return Math.abs(canvas.getBoundingClientRect().width - c.clientWidth) <= 1;
  }));
}

/** At a phone's width, nothing is wider than the page: the document does not scroll sideways. */
async function assertNoHorizontalOverflow(page, name) {
  const fits = () => document.documentElement.scrollWidth <= document.documentElement.clientWidth;
  try {
    await page.waitForFunction(fits, null, { timeout: 5000 });
  } catch {
    const report = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > width + 0.5)
        .slice(0, 8).map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className?.baseVal ?? e.className} right=${Math.round(e.getBoundingClientRect().right)}`);
      return `scrollWidth ${document.documentElement.scrollWidth} > clientWidth ${width}: ${wide.join('; ')}`;
    });
    assert.fail(`${name} overflows a ${SIZES.phone.width} px screen sideways: ${report}`);
  }
}

async function screenshot(page, name) {
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    await chartsFit(page);
    if (size === 'phone') await assertNoHorizontalOverflow(page, name);
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
    assert.equal(await page.textContent('#time-zone'), 'Asia/Shanghai');

    // What the page reads: the default range (30 days) and the week before it, totals and core money by currency.
    const from = shiftDay(day, -29);
    const totals = await api(demo.address, demo.key, { from: shiftDay(from, -7), to: day, dimension: 'total' });
    const money = await api(demo.address, demo.key, { from: shiftDay(from, -7), to: day, dimension: 'currency', tier: 'core' });
    assert.equal(totals.continuation, null, 'one page of total rows');
    assert.equal(money.continuation, null, 'one page of money rows');
    const all = [...totals.rows, ...money.rows];
    const rowOf = new Map(all.map((r) => [`${r.metric}|${r.dimensionValue}|${r.date}`, r]));
    const row = (metric, value, date) => rowOf.get(`${metric}|${value}|${date}`);
    const dayRows = all.filter((r) => r.date === day);

    // Freshness: the latest computedAt of the day's rows, and how many of them are restated.
    assert.equal(await page.getAttribute('#freshness', 'data-computed-at'), dayRows.map((r) => r.computedAt).sort().at(-1));
    assert.equal(Number(await page.getAttribute('#freshness', 'data-restated')), dayRows.filter((r) => r.restated).length);

    const tiles = await page.$$eval('.scorecard .tile', (els) => els.map((e) => ({
      metric: e.dataset.metric, value: e.dataset.dimensionValue, level: e.dataset.level ?? null, guardrail: !!e.closest('.guardrails'),
      data: e.querySelector('.tile-value').dataset.value, text: e.querySelector('.tile-value').textContent,
      currency: e.querySelector('.tile-value').dataset.currency ?? null,
      day: e.querySelector('[data-change=day]').textContent, week: e.querySelector('[data-change=week]').textContent,
      parts: e.querySelector('.parts')?.textContent ?? null,
      points: e.querySelector('svg.spark polyline')?.getAttribute('points').trim().split(/\s+/).length ?? 0,
    })));
    // Every core metric of the four stakeholders and every guardrail with a row in what the page read has its tile, one per
    // currency for money: a currency with sales earlier in the range but none on the day keeps its tile (its trend), valued '–'.
    const isTile = (r) => (r.tier === 'core' && ['users', 'developers', 'businesses', 'platform'].includes(r.stakeholder)) || r.tier === 'guardrail';
    const expected = [...new Set(all.filter(isTile).map((r) => `${r.metric}|${r.dimensionValue}`))].sort();
    assert.deepEqual(tiles.map((t) => `${t.metric}|${t.value}`).sort(), expected, 'a tile for every core and guardrail metric (and currency) with rows');
    assert.ok(dayRows.filter(isTile).every((r) => tiles.some((t) => t.metric === r.metric && t.value === r.dimensionValue)), 'every row of the day has its tile');
    for (const m of ['platform.revenue', 'platform.arpu', 'businesses.gmv']) {
      const currencies = dayRows.filter((r) => r.metric === m).map((r) => r.dimensionValue);
      assert.ok(currencies.length >= 2, `the demo has ${m} in several currencies on ${day}`);
    }

    const en = { locale: 'en-US' };
    const change = (now, before, label, none) => { const c = formatChange(now, before, 'en-US'); return c ? `${c} vs ${label}` : none; };
    const inRange = (metric, value) => [...Array(30).keys()].filter((i) => row(metric, value, shiftDay(from, i))).length;
    for (const t of tiles) {
      const what = `${t.metric}${t.value ? ` (${t.value})` : ''}`;
      const r = row(t.metric, t.value, day);
      if (!r) {
        // No row on the day (a currency without sales that day): no value and no change, only the range's trend.
        assert.equal(t.text, '–', `${what}: no value on ${day}`);
        assert.equal(t.data ?? null, null, `${what}: no data-value`);
        assert.equal(t.day, 'no day before', `${what}: no change vs the day before`);
        assert.equal(t.week, 'no week before', `${what}: no change vs last week`);
        const withRows = inRange(t.metric, t.value);
        assert.equal(t.points, withRows >= 2 ? withRows : 0, `${what}: a sparkline point for each of the ${withRows} days with a row`);
        continue;
      }
      const currency = r.unit === 'minor_units' ? r.dimensionValue : undefined;
      assert.equal(Number(t.data), r.value, `${what}: value`);
      assert.equal(t.currency, currency ?? null, `${what}: currency`);
      assert.equal(t.text, formatValue(r.value, r.unit, { ...en, currency }), `${what}: text`);
      assert.equal(t.day, change(r.value, row(t.metric, t.value, shiftDay(day, -1))?.value, 'day before', 'no day before'), `${what}: change vs the day before`);
      assert.equal(t.week, change(r.value, row(t.metric, t.value, shiftDay(day, -7))?.value, 'last week', 'no week before'), `${what}: change vs last week`);
      assert.equal(t.parts, r.numerator === undefined ? null : `${num(r.numerator)} / ${num(r.denominator)}`, `${what}: numerator / denominator`);
      const withRows = inRange(t.metric, t.value);
      assert.equal(t.points, withRows >= 2 ? withRows : 0, `${what}: a sparkline point for each of the ${withRows} days with a row`);
      assert.equal(t.level, t.guardrail ? level(t.metric, r.value) : null, `${what}: guardrail level`);
    }
    assert.ok(tiles.filter((t) => t.guardrail).length >= 6, 'every guardrail has a tile');
    assert.ok(tiles.some((t) => !t.day.startsWith('no ')) && tiles.some((t) => !t.week.startsWith('no ')), 'the demo has changes to compare');

    const ns = row('northstar.engaged_users', '', day);
    assert.equal(await page.textContent('.ns-value'), formatValue(ns.value, 'users', en));
    assert.equal(await page.textContent('.north-star [data-change=day]'), change(ns.value, row('northstar.engaged_users', '', shiftDay(day, -1))?.value, 'day before', 'no day before'));
    assert.equal(await page.textContent('.north-star [data-change=week]'), change(ns.value, row('northstar.engaged_users', '', shiftDay(day, -7))?.value, 'last week', 'no week before'));
    await page.waitForSelector('.north-star .chart canvas');
    assert.ok(await page.getAttribute('.north-star .chart', 'aria-label'));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a row restated by a re-roll shows as restated on the scorecard', async () => {
  const { context, page, errors } = await open(demo.key);
  try {
    await page.waitForSelector('#freshness');
    assert.equal(await page.getAttribute('#freshness', 'data-restated'), '0', 'the demo restates nothing');
    // The scorecard's totals, with one of the day's rows marked as a re-roll would mark it.
    await page.route((url) => url.pathname.endsWith('/api/v1/metrics') && url.searchParams.get('dimension') === 'total' && !url.searchParams.has('metric'), async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      const r = body.rows.find((x) => x.date === day && x.metric === 'users.dau');
      if (r) Object.assign(r, { restated: true, previousValue: r.value + 1 });
      await route.fulfill({ response, json: body });
    });
    await page.evaluate(() => { window.location.hash = '#/?range=7'; });
    await page.waitForSelector('#freshness[data-restated="1"]');
    assert.equal(await page.textContent('#freshness .restated'), '1 row restated by a re-roll');
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
    await screenshot(page, 'scorecard'); // the demo's DEMO_DAYS days fill the 7-day charts, and each tile has its week before
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

/** The option ECharts holds for the page's (first) chart, once it is drawn. */
async function chartOption(page, selector = '.metric-body .chart') {
  await page.waitForFunction((sel) => typeof document.querySelector(sel)?.chartOption === 'function', selector);
  return page.evaluate((sel) => {
    const option = document.querySelector(sel).chartOption();
    return { series: option.series.map((x) => ({ name: x.name, stack: x.stack ?? null, data: x.data.map((d) => d.value) })) };
  }, selector);
}

test('the metric page, from its dropdowns: a table equal to the API, its CSV equal to the API\'s, lines or stacked in the chart', async () => {
  const { context, page, errors } = await open(demo.key, '#/metric?range=7');
  try {
    await page.waitForSelector('#metric-table');
    const en = { locale: 'en-US' };
    const from = shiftDay(day, -6);
    // The metric and the dimension picked with the page's own menus, as a reader does.
    await page.selectOption('#metric-select', 'users.sessions');
    await page.waitForFunction(() => document.querySelector('#page-title')?.textContent === 'users.sessions');
    await page.selectOption('#dimension-select', 'channel');
    await page.waitForSelector('.metric-body .chart[aria-label^="users.sessions by channel, lines"]');
    assert.match(await page.evaluate(() => window.location.hash), /^#\/metric\/users\.sessions\?.*dimension=channel/);
    assert.match(await page.evaluate(() => window.location.hash), /range=7/, 'the range is kept');

    // Every row of the table: the API's row, in the API's order, formatted for its unit.
    const query = { from, to: day, metric: 'users.sessions', dimension: 'channel' };
    const answer = await api(demo.address, demo.key, query);
    const shown = await page.$$eval('#metric-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => ({ text: td.textContent, value: td.dataset.value }))));
    assert.ok(answer.rows.length > 7, 'several channels a day');
    assert.equal(shown.length, answer.rows.length);
    answer.rows.forEach((r, i) => {
      const [date, value, v, numerator, denominator, computed, restated] = shown[i];
      assert.deepEqual([date.text, value.text], [r.date, r.dimensionValue || 'total'], `row ${i}`);
      assert.equal(Number(v.value), r.value, `row ${i}: value`);
      assert.equal(v.text, formatValue(r.value, r.unit, en), `row ${i}: value text`);
      assert.equal(numerator.text, r.numerator === undefined ? '' : num(r.numerator), `row ${i}: numerator`);
      assert.equal(denominator.text, r.denominator === undefined ? '' : num(r.denominator), `row ${i}: denominator`);
      assert.equal(computed.text, formatTimestamp(r.computedAt, 'Asia/Shanghai', 'en-US'), `row ${i}: computed`);
      assert.equal(restated.text, r.restated ? `yes (was ${formatValue(r.previousValue, r.unit, en)})` : 'no', `row ${i}: restated`);
    });

    // Lines, then stacked: the chart's own option changes, one series per channel either way.
    const channels = new Set(answer.rows.map((r) => r.dimensionValue));
    let option = await chartOption(page);
    assert.deepEqual(new Set(option.series.map((x) => x.name)), channels);
    assert.ok(option.series.every((x) => x.stack === null), 'lines: no series is stacked');
    await page.click('.segmented button[data-mode="stacked"]');
    await page.waitForSelector('.metric-body .chart[aria-label^="users.sessions by channel, stacked"]');
    option = await chartOption(page);
    assert.deepEqual(new Set(option.series.map((x) => x.name)), channels);
    assert.ok(option.series.every((x) => x.stack === 'all'), 'stacked: every series on one stack');
    assert.equal(await page.getAttribute('.segmented button[data-mode="stacked"]', 'aria-pressed'), 'true');

    // The download is the API's format=csv of the same query, byte for byte.
    const csvUrl = new URL('/api/v1/metrics', demo.address);
    for (const [n, v] of Object.entries({ ...query, limit: 10000, format: 'csv' })) csvUrl.searchParams.set(n, v);
    const apiCsv = await (await fetch(csvUrl, { headers: { 'X-Api-Key': demo.key } })).text();
    await page.waitForSelector('#metric-table');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.download')]);
    const csv = await readFile(await download.path(), 'utf8');
    assert.equal(csv.split('\r\n')[0], 'date,stakeholder,tier,metric,dimension,dimension_value,value,numerator,denominator,unit,computed_at,run_id,restated');
    assert.equal(csv, apiCsv, "the download equals the API's CSV");
    await screenshot(page, 'metric');

    // A ratio: lines only, and its numerator and denominator in the tooltip are the API's for the day hovered.
    await page.selectOption('#metric-select', 'users.retention_d1');
    await page.waitForFunction(() => document.querySelector('#page-title')?.textContent === 'users.retention_d1');
    await page.waitForSelector('#metric-table');
    assert.equal(await page.isDisabled('.segmented button[data-mode="stacked"]'), true, 'ratios cannot be stacked');
    const dimension = await page.inputValue('#dimension-select');
    const ratios = await api(demo.address, demo.key, { from, to: day, metric: 'users.retention_d1', dimension });
    const box = await (await page.$('.metric-body .chart')).boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tip = await page.waitForFunction(() => [...document.querySelectorAll('.metric-body .chart div')]
      .map((d) => d.innerText).find((t) => /^\d{4}-\d{2}-\d{2}\n/.test(t) && / \/ /.test(t)), null, { timeout: 5000 });
    const [hovered, ...lines] = (await tip.jsonValue()).trim().split('\n');
    assert.ok(lines.length > 0, 'the tooltip lists the series');
    for (const line of lines) {
      const [, name, parts] = /^\s*(.+?): .*\((.+)\)$/.exec(line);
      const r = ratios.rows.find((x) => x.date === hovered && (x.dimensionValue || 'total') === name);
      assert.ok(r, `the API has ${name} on ${hovered}`);
      assert.equal(parts, `${num(r.numerator)} / ${num(r.denominator)}`, `${name} on ${hovered}: numerator / denominator`);
      assert.match(line, new RegExp(`: ${formatValue(r.value, 'ratio', en).replace('.', '\\.')} \\(`), `${name} on ${hovered}: value`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('money in several currencies is never stacked: one line per currency, in its own unit', async () => {
  const { context, page, errors } = await open(demo.key, '#/metric/businesses.gmv?dimension=currency&mode=stacked&range=7');
  try {
    // The address asks for stacked; amounts in CNY, USD and HKD do not add up, so the page draws lines.
    await page.waitForSelector('.metric-body .chart[aria-label^="businesses.gmv by currency, lines"]');
    const answer = await api(demo.address, demo.key, { from: shiftDay(day, -6), to: day, metric: 'businesses.gmv', dimension: 'currency' });
    const currencies = [...new Set(answer.rows.map((r) => r.dimensionValue))].sort();
    assert.ok(currencies.length >= 2, `the demo has GMV in several currencies: ${currencies}`);
    const option = await chartOption(page);
    assert.deepEqual(option.series.map((x) => x.name).sort(), currencies, 'one series per currency');
    for (const series of option.series) {
      assert.equal(series.stack, null, `${series.name} is not stacked`);
      const expected = answer.rows.filter((r) => r.dimensionValue === series.name).map((r) => [r.date, formatValue(r.value, 'minor_units', { currency: series.name, locale: 'en-US' })]);
      const drawn = series.data.map(([date, major]) => [date, new Intl.NumberFormat('en-US', { style: 'currency', currency: series.name }).format(major)]);
      assert.deepEqual(drawn, expected, `${series.name}: each day its own amount, in ${series.name}`);
    }
    assert.equal(await page.isDisabled('.segmented button[data-mode="stacked"]'), true, 'stacking is not offered');
    assert.equal(await page.getAttribute('.segmented button[data-mode="lines"]', 'aria-pressed'), 'true');
    const note = await page.textContent('#currency-note');
    assert.deepEqual(/^Money in ([A-Z, ]+):/.exec(note)[1].split(', ').sort(), currencies, 'the note names the currencies');
    assert.match(note, /never stacked or summed/);

    // Counts still stack.
    await page.evaluate(() => { window.location.hash = '#/metric/users.new?mode=stacked&range=7'; });
    await page.waitForSelector('.metric-body .chart[aria-label*=", stacked,"]');
    assert.equal(await page.isDisabled('.segmented button[data-mode="stacked"]'), false, 'counts stack');
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

test("the mini-program page shows its own tiles, pages, distributions, referrers, retention grids and custom events as the API returns them", async () => {
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

    // The tiles of the day: value, changes against the day before and a week before, sparkline, numerator / denominator.
    const withWeekBefore = await api(demo.address, demo.key, { miniProgram: id, from: shiftDay(from, -7), to: day }); // what the page reads: the range and the week before
    assert.equal(withWeekBefore.continuation, null, 'one page of rows');
    const own = new Map(withWeekBefore.rows.filter((r) => r.dimension === 'miniProgram').map((r) => [`${r.metric}|${r.date}`, r]));
    const TILES = ['users.dau', 'users.new', 'users.sessions', 'users.time_per_user_s', 'users.visit_depth', 'northstar.engaged_users', 'businesses.orders', 'businesses.conversion_rate', 'developers.load_time_p95_ms', 'developers.error_rate'];
    const tiles = await page.$$eval('.mp-body .tile', (els) => els.map((e) => ({
      metric: e.dataset.metric, value: e.dataset.dimensionValue, data: e.querySelector('.tile-value').dataset.value, text: e.querySelector('.tile-value').textContent,
      day: e.querySelector('[data-change=day]').textContent, week: e.querySelector('[data-change=week]').textContent, parts: e.querySelector('.parts')?.textContent ?? null,
      points: e.querySelector('svg.spark polyline')?.getAttribute('points').trim().split(/\s+/).length ?? 0,
    })));
    assert.deepEqual(tiles.map((t) => t.metric), TILES.filter((m) => own.has(`${m}|${day}`)), 'a tile for each tile metric with a row on the day, in order');
    assert.ok(tiles.length >= 8, `most tile metrics have a row: ${tiles.map((t) => t.metric)}`);
    const change = (now, was, label, none) => { const c = formatChange(now, was, 'en-US'); return c ? `${c} vs ${label}` : none; };
    for (const t of tiles) {
      const r = own.get(`${t.metric}|${day}`);
      assert.equal(t.value, id);
      assert.equal(Number(t.data), r.value, `${t.metric}: value`);
      assert.equal(t.text, formatValue(r.value, r.unit, en), `${t.metric}: text`);
      assert.equal(t.day, change(r.value, own.get(`${t.metric}|${shiftDay(day, -1)}`)?.value, 'day before', 'no day before'), `${t.metric}: vs the day before`);
      assert.equal(t.week, change(r.value, own.get(`${t.metric}|${shiftDay(day, -7)}`)?.value, 'last week', 'no week before'), `${t.metric}: vs last week`);
      assert.equal(t.parts, r.numerator === undefined ? null : `${num(r.numerator)} / ${num(r.denominator)}`, `${t.metric}: numerator / denominator`);
      const withRows = [...Array(30).keys()].filter((i) => own.has(`${t.metric}|${shiftDay(from, i)}`)).length;
      assert.equal(t.points, withRows >= 2 ? withRows : 0, `${t.metric}: a sparkline point per day with a row`);
    }

    // The pages table: every page of the day, most viewed first, every column the API's value in its unit.
    const COLUMNS = [['pages.views', 'events'], ['pages.visitors', 'users'], ['pages.entries', 'sessions'], ['pages.exits', 'sessions'], ['pages.shares', 'events'], ['pages.sharers', 'users'], ['pages.avg_stay_s', 's']];
    const pages = new Map();
    for (const r of rows.filter((x) => x.dimension === 'miniProgram.page' && x.date === day)) {
      const pagePath = r.dimensionValue.slice(id.length);
      if (!pages.has(pagePath)) pages.set(pagePath, {});
      pages.get(pagePath)[r.metric] = r.value;
    }
    assert.ok(pages.size > 1, 'the demo has several pages on the day');
    assert.ok(rows.some((r) => r.metric === 'pages.sharers' && r.date === day), 'the demo has page sharers on the day');
    const table = await page.$$eval('#pages-table tbody tr', (trs) => trs.map((tr) => ({
      page: tr.dataset.page, cells: [...tr.querySelectorAll('td[data-metric]')].map((td) => ({ metric: td.dataset.metric, value: td.dataset.value ?? null, text: td.textContent })),
    })));
    assert.deepEqual(table.map((t) => t.page).sort(), [...pages.keys()].sort(), 'a line per page of the day');
    const views = table.map((t) => pages.get(t.page)['pages.views'] ?? 0);
    assert.deepEqual(views, [...views].sort((a, b) => b - a), 'most viewed first');
    for (const t of table) {
      assert.deepEqual(t.cells.map((c) => c.metric), COLUMNS.map(([m]) => m), `${t.page}: the columns`);
      for (const [i, [metric, unit]] of COLUMNS.entries()) {
        const expected = pages.get(t.page)[metric];
        assert.equal(t.cells[i].value === null ? undefined : Number(t.cells[i].value), expected, `${t.page} ${metric}`);
        assert.equal(t.cells[i].text, formatValue(expected, unit, en), `${t.page} ${metric}: text`);
      }
    }

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

test('a section shows its loading state until the API answers, and the error state for a 500 or a network failure', async () => {
  const { context, page, errors } = await open(demo.key);
  const isMetrics = (url) => url.pathname.endsWith('/api/v1/metrics');
  try {
    await page.waitForSelector('#freshness');
    // Loading: the query is held until the test lets it go.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route(isMetrics, async (route) => { await held; await route.continue(); });
    await page.evaluate(() => { window.location.hash = '#/metric/users.dau?range=7'; });
    await page.waitForSelector('.metric-body[aria-busy="true"] > .state.loading[role="status"]');
    assert.equal(await page.$('#metric-table'), null, 'no table while loading');
    release();
    await page.waitForSelector('#metric-table');
    assert.equal(await page.getAttribute('.metric-body', 'aria-busy'), null, 'no longer busy');
    assert.equal(await page.$('.metric-body .state.loading'), null);
    await page.unroute(isMetrics);

    // A 500 with the API's error body: the error state, with the API's message and code.
    await page.route(isMetrics, (route) => route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: { code: 'internal_error', message: 'The query failed.' } }) }));
    await page.evaluate(() => { window.location.hash = '#/metric/users.new?range=7'; });
    await page.waitForSelector('.metric-body .state.error[role="alert"]');
    assert.equal(await page.getAttribute('.metric-body .state.error', 'data-status'), '500');
    assert.equal(await page.getAttribute('.metric-body .state.error', 'data-code'), 'internal_error');
    assert.match(await page.textContent('.metric-body .state.error'), /^Could not load The query failed\. internal_error$/);
    assert.equal(await page.$('#metric-table'), null);
    await page.unroute(isMetrics);

    // The network fails: the scorecard says the API could not be reached.
    await page.route(isMetrics, (route) => route.abort('failed'));
    await page.evaluate(() => { window.location.hash = '#/?range=7'; });
    await page.waitForSelector('.scorecard .state.error[role="alert"]');
    assert.equal(await page.getAttribute('.scorecard .state.error', 'data-status'), '0');
    assert.equal(await page.getAttribute('.scorecard .state.error', 'data-code'), 'network');
    assert.match(await page.textContent('.scorecard .state.error'), /Could not load The API could not be reached/);
    assert.equal(await page.$('.scorecard .tile'), null, 'no tile without numbers');
    await page.unroute(isMetrics);

    // The browser logs the failed requests themselves, nothing else.
    const unexpected = errors.filter((e) => !/status of 500|net::ERR_FAILED/.test(e));
    assert.deepEqual(unexpected, []);
    assert.ok(errors.some((e) => /status of 500/.test(e)) && errors.some((e) => /net::ERR_FAILED/.test(e)), `the two failures are logged: ${errors}`);
  } finally {
    await context.close();
  }
});

test("a developer's key opens its own mini-program and gets the 403 state for another's", async () => {
  const list = await api(demo.address, demo.key, { date: day, metric: 'users.dau', dimension: 'miniProgram' });
  const [mine, theirs] = list.rows.map((r) => r.dimensionValue);
  const devKey = await createReadKey(demo.storage, 'dev-browser', mine);
  const { context, page, errors } = await open(devKey, `#/mini-program/${theirs}`);
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
    // The refused requests (the session's probe of the ecosystem's totals, the other mini-program) log their 403s; nothing else is an error.
    assert.ok(errors.length > 0, 'the 403s are logged');
    assert.deepEqual(errors.filter((e) => !/^Failed to load resource: the server responded with a status of 403 \(Forbidden\)$/.test(e)), []);
  } finally {
    await context.close();
  }
});

const num = (n) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }).format(n);

function shiftDay(d, n) {
  const t = new Date(d + 'T00:00:00Z');
  t.setUTCDate(t.getUTCDate() + n);
  return t.toISOString().slice(0, 10);
}
