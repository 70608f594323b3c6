import type { ObjectId } from 'mongodb';
import { HttpError } from '../errors.js';
import type { AuthCollections } from './store.js';

/*
 * Sign-in throttling, kept in MongoDB so every API process counts the same attempts. Each attempt is written
 * *before* the password is checked and counted with everything else in the window, so a burst of parallel guesses
 * cannot all slip past a count taken before any of them was recorded; a successful sign-in removes its own records,
 * so only failures (and attempts still in flight) count. The window slides: Retry-After says when the oldest
 * counted attempt leaves it.
 */

export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_ACCOUNT = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;

export interface AttemptTicket {
  ids: ObjectId[];
}

/** The client address as one string (IPv4-mapped IPv6 written as plain IPv4). */
export function normaliseAddress(ip: string | undefined): string {
  const a = (ip ?? 'unknown').toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export class LoginLimiter {
  constructor(
    private readonly c: AuthCollections,
    private readonly windowMs = LOGIN_WINDOW_MS,
  ) {}

  /** Records an attempt for this account and address, or throws 429 too_many_attempts (nothing recorded then). */
  async begin(username: string, address: string): Promise<AttemptTicket> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.windowMs);
    const limits = [
      { key: `user:${username}`, max: MAX_FAILURES_PER_ACCOUNT },
      { key: `addr:${address}`, max: MAX_FAILURES_PER_ADDRESS },
    ];
    const inserted = await this.c.loginAttempts.insertMany(limits.map(({ key }) => ({ key, at: now, expiresAt })));
    const ticket = { ids: Object.values(inserted.insertedIds) };
    const since = new Date(now.getTime() - this.windowMs);
    let retryAfterS = 0;
    for (const { key, max } of limits) {
      // Counted with this attempt included: more than `max` means `max` others are already in the window.
      const count = await this.c.loginAttempts.countDocuments({ key, at: { $gt: since } });
      if (count <= max) continue;
      const oldest = await this.c.loginAttempts.find({ key, at: { $gt: since } }).sort({ at: 1 }).limit(1).next();
      const freeAt = (oldest?.at.getTime() ?? now.getTime()) + this.windowMs;
      retryAfterS = Math.max(retryAfterS, Math.ceil((freeAt - now.getTime()) / 1000), 1);
    }
    if (retryAfterS > 0) {
      await this.forget(ticket);
      throw new HttpError(
        429,
        'too_many_attempts',
        `too many failed sign-ins; try again in ${formatWait(retryAfterS)}`,
        { 'Retry-After': String(retryAfterS) },
      );
    }
    return ticket;
  }

  /** A successful sign-in: its attempt does not count. (A failure keeps its records until they age out.) */
  async forget(ticket: AttemptTicket): Promise<void> {
    await this.c.loginAttempts.deleteMany({ _id: { $in: ticket.ids } });
  }
}

function formatWait(seconds: number): string {
  return seconds < 90 ? `${seconds} s` : `${Math.ceil(seconds / 60)} minutes`;
}
