// tests/web/travel.test.cjs - the time-travel page (web/travel.html) in
// headless Chromium. A real phasecast-serve --http with a durable piles
// room, the inspector on and a history large enough to hold the whole
// game; four bots play it to the end. Then the page:
//   - asks for the inspector credential and loads the history;
//   - recomputes, for every seq, a state whose checksum is the record's;
//   - moves to a seq (a click in the list, then the arrow keys) and shows
//     the state `phasecast-inspect show SEQ` prints, leaf by leaf;
//   - shows the diff `phasecast-inspect diff` prints, against the previous
//     seq and against a chosen one;
//   - shows the blame of a clicked field as `phasecast-inspect blame
//     --history` finds it (the latest change up to the cursor);
//   - does the same against `phasecast-inspect --log FILE --http`;
//   - with "follow live", keeps the cursor at the head of a tictactoe
//     room while two bots play it.
// Screenshot: travel.png.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const lib = require('./lib.cjs');

const CRED = `web-test-credential-${process.pid}-0123456789`;
const PILES = ['--deal-ms', '50', '--results-ms', '30', '--scoring-ms', '100', '--declare-ms', '2000',
  '--play-ms', '2000', '--rounds', '3'];

// The text a tree row shows for a scalar value (web/tree.js).
const shown = (v) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
const compact = (v) => (v === undefined ? '' : JSON.stringify(v).length > 120 ? null : JSON.stringify(v));

// Every scalar leaf of a document, as [pointer, value].
function leaves(v, p = '', out = []) {
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      leaves(x, `${p}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
    }
  } else {
    out.push([p, v]);
  }
  return out;
}

async function login(page) {
  await page.locator('#cred-form').waitFor({ state: 'visible' });
  await page.fill('#credential', CRED);
  await page.click('#cred-submit');
  await lib.waitFor(
    async () => (await page.locator('#load-state').getAttribute('data-state')) === 'ok',
    'the history to load',
  );
}

const cursor = (page) => page.evaluate(() => window.pcTravel.cursor);

// Check what the page shows at its cursor against phasecast-inspect over
// the same history (args: its source options).
async function checkAt(page, args, seq) {
  assert.equal(await cursor(page), seq);
  const want = lib.inspect([...args, 'show', String(seq)]).value;
  const doc = await page.evaluate((s) => window.pcTravel.stateAt(s), seq);
  assert.deepEqual(doc, want, `the state at seq ${seq}`);
  // The tree draws every leaf with its value.
  const rows = await page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('#state .row')].map((r) => [r.dataset.path, r.lastElementChild.textContent]),
    ),
  );
  for (const [p, v] of leaves(want)) {
    assert.equal(rows[p], shown(v), `the tree's row ${p} at seq ${seq}`);
  }
  assert.equal(await page.locator('#sum-check').getAttribute('data-state'), 'ok', `the checksum at seq ${seq}`);
}

// The page's diff table against `phasecast-inspect diff FROM SEQ`.
async function checkDiff(page, args, from, seq) {
  const want = lib.inspect([...args, 'diff', String(from), String(seq)]).changes;
  const got = await page.evaluate(() =>
    [...document.querySelectorAll('#diff tr')].map((r) => ({
      path: r.dataset.path,
      old: r.querySelector('.old').textContent,
      new: r.querySelector('.new').textContent,
    })),
  );
  assert.equal(await page.locator('#diff-summary').textContent(), `seq ${from} \u2192 ${seq}: ${want.length} field(s)`);
  assert.deepEqual(
    got.map((d) => d.path),
    want.map((d) => d.path),
    `the diff's paths, ${from} -> ${seq}`,
  );
  want.forEach((d, i) => {
    for (const side of ['old', 'new']) {
      const text = compact(d[side]);
      if (text !== null) {
        assert.equal(got[i][side], text, `${side} of ${d.path}`);
      }
    }
  });
  return want.length;
}

// Click the row of path and compare the blame panel with
// `phasecast-inspect blame PATH --history` (the newest change up to seq).
async function checkBlame(page, args, pathText, seq) {
  await page.locator(`#state .row[data-path="${pathText}"] .key`).click();
  const all = lib.inspect([...args, 'blame', pathText, '--history']).changes;
  const want = all.filter((c) => c.seq <= seq).sort((a, b) => b.seq - a.seq)[0];
  assert.ok(want, `inspect finds a change of ${pathText} up to ${seq}`);
  const got = await page.evaluate(() => {
    const facts = {};
    const dl = document.querySelectorAll('#blame-facts dt');
    for (const dt of dl) {
      facts[dt.textContent] = dt.nextElementSibling.textContent;
    }
    return { seq: document.getElementById('blame').dataset.seq, facts };
  });
  assert.equal(got.seq, String(want.seq), `the blame of ${pathText} at ${seq}`);
  assert.equal(got.facts.path, pathText);
  assert.equal(got.facts.reason, want.reason);
  assert.equal(got.facts.source, `${want.file}:${want.line} ${want.func}`);
  const j = (v) => (v === undefined ? '(none)' : JSON.stringify(v));
  assert.equal(got.facts.change, `${j(want.old)} \u2192 ${j(want.new)}`);
  if (want.cause) {
    assert.ok(got.facts.cause.startsWith(want.cause.kind), `the cause (${got.facts.cause})`);
  }
  return want;
}

test('the time-travel page moves through a room history with state, diff and blame', async () => {
  const dir = path.join(lib.tmp, 'travel');
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  const credFile = path.join(dir, 'credential');
  fs.writeFileSync(credFile, `${CRED}\n`, { mode: 0o600 });
  const server = await lib.serve('serve', [
    '--room', 'p1:piles', '--room', 't1', '--seed', '5', '--history', '100000', '--log-dir', logs,
    '--inspector-credential-file', credFile, ...PILES,
  ]);
  const players = lib.bots(server, 'p1', ['ann', 'bob', 'cat', 'dan'], ['--game', 'piles']);
  for (const p of players) {
    assert.equal(await p.done, 0, `bot ${p.label}: ${p.err()}`);
  }
  const room = await lib.getJSON(`${server.http}/rooms/p1`);
  const log = ['--log', path.join(logs, 'p1.pclog')];
  const errors = [];
  const b = await lib.browser();
  let inspectHttp = null;
  try {
    const page = await lib.newPage(b, errors);
    await page.goto(`${server.http}/ui/travel.html?room=p1`);
    await login(page);
    const h = await page.evaluate(() => ({ first: window.pcTravel.first, n: window.pcTravel.records.length }));
    assert.equal(h.first, 0, 'the whole game is retained');
    assert.equal(h.n, room.seq, 'every change is loaded (paged)');
    assert.equal(await page.locator('#slider').getAttribute('max'), String(room.seq));
    assert.equal(await cursor(page), room.seq, 'the cursor starts at the head');

    // Every state the page computes has the recorded checksum.
    const bad = await page.evaluate(async () => {
      const { checksum } = await import('./canon.js');
      const H = window.pcTravel;
      const out = [];
      for (let s = H.first + 1; s <= H.first + H.records.length; s++) {
        if (checksum(H.stateAt(s)) !== H.records[s - H.first - 1].sum) {
          out.push(s);
        }
      }
      return out;
    });
    assert.deepEqual(bad, [], 'states whose checksum differs from the record');

    // Move: a click in the list, then the keyboard.
    const seq = Math.floor(room.seq * 0.6);
    await page.locator(`#change-${seq}`).click();
    assert.equal(await cursor(page), seq);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowLeft');
    await checkAt(page, log, seq + 1);
    await page.keyboard.press('ArrowLeft');
    await checkAt(page, log, seq);
    assert.ok(page.url().includes(`seq=${seq}`), 'the URL names the seq');
    const n = await checkDiff(page, log, seq - 1, seq);
    // Against a chosen seq.
    await page.selectOption('#diff-mode', 'seq');
    await page.fill('#diff-against', String(seq - 25));
    const m = await checkDiff(page, log, seq - 25, seq);
    console.log(`at seq ${seq}: ${n} field(s) changed from ${seq - 1}, ${m} from ${seq - 25}`);
    await page.selectOption('#diff-mode', 'prev');

    // Blame a score and the phase.
    const doc = await page.evaluate((s) => window.pcTravel.stateAt(s), seq);
    const player = doc.data.players[1];
    const blamed = await checkBlame(page, log, `/data/scores/${player}`, seq);
    await checkBlame(page, log, '/phase', seq);
    await page.locator(`#state .row[data-path="/data/scores/${player}"] .key`).click();
    console.log(`blame /data/scores/${player} at ${seq}: seq ${blamed.seq}, ${blamed.reason}`);
    await lib.screenshot(page, 'travel.png');

    // The same page over the change log, served by phasecast-inspect.
    inspectHttp = lib.run('inspect-http', process.env.PC_INSPECT, [
      ...log, '--credential-file', credFile, '--http', '127.0.0.1:0',
    ]);
    const url = await lib.waitFor(() => (inspectHttp.out().match(/^http (\S+)$/m) || [])[1], 'inspect --http');
    const p2 = await lib.newPage(b, errors);
    await p2.goto(`${url}/ui/travel.html?room=p1&seq=${seq}`);
    await login(p2);
    await checkAt(p2, log, seq);
    await checkDiff(p2, log, seq - 1, seq);
    await checkBlame(p2, log, `/data/scores/${player}`, seq);
    await p2.close();

    // Follow live on a tictactoe room while two bots play it.
    const p3 = page; // the same tab: the credential is in its sessionStorage
    await p3.goto(`${server.http}/ui/travel.html?room=t1`);
    await lib.waitFor(
      async () => (await p3.locator('#load-state').getAttribute('data-state')) === 'ok',
      'the t1 history to load with the stored credential',
    );
    await p3.check('#follow');
    const t = lib.bots(server, 't1', ['xena', 'otto'], ['--game', 'tictactoe']);
    for (const p of t) {
      assert.equal(await p.done, 0, `bot ${p.label}: ${p.err()}`);
    }
    const t1 = await lib.getJSON(`${server.http}/rooms/t1`);
    assert.ok(t1.seq > 4, `the tictactoe game made changes (${t1.seq})`);
    await lib.waitFor(async () => (await cursor(p3)) === t1.seq, `the cursor to follow t1 to seq ${t1.seq}`);
    const end = await p3.evaluate((s) => window.pcTravel.stateAt(s), t1.seq);
    const whole = await lib.getJSON(`${server.http}/rooms/t1`, CRED);
    assert.deepEqual(end, whole.state, 'the followed head is the room state');
    assert.deepEqual(errors, []);
    assert.equal(await lib.stop(inspectHttp), 0, `inspect --http stops cleanly: ${inspectHttp.err()}`);
    assert.equal(await lib.stop(server.proc), 0, `the server stops cleanly: ${server.proc.err()}`);
  } finally {
    await b.close();
    if (inspectHttp) {
      await lib.stop(inspectHttp);
    }
    await lib.stop(server.proc);
  }
});
