import type { Collection, Db, ObjectId } from 'mongodb';
import type { VideoDoc } from '../db.js';

export type UserRole = 'rider' | 'coach' | 'admin';
export const USER_ROLES: readonly UserRole[] = ['rider', 'coach', 'admin'];

export interface UserDoc {
  _id: ObjectId;
  /** Lower case, 3-32 of [a-z0-9._-]; unique. */
  username: string;
  role: UserRole;
  /** argon2id, PHC string format (see passwords.ts). */
  passwordHash: string;
  /** The riders a coach may read; empty for other roles. */
  riders: ObjectId[];
  createdAt: Date;
  passwordChangedAt: Date;
  /** Set only while a request demotes or removes this admin (adminExit.ts); never returned. */
  adminExit?: { token: string; at: Date };
}

export interface SessionDoc {
  /** sha256(cookie token) in hex: a database leak gives no usable cookie. */
  _id: string;
  userId: ObjectId;
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
}

/** One failed (or in-flight) sign-in, counted per account and per client address. */
export interface LoginAttemptDoc {
  _id?: ObjectId;
  key: string;
  at: Date;
  /** For MongoDB's TTL monitor; the limiter itself filters by `at`. */
  expiresAt: Date;
}

export interface ShareDoc {
  /** sha256(token) in hex; the raw token is shown once, at creation. */
  _id: string;
  /** The token's first characters, so an owner can tell links apart without the token being stored. */
  prefix: string;
  videoId: ObjectId;
  ownerId: ObjectId | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface AuthCollections {
  users: Collection<UserDoc>;
  sessions: Collection<SessionDoc>;
  loginAttempts: Collection<LoginAttemptDoc>;
  shares: Collection<ShareDoc>;
}

/** The auth collections of a database (no I/O). */
export function authCollections(db: Db): AuthCollections {
  return {
    users: db.collection<UserDoc>('users'),
    sessions: db.collection<SessionDoc>('sessions'),
    loginAttempts: db.collection<LoginAttemptDoc>('login_attempts'),
    shares: db.collection<ShareDoc>('shares'),
  };
}

/** Indexes the auth queries rely on; idempotent, run at start-up. */
export async function ensureAuthIndexes(c: AuthCollections, videos: Collection<VideoDoc>): Promise<void> {
  await Promise.all([
    c.users.createIndex({ username: 1 }, { unique: true }),
    c.users.createIndex({ role: 1 }),
    c.sessions.createIndex({ userId: 1 }),
    c.sessions.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 }),
    c.loginAttempts.createIndex({ key: 1, at: 1 }),
    c.loginAttempts.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 }),
    c.shares.createIndex({ videoId: 1 }),
    videos.createIndex({ ownerId: 1, createdAt: -1, _id: -1 }),
  ]);
}

/** MongoDB's duplicate-key error (a unique index refused the write). */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}
