// tests/web/modules.test.mjs - the pages' JSON modules (web/json.js,
// web/canon.js) under node, against the C definitions: the checksum's
// known answers (tests/test_canon.c), the canonical numbers of
// docs/reference/canon.md, RFC 7386's own merge-patch examples, and the
// leaf diff of pc_json_diff (include/phasecast/diff.h).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonNumber, checksum } from '../../web/canon.js';
import { diff, mergePatch, parsePointer, patchPaths, patchTouches, pointer } from '../../web/json.js';

test('the checksum gives the C known answers', () => {
  const known = [
    ['null', 'a6e0a38fa3f839ce'],
    ['true', '4ae9b24879686fa1'],
    ['false', 'a83b04840bd6e2e7'],
    ['0', 'c1e42af088ff1b2c'],
    ['-0.0', 'c1e42af088ff1b2c'],
    ['1', '7c3832dde020d3d6'],
    ['"1"', '5248fd3c85bff060'],
    ['""', '3ae9e2c9df7280f7'],
    ['[]', '9e3779b97f4a7c15'],
    ['{}', '0ff2e69699c4857e'],
    ['[1,2]', 'e8abe58312f077e1'],
    ['[2,1]', 'a0a5e31bcbba48fa'],
    ['{"a":1,"b":2}', 'a2a7aef3a0d08ba4'],
    ['{"b":2,"a":1}', 'a2a7aef3a0d08ba4'],
    ['{"a":2,"b":1}', '353a1f4af6f3aeeb'],
    ['[[],[]]', '2a76a4fb426342eb'],
    ['[[[]]]', '0f8ddac615ac6995'],
    ['{"a":{}}', '4fd2009410b30f7c'],
    ['{"a":[]}', '0a652f43304d159e'],
    ['{"a":null}', '9e459c9e7185ca0f'],
    ['{ "b" : 1 , "a" : [ true , null , "x\\n" ] }', '882ebe4378fe479a'],
    // A piles room in its lobby, as a server sent it.
    ['{"phase":"LOBBY","data":{"players":["ann","bob","cat"],"scores":{"ann":0,"bob":0,"cat":0}}}', '358661f93a797a4f'],
  ];
  for (const [text, sum] of known) {
    assert.equal(checksum(JSON.parse(text)), sum, text);
  }
});

test('numbers print as canon.md says', () => {
  const cases = [
    [0.1, '0.1'],
    [0.0025, '0.0025'],
    [-1.5, '-1.5'],
    [1e-7, '1e-07'],
    [5e-324, '5e-324'],
    [1e16, '1e+16'],
    [1e21, '1e+21'],
    [1.152921504606847e18, '1.152921504606847e+18'],
    [0.30000000000000004, '0.30000000000000004'],
    [9007199254740994, '9007199254740994'],
    [9007199254740992, '9007199254740992'],
    [-42, '-42'],
    [-0, '0'],
    [100, '100'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [123456789012345680000, '1.2345678901234568e+20'],
  ];
  for (const [d, text] of cases) {
    assert.equal(canonNumber(d), text, String(d));
  }
});

test('merge patches follow RFC 7386', () => {
  const cases = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, want] of cases) {
    assert.deepEqual(mergePatch(structuredClone(target), patch), want, JSON.stringify([target, patch]));
  }
});

test('the diff lists leaves as pc_json_diff does', () => {
  const a = { data: { s: { ann: 1, bob: 2 }, list: [1, 2, 3], gone: true, t: { x: 1 } }, phase: 'A' };
  const b = { data: { s: { ann: 1, bob: 5, cat: 0 }, list: [1, 9], t: 7, 'a/b': 1 }, phase: 'B' };
  assert.deepEqual(diff(a, b), [
    { path: '/data/a~1b', new: 1 },
    { path: '/data/gone', old: true },
    { path: '/data/list/1', old: 2, new: 9 },
    { path: '/data/list/2', old: 3 },
    { path: '/data/s/bob', old: 2, new: 5 },
    { path: '/data/s/cat', new: 0 },
    { path: '/data/t', old: { x: 1 }, new: 7 },
    { path: '/phase', old: 'A', new: 'B' },
  ]);
  assert.deepEqual(diff(a, structuredClone(a)), []);
});

test('pointers and the paths a patch touches', () => {
  assert.equal(pointer(['data', 'a/b', 'c~d']), '/data/a~1b/c~0d');
  assert.deepEqual(parsePointer('/data/a~1b/c~0d'), ['data', 'a/b', 'c~d']);
  assert.deepEqual(parsePointer(''), []);
  const patch = { hands: { ann: { R1: null } }, to_act: 'bob', turn: {} };
  assert.deepEqual(patchPaths(patch), ['/data/hands/ann/R1', '/data/to_act', '/data/turn']);
  assert.deepEqual(patchPaths({}), []);
  const doc = { phase: 'P', data: { hands: { ann: { R1: true }, bob: {} }, to_act: 'ann', turn: {}, players: ['a', 'b'] } };
  const touches = (p, path) => patchTouches(p, parsePointer(path), doc);
  assert.equal(touches(patch, '/data/hands/ann/R1'), true);
  assert.equal(touches(patch, '/data/hands/ann'), true);
  assert.equal(touches(patch, '/data/hands/bob'), false);
  assert.equal(touches(patch, '/data/to_act/x'), true, 'a parent replaced');
  assert.equal(touches(patch, '/data/turn'), false, 'an empty merge into an object changes nothing');
  assert.equal(touches({ novel: {} }, '/data/novel'), true, 'an empty merge creates an object');
  assert.equal(touches({ players: ['a'] }, '/data/players/0'), true);
  assert.equal(touches({ players: { 0: 'a' } }, '/data/players/1'), true, 'a merge into an array replaces it');
  assert.equal(touches({ to_act: 'bob' }, '/phase'), false);
});
