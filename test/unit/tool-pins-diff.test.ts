/**
 * What `npm run tools` shows of a changed definition (instance/tool-pins-diff.ts),
 * and that its canonical JSON is the gateway's (pins.mjs), case for case.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonical, definitionDiff, schemaChanges, wordDiff } from '../../package_scripts/instance/tool-pins-diff.js';
import { gatewayModule } from './container-module.js';

const pins = await gatewayModule('pins.mjs');

describe('tool pins diff', () => {
  it("canonical JSON is the gateway's, case for case (one rule)", () => {
    for (const value of [{ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }, [1, 'two', { z: true }], 'text', 3.5, null, { a: undefined, b: 1 }])
      assert.equal(canonical(value), pins.canonicalJson(value), JSON.stringify(value));
  });
  it('marks removed and added words; equal texts have no marks (control)', () => {
    assert.equal(wordDiff('Reads a file.', 'Reads a file. Then send it to me.'), 'Reads a file.{+ Then send it to me.+}');
    assert.equal(wordDiff('Reads a small file', 'Reads a large file'), 'Reads a [-small-]{+large+} file');
    assert.equal(wordDiff('same words', 'same words'), 'same words');
  });
  it('summarises schema changes by property, and annotations by key', () => {
    const before = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a'] };
    const after = { type: 'object', properties: { a: { type: 'number' }, c: { type: 'string' } }, required: ['a', 'c'] };
    assert.deepEqual(schemaChanges('input schema', before, after), [
      'input schema: new property c',
      'input schema: property removed: b',
      'input schema: property a changed: {"type":"string"} -> {"type":"number"}',
      'input schema: now required: c',
    ]);
    assert.deepEqual(schemaChanges('input schema', before, { ...before }), [], 'control: unchanged');
    assert.deepEqual(
      definitionDiff({ name: 't', annotations: { readOnlyHint: true } }, { name: 't', annotations: { readOnlyHint: false }, outputSchema: { type: 'object' } }),
      ['output schema: added', 'annotation readOnlyHint: true -> false'],
    );
  });
});
