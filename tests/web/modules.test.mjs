// tests/web/modules.test.mjs - the pages' checksum (web/canon.js) and
// merge patch (web/common.js) under node, against the C definitions: the
// checksum's known answers (tests/test_canon.c), the canonical numbers of
// docs/reference/canon.md, and RFC 7386's own merge-patch examples.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonNumber, checksum } from '../../web/canon.js';
import { mergePatch } from '../../web/common.js';

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
