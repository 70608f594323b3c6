import { ObjectId, type Collection, type Filter } from 'mongodb';
import { BatchedLookup } from '../coalesce.js';
import type { VideoDoc } from '../db.js';
import { HttpError, notFound } from '../errors.js';
import { parseId } from '../ids.js';
import type { UserDoc } from './store.js';
import type { AuthUser } from './users.js';

/*
 * The one place that says whose videos a user may see. Every video, job and result read goes through
 * visibleVideoFilter (lists) or loadVideoFor (one video), so no query can forget the owner:
 *  - admin: every video;
 *  - coach: their own and their assigned riders' (the riders' read-only);
 *  - rider: their own.
 * A video the caller may not see answers 404, exactly as a missing one: ids of other riders' videos reveal nothing.
 */

/** The MongoDB filter for the videos `user` may read. */
export function visibleVideoFilter(user: AuthUser): Filter<VideoDoc> {
  if (user.role === 'admin') return {};
  if (user.role === 'coach') return { ownerId: { $in: [user.id, ...user.riders] } };
  return { ownerId: user.id };
}

/** A stable key for the filter (for caches shared between requests). */
export function visibilityKey(user: AuthUser): string {
  if (user.role === 'admin') return 'all';
  return [user.id, ...(user.role === 'coach' ? user.riders : [])].map((id) => id?.toHexString() ?? 'none').join(',');
}

/** True when `user` may change (delete, share) a video owned by `ownerId`. */
export function mayWrite(user: AuthUser, ownerId: ObjectId | null | undefined): boolean {
  if (user.role === 'admin') return true;
  return Boolean(user.id && ownerId && user.id.equals(ownerId));
}

export const readOnly = () =>
  new HttpError(403, 'read_only', "a coach can watch an assigned rider's videos but not change them");

/**
 * The video with this id if `user` may see it (404 `not_found` otherwise); with `write`, also that they may change
 * it (403 `read_only` for a coach on a rider's video).
 */
export async function loadVideoFor(
  videos: Collection<VideoDoc>,
  user: AuthUser,
  rawId: unknown,
  opts: { write?: boolean } = {},
): Promise<VideoDoc> {
  const id = parseId(rawId, 'video');
  const video = await videos.findOne({ _id: id, ...visibleVideoFilter(user) });
  if (!video) throw notFound('video');
  if (opts.write && !mayWrite(user, video.ownerId)) throw readOnly();
  return video;
}

/** True when `user` may read a video owned by `ownerId`: visibleVideoFilter's rule, for a video already at hand. */
export function mayRead(user: AuthUser, ownerId: ObjectId | null | undefined): boolean {
  if (user.role === 'admin') return true;
  const readable = user.role === 'coach' ? [user.id, ...user.riders] : [user.id];
  return Boolean(ownerId && readable.some((id) => id?.equals(ownerId)));
}

/**
 * `(user, videoId) → may they read it` for jobs and their events (visible with their video). Many polling clients
 * share one `$in` read of the videos' owners per batch (see coalesce.ts); a missing video reads as not visible.
 */
export function videoReadCheck(videos: Collection<VideoDoc>): (user: AuthUser, videoId: ObjectId) => Promise<boolean> {
  const owners = new BatchedLookup<{ ownerId: ObjectId | null }>(async (ids) => {
    const found = await videos.find({ _id: { $in: ids.map((id) => new ObjectId(id)) } }, { projection: { ownerId: 1 } }).toArray();
    return new Map(found.map((v) => [v._id.toHexString(), { ownerId: v.ownerId ?? null }]));
  });
  return async (user, videoId) => {
    const video = await owners.get(videoId.toHexString());
    return video !== null && mayRead(user, video.ownerId);
  };
}

/** Owner id → {id, username} for the given videos, in one read (for the Video JSON's `owner`). */
export async function ownersOf(
  users: Collection<UserDoc>,
  videos: readonly { ownerId?: ObjectId | null }[],
): Promise<Map<string, { id: string; username: string }>> {
  const ids = [...new Map(videos.filter((v) => v.ownerId).map((v) => [v.ownerId!.toHexString(), v.ownerId!])).values()];
  if (ids.length === 0) return new Map();
  const found = await users.find({ _id: { $in: ids } }, { projection: { username: 1 } }).toArray();
  return new Map(found.map((u) => [u._id.toHexString(), { id: u._id.toHexString(), username: u.username }]));
}

/**
 * The library filter for `user`, narrowed to one owner's videos when `ownerName` is given (coach: a rider; admin:
 * anyone). null means "nothing to list": an unknown name, or one the caller may not read, looks the same.
 */
export async function libraryFilter(
  users: Collection<UserDoc>,
  user: AuthUser,
  ownerName: string | undefined,
): Promise<Filter<VideoDoc> | null> {
  if (!ownerName) return visibleVideoFilter(user);
  const owner = await users.findOne({ username: ownerName.trim().toLowerCase() }, { projection: { _id: 1 } });
  if (!owner) return null;
  const readable = user.role === 'admin' || [user.id, ...(user.role === 'coach' ? user.riders : [])].some((id) => id?.equals(owner._id));
  return readable ? { ownerId: owner._id } : null;
}
