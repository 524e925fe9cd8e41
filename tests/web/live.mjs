// live.mjs - the live room page in Debian's chromium against a real
// phasecast-serve (HTTP bridge, durable rooms t1 and t2). Two bots play a
// game in t1: the page's #seq reaches the server's and its state tree
// equals GET /rooms/t1. The server is stopped (SIGTERM) and restarted on
// the same HTTP port and log directory: both pages leave `live` and come
// back to it, t1's with the recovered seq and state, and t2's page then
// follows a fresh game to the server's exact state. Prints p50/p99 of the
// time from a change's server time to the frame that showed it (a
// measurement, not an assertion). The time-travel page, given the
// inspector credential and "follow live", keeps up with t2 as well. Both
// live pages end with their replica's checksum equal to the server's sum
// and no divergence on the way. Needs PC_SERVE, PC_PLAY, PC_WEB_NODE,
// PC_ARTEFACTS; a screenshot goes to PC_ARTEFACTS/live.png.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  browser, fail, flatten, getJSON, lineOf, need, percentile, run, sameLeaves, start,
  treeLeaves, until,
} from './lib.mjs';

const SERVE = need('PC_SERVE');
const PLAY = need('PC_PLAY');
const ARTEFACTS = need('PC_ARTEFACTS');

run(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-live-'));
  const logs = path.join(tmp, 'logs');
  fs.mkdirSync(logs);
  const credFile = path.join(tmp, 'credential');
  fs.writeFileSync(credFile, 'canary-live-secret\n', { mode: 0o600 });
  const serve = async (name, httpAddr) => {
    const s = start(tmp, name, SERVE, ['--http', httpAddr, '--pub', 'tcp://127.0.0.1:0',
      '--rep', 'tcp://127.0.0.1:0', '--room', 't1', '--room', 't2', '--log-dir', logs,
      '--inspector-credential-file', credFile]);
    return { proc: s, http: await lineOf(s, 'http '), pub: await lineOf(s, 'pub '), rep: await lineOf(s, 'rep ') };
  };
  const game = async (srv, room, tag) => {
    const bots = ['alice', 'bob'].map((name, i) => start(tmp, `${tag}-${name}`, PLAY, ['--pub', srv.pub,
      '--req', srv.rep, '--room', room, '--name', name, '--bot', '--seed', String(i + 1), '--timeout', '60']));
    for (const b of bots) {
      const { code } = await b.done;
      if (code !== 0) fail(`${b.outFile}: the bot exited ${code}: ${fs.readFileSync(b.errFile, 'utf8')}`);
    }
  };
  // The page shows exactly the server's seq and state of room.
  const matches = async (page, url, room) => {
    const want = await getJSON(`${url}/rooms/${room}`);
    await until(`${room}'s page at seq ${want.seq}`, async () =>
      Number(await page.textContent('#seq')) === want.seq, 30000);
    const leaves = await treeLeaves(page, '#state');
    if (!sameLeaves(leaves, flatten(want.state))) {
      fail(`${room}: the page's state differs from GET /rooms/${room}:\n${JSON.stringify(leaves)}\n${JSON.stringify(flatten(want.state))}`);
    }
    return want.seq;
  };
  const connState = (page) => page.textContent('#conn-state');

  let srv = await serve('serve1', '127.0.0.1:0');
  const b = await browser();
  const pages = {};
  for (const room of ['t1', 't2']) {
    pages[room] = await b.newPage({ viewport: { width: 1000, height: 700 } });
    pages[room].on('pageerror', (e) => console.error(`page error (${room}): ${e.message}`));
    await pages[room].goto(`${srv.http}/ui/live.html?room=${room}`);
    await until(`${room}'s page live`, async () => (await connState(pages[room])) === 'live');
  }

  await game(srv, 't1', 'g1');
  const s1 = await matches(pages.t1, srv.http, 't1');
  if (s1 < 5) fail(`a whole game made only ${s1} changes`);
  const feed = await pages.t1.$$eval('#feed li[data-seq]', (li) => li.map((x) => Number(x.dataset.seq)));
  if (feed[0] !== s1) fail(`the feed's newest entry is ${feed[0]}, not ${s1}`);
  fs.mkdirSync(ARTEFACTS, { recursive: true });
  await pages.t1.screenshot({ path: path.join(ARTEFACTS, 'live.png') });

  // Stop the server; both pages leave live.
  srv.proc.kill('SIGTERM');
  const { code } = await srv.proc.done;
  if (code !== 0) fail(`the server exited ${code} on SIGTERM`);
  for (const room of ['t1', 't2']) {
    await until(`${room}'s page to leave live`, async () => (await connState(pages[room])) !== 'live', 10000);
  }
  // Restart on the same HTTP port with the same logs: the rooms recover.
  const port = new URL(srv.http).port;
  srv = await serve('serve2', `127.0.0.1:${port}`);
  for (const room of ['t1', 't2']) {
    await until(`${room}'s page back to live`, async () => (await connState(pages[room])) === 'live', 30000);
  }
  if ((await matches(pages.t1, srv.http, 't1')) !== s1) fail('t1 did not recover at its seq');

  // A fresh game in t2 after the restart: its page follows every change,
  // and so does the time-travel page with "follow live" ticked.
  const travel = await b.newPage({ viewport: { width: 1000, height: 700 } });
  await travel.goto(`${srv.http}/ui/travel.html?room=t2`);
  await until('the credential prompt', async () => /credential/.test(await travel.textContent('#status')));
  await travel.fill('#credential', 'canary-live-secret');
  await travel.click('#auth button');
  await until('t2\'s history', async () => !(await travel.isDisabled('#slider')));
  await travel.check('#follow');
  await game(srv, 't2', 'g2');
  const s2 = await matches(pages.t2, srv.http, 't2');
  if (s2 < 5) fail(`t2's game made only ${s2} changes`);
  if ((await connState(pages.t2)) !== 'live') fail('t2 is not live at the end');
  await until(`the travel page following t2 to ${s2}`, async () =>
    Number(await travel.textContent('#cursor')) === s2, 15000);
  const whole = await getJSON(`${srv.http}/rooms/t2`);
  if (!sameLeaves(await treeLeaves(travel, '#state'), flatten(whole.state))) fail('travel t2 head state differs');
  await pages.t2.screenshot({ path: path.join(ARTEFACTS, 'live-after-restart.png') });

  // Every replica's checksum agreed with the server's sum (web/canon.js).
  for (const [room, p] of Object.entries(pages)) {
    await until(`${room}'s checksum checked`, async () => (await p.evaluate(() => window.pcLive.sumState)) !== 'unknown');
    const { divergences, sumState } = await p.evaluate(() => ({ ...window.pcLive }));
    if (divergences !== 0 || sumState !== 'ok') fail(`${room}: ${divergences} checksum divergence(s), now ${sumState}`);
    if ((await p.textContent('#sum-state')) !== 'sum ok') fail(`${room}'s page does not show "sum ok"`);
  }
  const lat = [];
  for (const p of Object.values(pages)) lat.push(...await p.evaluate(() => window.pcLive.latencies));
  console.log(`change -> render latency over ${lat.length} changes: p50 ${percentile(lat, 50)} ms, p99 ${percentile(lat, 99)} ms`);
  await b.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});
