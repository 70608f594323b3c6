import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { badRequest } from '../errors.js';

/*
 * argon2id with OWASP's first recommended parameter set (19 MiB, 2 passes, 1 lane): ~20-40 ms per hash here, and
 * the memory stays small enough that 20 sign-ins at once fit in the API's 512 MB. The parameters are stored in each
 * hash (PHC format), so raising them later still verifies old hashes.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

/** A hash of a password nobody has: verifying against it when the user is unknown costs the same as a real check. */
let decoy: Promise<string> | null = null;

/** True when `password` matches `hash`; with a null hash (no such user) it spends the same time and says false. */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  const target = hash ?? (await (decoy ??= hashPassword(randomBytes(16).toString('hex'))));
  try {
    const ok = await argon2.verify(target, password);
    return ok && hash !== null;
  } catch {
    return false;
  }
}

/** A random password for an account an admin creates or resets (shown once): 24 URL-safe characters, 144 bits. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Checks a client-chosen password; throws a 400 saying what is wrong (never echoing it). */
export function requireAcceptablePassword(value: unknown, field: string): string {
  if (typeof value !== 'string') throw badRequest('invalid_field', `\`${field}\` must be a string`);
  if (value.length < MIN_PASSWORD || value.length > MAX_PASSWORD) {
    throw badRequest('weak_password', `\`${field}\` must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters long`);
  }
  return value;
}
