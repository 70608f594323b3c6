import assert from 'node:assert/strict';
import { violation, type ContractName } from '../../src/contracts.js';

/** Asserts that a real answer (or stored document) matches docs/schemas/<name>.schema.json, naming the field. */
export function conforms(name: ContractName, value: unknown, where: string): void {
  const why = violation(name, value);
  assert.equal(why, null, `${where} breaks ${name}.schema.json ${why}: ${JSON.stringify(value).slice(0, 400)}`);
}
