import { randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import { HttpError } from '../errors.js';
import type { UserDoc } from './store.js';

/*
 * An admin leaves the role (demoted or removed) only while another admin stays, even when two admins are taken
 * out at the same moment by different requests or API processes. A count followed by a write is not enough: two
 * requests can both count two admins and both write. MongoDB has no multi-document condition outside transactions
 * (and the stack's MongoDB is a standalone server, where transactions do not exist), so each leaver first marks
 * itself, then counts the admins that are not leaving:
 *
 *   1. mark:  users.updateOne({_id: X, role: 'admin', adminExit unset}, {$set: {adminExit: {token, at}}})
 *   2. count: users.countDocuments({role: 'admin', _id ≠ X, adminExit unset})
 *   3. at least one → do the change (its own write drops X from the admins); none → unmark, 409 last_admin.
 *
 * Of any set of concurrent leavers, the one whose count runs last sees every other one marked (or already gone),
 * because each marked itself before counting: it finds no admin left unless one stays, so the role can never
 * empty. Two leavers can both see each other marked and back off; they retry after a random pause (one then
 * finds the other gone and answers 409 for good). A mark left by a process that died mid-change stops counting
 * after ADMIN_EXIT_STALE_MS, so it cannot block the others for ever. Tested against a real server and SecantusDB
 * with both requests fired at once (test/admin-exit.test.ts).
 */

/** A mark this old belongs to a request that died between marking and its change (a change takes milliseconds). */
export const ADMIN_EXIT_STALE_MS = 60_000;
const RETRIES = 20;

const lastAdmin = () => new HttpError(409, 'last_admin', 'this is the last admin account; make another admin first');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Not marked, or marked by a request that died: still counts as an admin who stays. */
const staying = () => ({ $or: [{ adminExit: { $exists: false } }, { 'adminExit.at': { $lt: new Date(Date.now() - ADMIN_EXIT_STALE_MS) } }] });

/**
 * Runs `change` (which demotes or removes `user`) only while another admin stays; throws 409 last_admin otherwise.
 * A user who is not an admin (any more) needs no guard: `change` runs as is.
 */
export async function leaveAdminRole<T>(users: Collection<UserDoc>, user: Pick<UserDoc, '_id'>, change: () => Promise<T>): Promise<T> {
  const token = randomBytes(12).toString('hex');
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    if (attempt > 0) await sleep(5 + Math.random() * 20 * Math.min(attempt, 5));
    const marked = await users.updateOne({ _id: user._id, role: 'admin', ...staying() }, { $set: { adminExit: { token, at: new Date() } } });
    if (marked.matchedCount === 0) {
      const now = await users.findOne({ _id: user._id }, { projection: { role: 1 } });
      if (now?.role !== 'admin') return change();
      continue; // another request is taking this same admin out right now
    }
    const unmark = () => users.updateOne({ _id: user._id, 'adminExit.token': token }, { $unset: { adminExit: '' } });
    const others = { role: 'admin' as const, _id: { $ne: user._id } };
    if ((await users.countDocuments({ ...others, ...staying() })) > 0) {
      try {
        return await change();
      } finally {
        // A mark left here only keeps others stricter, and stops counting once stale: never fail the change for it.
        await unmark().catch(() => undefined);
      }
    }
    await unmark();
    // Nobody stays: the last admin for good, unless other admins are leaving at this moment (then one of us wins).
    if ((await users.countDocuments(others)) === 0) throw lastAdmin();
  }
  throw new HttpError(409, 'last_admin', 'another admin is being demoted or removed at this moment, and one admin must stay; try again');
}
