// The executable contracts (docs/schemas, issue 17/5) for the e2e API TEST DOUBLE (e2e/fixtureApi.mjs) and the test
// that holds its answers to them (e2e/contracts.test.mjs): every schema file in one ajv. The double reads the query
// of GET …/metrics against api-metrics-query.schema.json, the file the real API validates it with
// (backend/src/queryContract.ts), so the two take the same parameters and values; its 400 lines are the API's.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';

const schemaDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/schemas');
const BASE = 'https://snowboarding.example/schemas/';
// allErrors: a test lists every violation at once, and a query's first fault is chosen by the query's order.
const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, formats: { 'date-time': true } });
for (const f of readdirSync(schemaDir).filter((n) => n.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(path.join(schemaDir, f), 'utf8')));

/** The compiled validator of docs/schemas/<name>.schema.json. */
export function contractValidator(name) {
  const v = ajv.getSchema(`${BASE}${name}.schema.json`);
  if (!v) throw new Error(`no schema ${name}`);
  return v;
}

/** Null when `value` conforms, else every violation as "path: message" (so one run lists them all). */
export function violations(name, value) {
  const v = contractValidator(name);
  return v(value) ? null : v.errors.map((e) => `${e.instancePath || '/'}: ${e.message}${e.keyword === 'required' || e.keyword === 'additionalProperties' ? ` ${JSON.stringify(e.params)}` : ''}`).slice(0, 20);
}

/** A URL's query as the API's parser ('simple', node:querystring) gives it: a repeated parameter is an array. */
export const queryObject = (searchParams) =>
  Object.fromEntries([...new Set(searchParams.keys())].map((k) => {
    const all = searchParams.getAll(k);
    return [k, all.length > 1 ? all : all[0]];
  }));

const paramOf = (e) => (e.keyword === 'additionalProperties' ? String(e.params.additionalProperty) : (e.instancePath.split('/')[1] ?? '').replace(/~1/g, '/').replace(/~0/g, '~'));

/**
 * Null when the query conforms to docs/schemas/<name>.schema.json, else the API's 400 invalid_query line
 * (backend/src/queryContract.ts): the first unknown or repeated parameter in the query's order, else the first value
 * outside its enum (listed without '', the empty value that means the default).
 */
export function queryViolation(name, searchParams) {
  const v = contractValidator(name);
  const query = queryObject(searchParams);
  if (v(query)) return null;
  const order = Object.keys(query);
  const props = v.schema.properties ?? {};
  const shape = v.errors.filter((e) => e.keyword === 'additionalProperties' || e.keyword === 'type').sort((a, b) => order.indexOf(paramOf(a)) - order.indexOf(paramOf(b)))[0];
  if (shape?.keyword === 'additionalProperties') return `unknown query parameter \`${paramOf(shape)}\`; allowed: ${Object.keys(props).join(', ')}`;
  if (shape) return `query parameter \`${paramOf(shape)}\` must be given once, as a plain value`;
  const e = v.errors[0];
  const key = paramOf(e);
  if (e.keyword === 'enum') return `\`${key}\` must be one of ${(props[key]?.enum ?? []).filter((x) => x !== '').join(', ')}`;
  return `\`${key}\` ${e.message}`;
}
