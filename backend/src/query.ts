import { badRequest } from './errors.js';

/**
 * Reads query parameters as plain strings from an allow-list. Anything else (an unknown key such as
 * `status[$ne]`, a repeated key that arrives as an array, an object) is a 400: no client-built value
 * ever reaches MongoDB as anything but a string we compared against our own list.
 */
export function readQuery<K extends string>(query: unknown, allowed: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  if (query === null || typeof query !== 'object') return out;
  for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw badRequest('invalid_query', `unknown query parameter \`${key}\`; allowed: ${allowed.join(', ')}`);
    }
    if (typeof value !== 'string') throw badRequest('invalid_query', `query parameter \`${key}\` must be given once, as a plain value`);
    out[key as K] = value;
  }
  return out;
}

export function oneOf<T extends string>(name: string, value: string | undefined, options: readonly T[]): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(options as readonly string[]).includes(value)) throw badRequest('invalid_query', `\`${name}\` must be one of ${options.join(', ')}`);
  return value as T;
}

export function intInRange(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw badRequest('invalid_query', `\`${name}\` must be a whole number from ${min} to ${max}`);
  const n = Number(value);
  if (n < min || n > max) throw badRequest('invalid_query', `\`${name}\` must be a whole number from ${min} to ${max}`);
  return n;
}

export function nonNegativeSeconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw badRequest('invalid_query', `\`${name}\` must be a number of seconds ≥ 0`);
  return n;
}
