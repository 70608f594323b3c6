import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { CONTRACT_SCHEMAS } from './contractSchemas.gen.js';
import { HttpError } from './errors.js';

/*
 * The executable contracts (docs/schemas, issue 17/5) on the API's side. The pose workers write pose_frames and
 * metrics from another process and language; what the API serves from them is checked against the same JSON Schemas
 * the pose tests hold the workers to, so a stored document that breaks the contract answers a clear 500 naming the
 * field instead of reaching the web app as a shape it cannot draw.
 */

const BASE = 'https://snowboarding.example/schemas/';

/** The contract shapes by schema file name (docs/schemas/<name>.schema.json). */
export type ContractName =
  | 'api-pose' | 'api-metrics-summary' | 'metrics' | 'video' | 'job' | 'error' | 'frame' | 'person' | 'summary'
  | 'pose-health' | 'pose-ready' | 'pose-image' | 'pose-video'
  | 'worker-pose-frames' | 'worker-metrics' | 'worker-metric-series';

// `date-time` is known but not checked here: the API writes its times with toISOString() itself.
const ajv = new Ajv2020({ allErrors: false, allowUnionTypes: true, formats: { 'date-time': true } });
for (const schema of CONTRACT_SCHEMAS) ajv.addSchema(schema);

const compiled = new Map<ContractName, ValidateFunction>();

/** The compiled validator of one contract (compiled once, on first use). */
export function contractValidator(name: ContractName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = ajv.getSchema(`${BASE}${name}.schema.json`);
    if (!v) throw new Error(`no contract schema ${name}.schema.json`);
    compiled.set(name, v);
  }
  return v;
}

/** "at /frames/3/persons/0/keypoints: must NOT have fewer than 17 items" for the first error. */
export function describeViolation(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'does not match the schema';
  const extra = e.keyword === 'required' || e.keyword === 'additionalProperties' ? ` (${JSON.stringify(e.params)})` : '';
  return `at ${e.instancePath || '/'}: ${e.message ?? e.keyword}${extra}`;
}

/** The contract violations of `value`, or null when it conforms. */
export function violation(name: ContractName, value: unknown): string | null {
  const v = contractValidator(name);
  return v(value) ? null : describeViolation(v.errors);
}

/**
 * Passes `value` through when it conforms to `name`; otherwise a 500 `stored_contract_violation` whose detail says
 * which stored documents and which field (the workers wrote something the contract does not allow).
 */
export function servedConforms<T>(name: ContractName, value: T, what: string): T {
  const why = violation(name, value);
  if (why !== null) {
    throw new HttpError(500, 'stored_contract_violation', `${what} break the ${name} contract (docs/schemas/${name}.schema.json) ${why}`);
  }
  return value;
}
