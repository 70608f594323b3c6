import { ObjectId, type Collection } from 'mongodb';
import { badRequest } from '../errors.js';
import type { UserDoc, UserRole } from './store.js';

/** Who a request acts as: a signed-in user, or the local stand-in while sign-in is off (id null). */
export interface AuthUser {
  id: ObjectId | null;
  username: string;
  role: UserRole;
  riders: ObjectId[];
}

/** The user every request acts as while AUTH_DISABLED=true (loopback only): an admin with no account. */
export const LOCAL_USER: AuthUser = Object.freeze({ id: null, username: 'local', role: 'admin', riders: [] }) as AuthUser;

const USERNAME = /^[a-z0-9._-]{3,32}$/;

/** A user name from client input, lower-cased; throws a 400 when it is not 3-32 of [a-z0-9._-]. */
export function requireUsername(value: unknown, field = 'username'): string {
  if (typeof value !== 'string') throw badRequest('invalid_field', `\`${field}\` must be a string`);
  const name = value.trim().toLowerCase();
  if (!USERNAME.test(name)) throw badRequest('invalid_field', `\`${field}\` must be 3 to 32 of a-z, 0-9, '.', '_' and '-'`);
  return name;
}

export function toAuthUser(doc: UserDoc): AuthUser {
  return { id: doc._id, username: doc.username, role: doc.role, riders: doc.role === 'coach' ? doc.riders : [] };
}

/** The contract's User: `riders` lists a coach's riders by id and name (empty for other roles). */
export async function toUserJson(users: Collection<UserDoc>, user: AuthUser | UserDoc) {
  const id = 'id' in user ? user.id : user._id;
  const riderIds = user.role === 'coach' ? user.riders : [];
  const riders = riderIds.length
    ? await users.find({ _id: { $in: riderIds } }, { projection: { username: 1 } }).sort({ username: 1 }).toArray()
    : [];
  return {
    id: id ? id.toHexString() : 'local',
    username: user.username,
    role: user.role,
    riders: riders.map((r) => ({ id: r._id.toHexString(), username: r.username })),
  };
}
