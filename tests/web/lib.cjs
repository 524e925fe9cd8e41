// tests/web/lib.cjs - what the browser tests share: real phasecast-serve,
// phasecast-play and phasecast-inspect processes on loopback ports, HTTP
// reads of the bridge, and a headless Debian Chromium driven by
// playwright-core (installed by the web_npm_ci fixture into the build
// tree, PC_WEB_NODE). Every process a test starts is stopped when it ends.
//
// Environment (set by tests/CMakeLists.txt): PC_SERVE, PC_PLAY,
// PC_INSPECT, PC_WEB_NODE (the node_modules folder), PC_CHROMIUM (the
// browser) and PC_WEB_ARTEFACTS (where screenshots go).
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const need = (name) => {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set (run the test through ctest)`);
  }
  return v;
};

const children = new Set();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phasecast-web-'));
process.on('exit', () => {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  if (!process.env.PC_KEEP) {
    fs.rmSync(tmp, { recursive: true, force: true });
  } else {
    console.log(`kept ${tmp}`);
  }
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFor(fn, what, ms) - poll fn until it returns a truthy value.
async function waitFor(fn, what, ms = 30000, every = 50) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    try {
      last = await fn();
      if (last) {
        return last;
      }
    } catch (e) {
      last = e;
    }
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

// run(name, cmd, args) -> a child whose stdout and stderr go to files in
// tmp; child.out() and child.err() read them; child.done is a promise of
// the exit code.
function run(name, cmd, args) {
  const out = path.join(tmp, `${name}.out`);
  const err = path.join(tmp, `${name}.err`);
  const child = spawn(cmd, args, { stdio: ['ignore', fs.openSync(out, 'w'), fs.openSync(err, 'w')] });
  children.add(child);
  child.done = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(code === null ? `signal ${signal}` : code);
    });
  });
  child.out = () => fs.readFileSync(out, 'utf8');
  child.err = () => fs.readFileSync(err, 'utf8');
  child.label = name;
  return child;
}

// serve(name, args, ports) -> {proc, pub, rep, http}: phasecast-serve on
// the given URLs (default: free ports), retried while a port is still
// held by a server that was just killed.
async function serve(name, args, ports = {}) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const proc = run(`${name}-${attempt}`, need('PC_SERVE'), [
      '--pub',
      ports.pub || 'tcp://127.0.0.1:0',
      '--rep',
      ports.rep || 'tcp://127.0.0.1:0',
      '--http',
      ports.http || '127.0.0.1:0',
      ...args,
    ]);
    let exited = false;
    proc.done.then(() => (exited = true));
    const urls = await waitFor(
      () => {
        const o = proc.out();
        const get = (k) => (o.match(new RegExp(`^${k} (\\S+)$`, 'm')) || [])[1];
        if (get('pub') && get('rep') && get('http')) {
          return { pub: get('pub'), rep: get('rep'), http: get('http') };
        }
        return exited ? 'exited' : null;
      },
      `${name} to print its URLs`,
      15000,
    );
    if (urls !== 'exited') {
      return { proc, ...urls };
    }
    if (!/in use/i.test(proc.err())) {
      throw new Error(`${name} exited: ${proc.err()}`);
    }
    await sleep(200);
  }
  throw new Error(`${name}: the ports stayed busy`);
}

// stop(proc, signal) - signal a child and wait for it.
async function stop(proc, signal = 'SIGTERM') {
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill(signal);
  }
  return proc.done;
}

// bots(server, room, names, extra) -> children playing room.
function bots(server, room, names, extra = []) {
  return names.map((n, i) =>
    run(`bot-${room}-${n}`, need('PC_PLAY'), [
      '--pub',
      server.pub,
      '--req',
      server.rep,
      '--room',
      room,
      '--name',
      n,
      '--bot',
      '--seed',
      String(i + 1),
      '--timeout',
      '60',
      ...extra,
    ]),
  );
}

// getJSON(url, bearer) -> the reply's result; throws on an error reply.
async function getJSON(url, bearer) {
  const headers = bearer ? { Authorization: `Bearer ${bearer}` } : {};
  const res = await fetch(url, { headers });
  const body = await res.json();
  if (!body.ok) {
    throw new Error(`${url}: ${res.status} ${JSON.stringify(body.error)}`);
  }
  return body.result;
}

// inspect(args) -> the parsed --json output of phasecast-inspect.
function inspect(args) {
  const out = execFileSync(need('PC_INSPECT'), ['--json', ...args], { encoding: 'utf8' });
  return JSON.parse(out);
}

// browser() -> a headless Chromium (playwright-core's Browser).
async function browser() {
  const { chromium } = require(path.join(need('PC_WEB_NODE'), 'playwright-core'));
  return chromium.launch({
    executablePath: process.env.PC_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Root in a container has no user namespaces for Chromium's sandbox.
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
}

// newPage(b) -> a page that fails the test on any error it logs.
async function newPage(b, errors) {
  const page = await b.newPage({ viewport: { width: 1360, height: 900 } });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/ERR_CONNECTION_REFUSED|Failed to load resource/.test(m.text())) {
      errors.push(`console error: ${m.text()}`);
    }
  });
  return page;
}

// screenshot(page, name) - save PNG into PC_WEB_ARTEFACTS.
async function screenshot(page, name) {
  const dir = process.env.PC_WEB_ARTEFACTS || path.join(tmp, 'artefacts');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  await page.screenshot({ path: file });
  console.log(`screenshot: ${file}`);
  return file;
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

module.exports = {
  bots,
  browser,
  getJSON,
  inspect,
  newPage,
  quantile,
  run,
  screenshot,
  serve,
  sleep,
  stop,
  tmp,
  waitFor,
};
