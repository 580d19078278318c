// Where the page finds the query API, on its own (no browser): the local runner serves the dashboard at
// <root>/dashboard/, the Functions app at <root>/api/dashboard/, and the API is <root>/api/v1/ for both,
// whatever the root (a reverse proxy may add a prefix) and whatever follows in the path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiBase } from '../../../web/dashboard/src/api.js';

const at = (href) => { const u = new URL(href); return { pathname: u.pathname, origin: u.origin }; };

test('the local runner: /dashboard/ has the API at /api/v1/', () => {
  assert.equal(apiBase(at('http://127.0.0.1:5000/dashboard/')), 'http://127.0.0.1:5000/api/v1/');
  assert.equal(apiBase(at('http://127.0.0.1:5000/dashboard/index.html')), 'http://127.0.0.1:5000/api/v1/');
  assert.equal(apiBase(at('http://127.0.0.1:5000/dashboard')), 'http://127.0.0.1:5000/api/v1/');
});

test('the Functions app: /api/dashboard/ has the API at /api/v1/, not /api/api/v1/', () => {
  assert.equal(apiBase(at('https://metrics.example.net/api/dashboard/')), 'https://metrics.example.net/api/v1/');
  assert.equal(apiBase(at('https://metrics.example.net/api/dashboard/index.html')), 'https://metrics.example.net/api/v1/');
});

test('under a prefix, the API is under the same prefix', () => {
  assert.equal(apiBase(at('https://proxy.example.net/metrics/dashboard/')), 'https://proxy.example.net/metrics/api/v1/');
  assert.equal(apiBase(at('https://proxy.example.net/metrics/api/dashboard/')), 'https://proxy.example.net/metrics/api/v1/');
});

test('a page elsewhere falls back to the origin\'s /api/v1/', () => {
  assert.equal(apiBase(at('http://localhost:8080/')), 'http://localhost:8080/api/v1/');
});
