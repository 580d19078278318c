// Starts the local runner's demo (a fresh Azurite, DEMO_DAYS simulated days, rolled up) and waits until it
// serves the dashboard; the demo prints the dashboard's URL, a platform read key and its storage connection.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dll = process.env.PIPELINE_DLL || path.join(repoRoot, 'functions/Pipeline.Local/bin/Release/net10.0/pipeline.dll');

/**
 * Days of simulated history. Weekly retention (users.retention_w1) is written on a Sunday D for the users new
 * in the week ending D-7, so it needs a Sunday at least 7 days after the first simulated day and before the
 * latest complete day (yesterday): 14 days always hold one, whatever the weekday the tests run on; 15 leave a
 * day of slack. (A month's last day with a month of history before it would need about 62, past the demo's
 * limit of 60 and this suite's time: the monthly grid is checked against whatever the API has, or its empty state.)
 */
export const DEMO_DAYS = 15;

export async function startDemo({ timeoutMs = 300_000 } = {}) {
  const child = spawn('dotnet', [dll, 'demo', '--days', String(DEMO_DAYS), '--users', '300', '--seed', '1', '--out', path.join(repoRoot, 'TestResults', 'browser-demo')], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DOTNET_NOLOGO: '1' },
  });
  let output = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the demo did not serve in time:\n' + output)), timeoutMs);
    const read = (chunk) => {
      output += chunk;
      const url = /^Dashboard: (http:\/\/\S+?)\/dashboard\/#key=(\S+)$/m.exec(output);
      const storage = /^Other verbs on this demo's storage: PipelineStorage='([^']+)'/m.exec(output);
      if (url && storage && /Serving the dashboard/.test(output)) {
        clearTimeout(timer);
        resolve({ address: url[1], key: decodeURIComponent(url[2]), storage: storage[1] });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the demo exited (${code}):\n${output}`)); });
  });
  const demo = await ready;
  return { ...demo, output: () => output, stop: () => stop(child) };
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGINT'); // the demo stops its host and its Azurite on Ctrl+C
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
  });
}

/** keys create --read against the demo's storage: a developer's key for the given mini-programs. */
export async function createReadKey(storage, name, miniPrograms) {
  const { stdout } = await promisify(execFile)('dotnet', [dll, 'keys', 'create', '--read', '--name', name, '--mini-programs', miniPrograms], {
    cwd: repoRoot, env: { ...process.env, PipelineStorage: storage, DOTNET_NOLOGO: '1' }, timeout: 60_000,
  });
  const key = stdout.trim().split('\n').at(-1).trim();
  if (!key.startsWith('mrk_')) throw new Error('keys create printed no read key: ' + stdout);
  return key;
}

/** The query API, read with a key, as the test's independent view of the numbers. */
export async function api(address, key, params) {
  const url = new URL('/api/v1/metrics', address);
  for (const [n, v] of Object.entries({ limit: 10000, ...params })) url.searchParams.set(n, v);
  const response = await fetch(url, { headers: { 'X-Api-Key': key } });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.json();
}
