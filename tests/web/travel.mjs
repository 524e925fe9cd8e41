// travel.mjs - the time-travel page in Debian's chromium over a recorded
// piles game (pc-inspect-mklog) served by `phasecast-inspect --http`:
// moved to a seq it shows the state `phasecast-inspect --json show`
// prints, its diff (against the previous seq and a chosen one) is
// `--json diff`, arrow keys step, a clicked field's blame is `--json
// blame`, and a log opened with a credential asks for it. Needs
// PC_INSPECT, PC_MKLOG, PC_WEB_NODE, PC_ARTEFACTS; a screenshot goes to
// PC_ARTEFACTS/travel.png.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  browser, fail, flatten, lineOf, need, run, sameLeaves, start, treeLeaves, until,
} from './lib.mjs';

const INSPECT = need('PC_INSPECT');
const MKLOG = need('PC_MKLOG');
const ARTEFACTS = need('PC_ARTEFACTS');

run(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-travel-'));
  execFileSync(MKLOG, [tmp], { stdio: 'ignore' });
  const log = path.join(tmp, 'p1.pclog');
  const cli = (...args) => JSON.parse(execFileSync(INSPECT, ['--json', '--log', log, ...args], { encoding: 'utf8' }));
  const insp = start(tmp, 'inspect', INSPECT, ['--log', log, '--http', '127.0.0.1:0']);
  const url = await lineOf(insp, 'http ');
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1000, height: 700 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${url}/ui/travel.html?room=p1`);
  const cursor = async () => Number(await page.textContent('#cursor'));
  await until('the history to load at the head', async () => (await cursor()) === 202);
  const status = await page.textContent('#status');
  if (!/no credential needed/.test(status)) fail(`status says: ${status}`);

  // The slider to 160: the state is the inspector's.
  await page.locator('#slider').fill('160');
  await until('cursor 160', async () => (await cursor()) === 160);
  const want = flatten(cli('show', '160').value);
  if (!sameLeaves(await treeLeaves(page, '#state'), want)) fail('#state at 160 differs from show 160');

  // The diff against the previous seq, then against a chosen one.
  const diffRows = () => page.$$eval('#diff [data-path]', (rows) => rows.map((r) => ({
    path: r.dataset.path,
    old: r.dataset.old === undefined ? undefined : JSON.parse(r.dataset.old),
    new: r.dataset.new === undefined ? undefined : JSON.parse(r.dataset.new),
  })));
  // In the inspector's order too: the page walks as pc_json_diff does.
  const norm = (xs) => xs.map((c) => JSON.stringify([c.path, c.old ?? null, c.new ?? null]));
  const sameDiff = (rows, changes) => {
    if (changes.length === 0) fail('the inspector found no difference to compare');
    return norm(rows).join('\n') === norm(changes).join('\n');
  };
  if (!sameDiff(await diffRows(), cli('diff', '159', '160').changes)) fail('#diff 159..160 differs');
  await page.fill('#diff-against', '155');
  await until('the diff against 155', async () => (await page.getAttribute('#diff', 'data-from')) === '155');
  if (!sameDiff(await diffRows(), cli('diff', '155', '160').changes)) fail('#diff 155..160 differs');
  // Against seq 1 the players array has grown: elements pair by index.
  await page.fill('#diff-against', '1');
  await until('the diff against 1', async () => (await page.getAttribute('#diff', 'data-from')) === '1');
  const fromOne = cli('diff', '1', '160').changes;
  if (!fromOne.some((c) => /^\/data\/players\/\d+$/.test(c.path))) fail('diff 1..160 has no array element path');
  if (!sameDiff(await diffRows(), fromOne)) fail('#diff 1..160 differs');
  await page.fill('#diff-against', '');

  // Arrow keys step the cursor.
  await page.click('header h1');
  await page.keyboard.press('ArrowRight');
  await until('cursor 161', async () => (await cursor()) === 161);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await until('cursor 159', async () => (await cursor()) === 159);

  // Blame at 159: the newest change at or before 159 in the path's
  // history; at the head: the inspector's blame.
  const blamed = async (p) => {
    await page.click(`#state [data-path="${p}"] .key`);
    return Number(await until(`blame of ${p}`, () => page.getAttribute('#blame', 'data-seq')));
  };
  const story = cli('blame', '/data/scores/bob', '--history').changes.map((c) => c.seq);
  const at159 = story.find((s) => s <= 159);
  if ((await blamed('/data/scores/bob')) !== at159) fail(`blame at 159 is not seq ${at159}`);
  await page.locator('#slider').fill('202');
  await until('cursor 202', async () => (await cursor()) === 202);
  const bob = cli('blame', '/data/scores/bob').changes[0].seq;
  await until(`blame follows the cursor to ${bob}`, async () =>
    Number(await page.getAttribute('#blame', 'data-seq')) === bob);
  if ((await blamed('/phase')) !== cli('blame', '/phase').changes[0].seq) fail('blame of /phase');
  await page.click('#state [data-path="/data/scores/bob"] .key');
  await page.locator('#slider').fill('160');
  await until('cursor 160 again', async () => (await cursor()) === 160);
  fs.mkdirSync(ARTEFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTEFACTS, 'travel.png') });

  // A log served with a credential: the page asks for it, then loads.
  const env = { ...process.env, PHASECAST_INSPECTOR_CREDENTIAL: 'canary-travel-secret' };
  const { spawn } = await import('node:child_process');
  const locked = spawn(INSPECT, ['--log', log, '--http', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const lockedUrl = await new Promise((resolve, reject) => {
      let text = '';
      locked.stdout.on('data', (d) => {
        text += d;
        const m = /^http (\S+)/m.exec(text);
        if (m) resolve(m[1]);
      });
      locked.on('exit', () => reject(new Error('the locked inspector exited')));
    });
    const p2 = await b.newPage();
    await p2.goto(`${lockedUrl}/ui/travel.html?room=p1`);
    await until('the credential prompt', async () => /credential/.test(await p2.textContent('#status')));
    await p2.fill('#credential', 'canary-travel-secret');
    await p2.click('#auth button');
    await until('the history behind the credential', async () => Number(await p2.textContent('#cursor')) === 202);
  } finally {
    locked.kill('SIGTERM');
  }
  // A history with events: they are listed distinctly with their names,
  // and the state at the head (replayed across them) is still the log's.
  const evDir = path.join(tmp, 'events');
  fs.mkdirSync(evDir);
  execFileSync(MKLOG, [evDir, '--events', '1'], { stdio: 'ignore' });
  const evLog = path.join(evDir, 'p1.pclog');
  const evHead = JSON.parse(execFileSync(INSPECT, ['--json', '--log', evLog, 'show', 'last'], { encoding: 'utf8' }));
  const evInsp = start(tmp, 'inspect-events', INSPECT, ['--log', evLog, '--http', '127.0.0.1:0']);
  const p3 = await b.newPage();
  await p3.goto(`${await lineOf(evInsp, 'http ')}/ui/travel.html?room=p1`);
  await until('the history with events', async () => Number(await p3.textContent('#cursor')) === evHead.seq);
  const names = await p3.$$eval('#changes li.event', (li) => li.map((x) => x.textContent));
  if (!names.some((t) => t.includes('round_over'))) fail(`no round_over event listed: ${names.slice(0, 3)}`);
  if (!sameLeaves(await treeLeaves(p3, '#state'), flatten(evHead.value))) fail('the head state with events differs');
  await b.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});
