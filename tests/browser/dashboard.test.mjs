// The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser is downloaded). Run through run.sh, which installs
// playwright-core and skips (exit 77) when chromium, node or npm is missing.
//
// Against the demo server (a FakeJobView; what the test suite runs):
//   node dashboard.test.mjs --demo-server build/ui-demo-server --root . \
//        --screenshot build/ui-screenshot.png
// Against a real job, started here (killed at the end) or already running:
//   node dashboard.test.mjs --url http://127.0.0.1:8123/ \
//        [--command "build/vigil run rules.vgl --input txn=in.jsonl --follow --ui 127.0.0.1:8123"] \
//        [--cause "cat more.jsonl >> in.jsonl"] [--rule card_testing] [--alert-key 4111]
//   --cause is a shell command run once the page has loaded that must make --rule fire for a
//   key whose text contains --alert-key (with the demo server the test tells it to fire).
//
// Checks: the page loads with no console error; the rules table shows the rule with the
// counters the API reports; a firing alert caused by the test appears (and none before it);
// the rule's graph is drawn with exactly the API's nodes and edges; recent records are listed.
// Prints one line per check and "N passed, M failed"; exits 1 on any failure.
// VIGIL_UI_SCHEME=dark takes the screenshot in the dark colour scheme (default light).
import { spawn, execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const opts = {
    chromium: '/usr/bin/chromium',
    rule: 'card_testing',
    alertKey: '4111',
    screenshot: 'ui-screenshot.png',
    root: process.cwd(),
    timeoutMs: 15000,
  };
  const names = {
    '--demo-server': 'demoServer',
    '--root': 'root',
    '--url': 'url',
    '--command': 'command',
    '--cause': 'cause',
    '--rule': 'rule',
    '--alert-key': 'alertKey',
    '--screenshot': 'screenshot',
    '--chromium': 'chromium',
    '--timeout-ms': 'timeoutMs',
  };
  for (let i = 2; i < argv.length; i++) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) {
      console.error(`dashboard.test: unknown or incomplete argument '${argv[i]}'`);
      process.exit(2);
    }
    opts[key] = argv[++i];
  }
  opts.timeoutMs = Number(opts.timeoutMs);
  if (!opts.demoServer && !opts.url) {
    console.error('dashboard.test: give --demo-server PATH or --url URL');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv);
const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${ok ? 'ok' : 'not ok'} ${results.length} - ${name}${detail ? `: ${detail}` : ''}`);
  return ok;
}

// Starts the demo server and resolves with its URL (it prints "listening on URL").
function startDemoServer() {
  const child = spawn(path.resolve(opts.demoServer), ['--listen', '127.0.0.1:0'], {
    cwd: opts.root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('demo server did not start in 10 s')), 10000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`demo server exited with ${code}`)));
  });
  return { child, url };
}

async function waitForApi(url) {
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      const res = await fetch(new URL('api/status', url));
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer /api/status in 20 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function getJson(url, rel) {
  const res = await fetch(new URL(rel, url));
  if (!res.ok) throw new Error(`GET ${rel}: ${res.status}`);
  return res.json();
}

const fmt = new Intl.NumberFormat('en-US');

async function main() {
  let server;
  let job;
  let url = opts.url;
  if (opts.demoServer) {
    server = startDemoServer();
    url = await server.url;
  } else if (opts.command) {
    job = spawn('sh', ['-c', opts.command], { stdio: 'inherit', detached: true });
  }
  await waitForApi(url);
  console.log(`# dashboard at ${url}`);

  const userDataDir = mkdtempSync(path.join(tmpdir(), 'vigil-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium,
    headless: true,
    viewport: { width: 1440, height: 1000 },
    colorScheme: process.env.VIGIL_UI_SCHEME ?? 'light',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(opts.timeoutMs);
    const consoleErrors = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));

    // 1. The page loads and connects.
    const response = await page.goto(url);
    check('page loads', response?.status() === 200, `HTTP ${response?.status()}`);
    await page.getByTestId('connection-status').filter({ hasText: 'live' }).waitFor();
    check('page polls the API', true);

    // 2. The rules table shows the rule with the API's counters.
    const status = await getJson(url, 'api/status');
    const apiRule = status.rules.find((r) => r.name === opts.rule);
    check(`API lists rule ${opts.rule}`, apiRule !== undefined);
    const row = page.locator(`[data-testid="rule-row"][data-rule="${opts.rule}"]`);
    await row.waitFor();
    check('rules table shows the rule', await row.isVisible());
    if (opts.demoServer && apiRule) {
      // The demo's counters do not move, so the page must show exactly these.
      const events = await row.getByTestId('rule-events').textContent();
      const matches = await row.getByTestId('rule-matches').textContent();
      const stream = status.streams.find((s) => s.name === apiRule.stream);
      const late = await row.getByTestId('rule-late').textContent();
      const invalid = await row.getByTestId('rule-invalid').textContent();
      check(
        'rules table shows the API counters',
        events === fmt.format(apiRule.events) &&
          matches === fmt.format(apiRule.matches) &&
          late === fmt.format(stream.late) &&
          invalid === fmt.format(stream.invalid),
        `events ${events}, matches ${matches}, late ${late}, invalid ${invalid}`,
      );
    }

    // 3. A firing alert that the test causes appears.
    const alertRow = page.locator(`[data-testid="alert-row"][data-rule="${opts.rule}"]`, {
      hasText: opts.alertKey,
    });
    if (opts.demoServer) {
      await page.getByTestId('no-alerts').waitFor();
      check('no alert before the test causes one', (await alertRow.count()) === 0);
      server.child.stdin.write(
        `fire ${opts.rule} card=${opts.alertKey} card ${opts.alertKey}: 0.5 at donate.example, then 899 at electronics\n`,
      );
    } else if (opts.cause) {
      check('no such alert before the test causes one', (await alertRow.count()) === 0);
      execSync(opts.cause, { stdio: 'inherit', shell: '/bin/sh' });
    }
    await alertRow.waitFor();
    check('the firing alert shows', await alertRow.isVisible(), (await alertRow.innerText()).replace(/\s+/g, ' '));
    const count = await page.getByTestId('alert-count').textContent();
    check('alert count is at least 1', Number(count) >= 1, `count ${count}`);

    // 4. The rule's graph is drawn: the API's nodes and edges, as SVG.
    await page.getByTestId('graph-rule-select').selectOption(opts.rule);
    const graph = await getJson(url, `api/rules/${encodeURIComponent(opts.rule)}/graph`);
    const nodes = page.locator('[data-testid="rule-graph-svg"] [data-testid="graph-node"]');
    await nodes.first().waitFor();
    const drawn = await nodes.evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
    const expected = graph.nodes.map((n) => n.name);
    check(
      'graph draws every node of the API graph',
      drawn.length === expected.length && expected.every((n) => drawn.includes(n)),
      `drawn [${drawn.join(', ')}]`,
    );
    const edges = await page.locator('[data-testid="rule-graph-svg"] [data-testid="graph-edge"]').count();
    check('graph draws every edge', edges === graph.edges.length, `${edges} of ${graph.edges.length}`);
    const box = await page.getByTestId('rule-graph-svg').boundingBox();
    check('graph has a visible size', box !== null && box.width > 100 && box.height > 40,
      box ? `${Math.round(box.width)}x${Math.round(box.height)}` : 'no box');

    // 5. Recent records are listed (as many as the API gives, up to the page's 50).
    const records = (await getJson(url, 'api/records?limit=50')).records;
    if (records.length > 0) {
      await page.getByTestId('record-row').first().waitFor();
    }
    const shown = await page.getByTestId('record-row').count();
    check('recent records are listed', shown === records.length, `${shown} shown, API ${records.length}`);

    check('no console error', consoleErrors.length === 0, consoleErrors.join(' | '));

    await page.screenshot({ path: opts.screenshot, fullPage: true });
    console.log(`# screenshot: ${opts.screenshot}`);
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
    if (server) {
      server.child.stdin.end();
      server.child.kill('SIGTERM');
    }
    if (job) {
      try {
        process.kill(-job.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
}

main()
  .catch((e) => check('test ran to the end', false, e instanceof Error ? e.message : String(e)))
  .finally(() => {
    const failed = results.filter((r) => !r.ok).length;
    console.log(`${results.length - failed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
  });
