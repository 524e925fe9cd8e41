// lib.mjs - what the browser tests of the pages share: processes started
// and stopped by pid, a line read from a process's output, JSON over HTTP,
// Debian's chromium through playwright-core, and the flattening that
// compares a page's state tree with a JSON document. Not a test itself.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(need('PC_WEB_NODE'), 'package.json'));
const { chromium } = require('playwright-core');

export function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`FAIL: ${name} is not set`);
    process.exit(1);
  }
  return v;
}

export function fail(msg) {
  throw new Error(msg);
}

const children = new Set();

// Start a process; its output goes to files in dir (NAME.out, NAME.err).
export function start(dir, name, cmd, args) {
  const out = fs.openSync(path.join(dir, `${name}.out`), 'a');
  const err = fs.openSync(path.join(dir, `${name}.err`), 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', out, err] });
  child.outFile = path.join(dir, `${name}.out`);
  child.errFile = path.join(dir, `${name}.err`);
  child.done = new Promise((resolve) => child.on('exit', (code, sig) => {
    children.delete(child);
    resolve({ code, sig });
  }));
  children.add(child);
  return child;
}

export function stopAll() {
  for (const c of children) c.kill('SIGTERM');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Wait until fn() returns a truthy value (polled every 50 ms) or fail.
export async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// The rest of the first line of child's output that starts with prefix.
export function lineOf(child, prefix) {
  return until(`"${prefix}" from ${child.outFile}`, () => {
    const text = fs.readFileSync(child.outFile, 'utf8');
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    return line ? line.slice(prefix.length).trim() : null;
  }, 15000);
}

export async function getJSON(url) {
  const res = await fetch(url);
  const body = await res.json();
  if (!body.ok) fail(`${url}: ${JSON.stringify(body.error)}`);
  return body.result;
}

// Leaves of a JSON document by JSON pointer, as the state tree marks them:
// scalars and empty objects or arrays, each as its JSON text.
export function flatten(v, base = '', out = {}) {
  if (v !== null && typeof v === 'object' && Object.keys(v).length > 0) {
    for (const k of Object.keys(v)) {
      flatten(v[k], `${base}/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
    }
  } else {
    out[base] = JSON.stringify(v);
  }
  return out;
}

// The leaves the page's tree in `selector` shows, by path.
export function treeLeaves(page, selector) {
  return page.$$eval(`${selector} [data-json]`, (nodes) =>
    Object.fromEntries(nodes.map((n) => [n.dataset.path, n.dataset.json])));
}

// Same leaves with the same values (JSON text compared after parsing).
export function sameLeaves(a, b) {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join('\n') !== kb.join('\n')) return false;
  return ka.every((k) => JSON.stringify(JSON.parse(a[k])) === JSON.stringify(JSON.parse(b[k])));
}

export async function browser() {
  return chromium.launch({
    executablePath: process.env.PC_CHROMIUM || '/usr/bin/chromium',
    args: ['--disable-gpu', '--disable-dev-shm-usage'],
  });
}

// Run main, print PASS or the failure, stop every process, exit.
export async function run(main) {
  let status = 0;
  try {
    await main();
    console.log('PASS');
  } catch (e) {
    console.error(`FAIL: ${e.stack || e}`);
    status = 1;
  } finally {
    stopAll();
    await Promise.all([...children].map((c) => Promise.race([c.done, sleep(3000)])));
  }
  process.exit(status);
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
}
