import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { CONTRACT_SCHEMAS } from './contractSchemas.gen.js';
import { badRequest } from './errors.js';

/*
 * A query string held to its contract (docs/schemas/api-*-query.schema.json): the schema is the one list of the
 * parameters and values a route takes, and the web app's e2e API double (web/e2e/fixtureApi.mjs) validates the same
 * file, so the two cannot drift. A bad query is the 400 `invalid_query` readQuery and oneOf (query.ts) answer, word
 * for word: an unknown parameter or one given twice first, in the query's order, then a value not allowed.
 */

/** The query contracts by schema file name (docs/schemas/<name>.schema.json). */
export type QueryContractName = 'api-metrics-query';

/** What of a query schema the error lines need: its parameters and their allowed values. */
export interface QuerySchema {
  properties?: Record<string, { enum?: readonly unknown[] }>;
}

// allErrors: which fault is reported depends on the query's order (as readQuery reads it), not the schema's.
const ajv = new Ajv2020({ allErrors: true });
const compiled = new Map<QueryContractName, ValidateFunction>();

function validatorOf(name: QueryContractName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    const schema = CONTRACT_SCHEMAS.find((s) => typeof s.$id === 'string' && s.$id.endsWith(`/${name}.schema.json`));
    if (!schema) throw new Error(`no query contract ${name}.schema.json`);
    v = ajv.compile(schema);
    compiled.set(name, v);
  }
  return v;
}

/** The parameter an error is about: the unknown one, or the first step of its instance path ("/series"). */
const paramOf = (e: ErrorObject): string =>
  e.keyword === 'additionalProperties' ? String(e.params.additionalProperty) : (e.instancePath.split('/')[1] ?? '').replace(/~1/g, '/').replace(/~0/g, '~');

/**
 * The one line a bad query answers, from ajv's errors: the first unknown or repeated parameter in the query's own
 * order, else the first value outside its enum (listed without '', the empty value that means "the default").
 */
export function describeQueryViolation(schema: QuerySchema, errors: readonly ErrorObject[], query: Record<string, unknown>): string {
  const order = Object.keys(query);
  const shape = errors
    .filter((e) => e.keyword === 'additionalProperties' || e.keyword === 'type')
    .sort((a, b) => order.indexOf(paramOf(a)) - order.indexOf(paramOf(b)))[0];
  if (shape?.keyword === 'additionalProperties') {
    return `unknown query parameter \`${paramOf(shape)}\`; allowed: ${Object.keys(schema.properties ?? {}).join(', ')}`;
  }
  if (shape) return `query parameter \`${paramOf(shape)}\` must be given once, as a plain value`;
  const e = errors[0];
  if (!e) return 'the query does not match its contract';
  const name = paramOf(e);
  if (e.keyword === 'enum') return `\`${name}\` must be one of ${(schema.properties?.[name]?.enum ?? []).filter((v) => v !== '').join(', ')}`;
  return `\`${name}\` ${e.message ?? e.keyword}`;
}

/**
 * The query, validated against its contract; a 400 `invalid_query` naming the first fault otherwise. Only strings
 * that the schema lists come through: nothing a client built reaches MongoDB as anything else.
 */
export function readContractQuery<T extends Record<string, string | undefined>>(name: QueryContractName, query: unknown): T {
  const validate = validatorOf(name);
  const q = query !== null && typeof query === 'object' ? (query as Record<string, unknown>) : {};
  if (validate(q)) return q as T;
  throw badRequest('invalid_query', describeQueryViolation(validate.schema as QuerySchema, validate.errors ?? [], q));
}
