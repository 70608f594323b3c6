import { ObjectId } from 'mongodb';
import { badRequest } from './errors.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;

/** Parses a route id; anything but 24 hex characters is a 400, never a database query. */
export function parseId(raw: unknown, what: string): ObjectId {
  if (typeof raw !== 'string' || !OBJECT_ID.test(raw)) {
    throw badRequest('invalid_id', `${what} id must be 24 hexadecimal characters`);
  }
  return new ObjectId(raw);
}
