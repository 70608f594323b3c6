import { ObjectId, type Collection } from 'mongodb';
import type { AuthConfig } from '../config.js';
import type { VideoDoc } from '../db.js';
import { hashPassword } from './passwords.js';
import { type AuthCollections, type UserDoc, isDuplicateKey } from './store.js';

/**
 * Creates the first admin (ADMIN_USERNAME, password from ADMIN_PASSWORD_FILE) when no user of that name exists;
 * an existing account's password is never overwritten. Several API processes may race here: the unique user-name
 * index lets exactly one insert win.
 */
export async function ensureFirstAdmin(c: AuthCollections, config: AuthConfig, log: (msg: string) => void): Promise<void> {
  if (await c.users.findOne({ username: config.adminUsername }, { projection: { _id: 1 } })) return;
  if (config.adminPassword === null) {
    if (!(await c.users.findOne({ role: 'admin' }, { projection: { _id: 1 } }))) {
      log(`no admin account exists and no ADMIN_PASSWORD_FILE is set: nobody can sign in until one is (ADMIN_USERNAME=${config.adminUsername})`);
    }
    return;
  }
  const now = new Date();
  try {
    await c.users.insertOne({
      _id: new ObjectId(),
      username: config.adminUsername,
      role: 'admin',
      passwordHash: await hashPassword(config.adminPassword),
      riders: [],
      createdAt: now,
      passwordChangedAt: now,
    });
    log(`created the admin account ${config.adminUsername}`);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/** The admin that owner-less videos go to: ADMIN_USERNAME if that is an admin, else the oldest admin. */
export async function firstAdmin(c: AuthCollections, config: AuthConfig): Promise<UserDoc | null> {
  const named = await c.users.findOne({ username: config.adminUsername, role: 'admin' });
  return named ?? (await c.users.find({ role: 'admin' }).sort({ createdAt: 1, _id: 1 }).limit(1).next());
}

/**
 * Videos stored before accounts existed (or while sign-in was off) have no owner: they go to the first admin,
 * whole (only `ownerId` is set; jobs, frames, metrics and files are keyed by the video id and stay as they are).
 * Returns how many were given.
 */
export async function adoptOwnerlessVideos(c: AuthCollections, videos: Collection<VideoDoc>, config: AuthConfig, log: (msg: string) => void): Promise<number> {
  const admin = await firstAdmin(c, config);
  if (!admin) return 0;
  const result = await videos.updateMany({ $or: [{ ownerId: { $exists: false } }, { ownerId: null }] }, { $set: { ownerId: admin._id } });
  if (result.modifiedCount > 0) log(`gave ${result.modifiedCount} video(s) without an owner to the admin ${admin.username}`);
  return result.modifiedCount;
}
