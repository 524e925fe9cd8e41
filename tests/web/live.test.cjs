// tests/web/live.test.cjs - the live room page (web/live.html) in headless
// Chromium against a real phasecast-serve --http with a durable piles
// room, reached from the room list (web/index.html). Four phasecast-play
// bots play; the page's feed grows as changes arrive. Mid-game the server
// is killed (SIGKILL) and restarted on the same ports and log directory:
// the page leaves "live", comes back to "live" by itself, and at the end
// its replica equals GET /rooms/p1 at the room's final seq, with no
// checksum divergence. It prints the time from each change's `time` (the
// room's clock when it committed the change, taken before the log write)
// to its render in the page, measured in the browser on the same machine
// clock (p50/p99; not an assertion), and saves a screenshot (live.png).
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const lib = require('./lib.cjs');

const PILES = ['--room', 'p1:piles', '--seed', '9', '--deal-ms', '150', '--results-ms', '60',
  '--scoring-ms', '300', '--declare-ms', '2000', '--play-ms', '2000', '--rounds', '4', '--heartbeat', '500'];

// What the page shows, read from its DOM and its replica.
async function seen(page) {
  return page.evaluate(() => ({
    conn: document.getElementById('conn-state').dataset.state,
    seqText: document.getElementById('seq').textContent,
    feed: document.querySelectorAll('#feed li').length,
    topSeq: document.querySelector('#feed li')?.dataset.seq ?? null,
    seq: window.pcLive.seq,
    doc: window.pcLive.doc,
    received: window.pcLive.received,
    snapshots: window.pcLive.snapshots,
    divergences: window.pcLive.divergences,
    sumState: window.pcLive.sumState,
  }));
}

test('the live page follows a room, rides through a server restart and ends at the server state', async () => {
  const logs = path.join(lib.tmp, 'logs');
  fs.mkdirSync(logs);
  let server = await lib.serve('serve', ['--log-dir', logs, ...PILES]);
  const errors = [];
  const b = await lib.browser();
  try {
    const page = await lib.newPage(b, errors);
    // The room list (/ redirects to /ui/) links to the room's pages.
    await page.goto(`${server.http}/`);
    const row = page.locator('#rooms tbody tr[data-room="p1"]');
    await row.waitFor();
    assert.equal(await row.locator('a.travel-link').getAttribute('href'), 'travel.html?room=p1');
    await row.locator('a.live-link').click();
    await page.waitForURL(/\/ui\/live\.html\?room=p1$/);
    await lib.waitFor(async () => (await seen(page)).conn === 'live', 'the page to go live');
    const start = await seen(page);
    assert.equal(start.seq, 0);
    assert.equal(start.snapshots, 1, 'a first visit starts from a snapshot');

    // Changes arrive while the page watches: the feed grows in steps.
    const players = lib.bots(server, 'p1', ['ann', 'bob', 'cat', 'dan']);
    const counts = [];
    await lib.waitFor(
      async () => {
        const s = await seen(page);
        if (counts.length === 0 || counts[counts.length - 1] !== s.feed) {
          counts.push(s.feed);
        }
        return s.seq >= 40 ? s : null;
      },
      'the page to reach seq 40',
      60000,
      20,
    );
    assert.ok(counts.length >= 3, `the feed grew in steps (${counts.join(', ')})`);

    // Drop every connection: kill the server mid-game.
    const before = await seen(page);
    await lib.stop(server.proc, 'SIGKILL');
    const down = await lib.waitFor(async () => {
      const s = await seen(page);
      return s.conn !== 'live' ? s : null;
    }, 'the page to leave "live"');
    console.log(`after the kill the page is ${down.conn} at seq ${down.seq}`);
    assert.ok(['disconnected', 'stale', 'resyncing'].includes(down.conn));

    const ports = { pub: server.pub, rep: server.rep, http: server.http.replace('http://', '') };
    server = await lib.serve('serve-again', ['--log-dir', logs, ...PILES.slice(2)], ports);
    assert.match(server.proc.err(), /recovered room p1 \(piles\) at seq (\d+)/);
    const at = Number(server.proc.err().match(/recovered room p1 \(piles\) at seq (\d+)/)[1]);
    await lib.waitFor(async () => (await seen(page)).conn === 'live', 'the page to be live again');

    for (const p of players) {
      assert.equal(await p.done, 0, `bot ${p.label} finished: ${p.err()}`);
    }
    const room = await lib.getJSON(`${server.http}/rooms/p1`);
    assert.ok(room.seq > at, `the game went on after the restart (recovered at ${at}, ended at ${room.seq})`);
    assert.ok(at >= before.seq, 'nothing the page saw was lost');
    const end = await lib.waitFor(async () => {
      const s = await seen(page);
      return s.seq === room.seq && s.conn === 'live' ? s : null;
    }, `the page to reach seq ${room.seq}`);
    assert.deepEqual(end.doc, room.state, "the page's replica is the server's state");
    assert.equal(end.seqText, String(room.seq), 'the page shows the seq');
    assert.equal(end.topSeq, String(room.seq), 'the newest feed entry is the last change');
    assert.ok(end.feed > 0 && end.feed <= 200, `the feed is bounded (${end.feed})`);
    assert.equal(end.divergences, 0, 'no checksum divergence');
    assert.equal(end.sumState, 'ok');
    // The tree shows the state: a leaf is drawn with its value.
    const phaseRow = await page.locator('#state .row[data-path="/phase"]').textContent();
    assert.ok(phaseRow.includes(JSON.stringify(room.state.phase)), `the tree shows the phase (${phaseRow})`);
    console.log(
      `the page received ${end.received} change(s) and ${end.snapshots} snapshot(s); ` +
        `the server was killed at page seq ${before.seq}, recovered at ${at}, ended at ${room.seq}`,
    );

    const lat = await page.evaluate(() => window.pcLive.latencies);
    const report = (what, xs) =>
      console.log(
        `commit -> rendered in the live page, ${what}: ${xs.length} change(s), p50 ${lib.quantile(xs, 0.5)} ms, ` +
          `p99 ${lib.quantile(xs, 0.99)} ms, max ${Math.max(...xs)} ms (same machine clock; not an assertion)`,
      );
    report('before the kill', lat.filter((x) => x.seq <= before.seq).map((x) => x.ms));
    report('after the restart', lat.filter((x) => x.seq > at).map((x) => x.ms));
    await lib.screenshot(page, 'live.png');
    assert.deepEqual(errors, []);
    assert.equal(await lib.stop(server.proc), 0, `the server stops cleanly: ${server.proc.err()}`);
  } finally {
    await b.close();
    await lib.stop(server.proc);
  }
});
