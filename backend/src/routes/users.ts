import { Router } from 'express';
import type { ObjectId } from 'mongodb';
import type { AppDeps } from '../deps.js';
import { HttpError, badRequest, notFound } from '../errors.js';
import { parseId } from '../ids.js';
import { readQuery } from '../query.js';
import { leaveAdminRole } from '../auth/adminExit.js';
import { requireAdmin, userOf } from '../auth/gate.js';
import { generatePassword, hashPassword, requireAcceptablePassword } from '../auth/passwords.js';
import { USER_ROLES, authCollections, isDuplicateKey, type UserDoc, type UserRole } from '../auth/store.js';
import { requireUsername, toUserJson } from '../auth/users.js';
import { jsonBody, noStore } from './session.js';

/** Account management (docs/contracts.md, "Accounts, sessions and sharing"): admins only. */
export function usersRouter(deps: AppDeps): Router {
  const router = Router();
  const c = authCollections(deps.db.db);
  const { videos } = deps.db.collections;
  router.use(requireAdmin, noStore);

  function requireRole(value: unknown): UserRole {
    if (typeof value !== 'string' || !(USER_ROLES as readonly string[]).includes(value)) {
      throw badRequest('invalid_field', `\`role\` must be one of ${USER_ROLES.join(', ')}`);
    }
    return value as UserRole;
  }

  /** Rider names → ids; every name must be an existing rider. */
  async function requireRiders(value: unknown): Promise<ObjectId[]> {
    if (!Array.isArray(value) || value.length > 500) throw badRequest('invalid_field', '`riders` must be a list of rider user names');
    const names = [...new Set(value.map((v) => requireUsername(v, 'riders[]')))];
    const found = names.length ? await c.users.find({ username: { $in: names }, role: 'rider' }).toArray() : [];
    const missing = names.filter((n) => !found.some((u) => u.username === n));
    if (missing.length) throw badRequest('unknown_rider', `no rider named ${missing.slice(0, 5).join(', ')}`);
    return found.map((u) => u._id);
  }

  async function loadUser(rawId: unknown): Promise<UserDoc> {
    const user = await c.users.findOne({ _id: parseId(rawId, 'user') });
    if (!user) throw notFound('user');
    return user;
  }

  router.get('/', async (_req, res) => {
    const users = await c.users.find({}).sort({ username: 1 }).toArray();
    res.json({ items: await Promise.all(users.map((u) => toUserJson(c.users, u))) });
  });

  router.post('/', jsonBody, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const username = requireUsername(body.username);
    const role = requireRole(body.role);
    const password = body.password === undefined || body.password === null ? generatePassword() : requireAcceptablePassword(body.password, 'password');
    if (body.riders !== undefined && role !== 'coach') throw badRequest('invalid_field', 'only a coach has `riders`');
    const riders = body.riders === undefined ? [] : await requireRiders(body.riders);
    const now = new Date();
    const doc: Omit<UserDoc, '_id'> = { username, role, passwordHash: await hashPassword(password), riders, createdAt: now, passwordChangedAt: now };
    try {
      const { insertedId } = await c.users.insertOne(doc as UserDoc);
      res.status(201).json({ user: await toUserJson(c.users, { ...doc, _id: insertedId }), password });
    } catch (err) {
      if (isDuplicateKey(err)) throw new HttpError(409, 'username_taken', `a user named ${username} already exists`);
      throw err;
    }
  });

  router.patch('/:id', jsonBody, async (req, res) => {
    const user = await loadUser(req.params.id);
    const body = req.body as Record<string, unknown>;
    const unknown = Object.keys(body).find((k) => k !== 'role' && k !== 'riders');
    if (unknown) throw badRequest('invalid_field', `unknown field \`${unknown}\`; send role and/or riders`);
    const role = body.role === undefined ? user.role : requireRole(body.role);
    if (body.riders !== undefined && role !== 'coach') throw badRequest('invalid_field', 'only a coach has `riders`');
    const riders = role !== 'coach' ? [] : body.riders === undefined ? user.riders : await requireRiders(body.riders);
    const write = () => c.users.updateOne({ _id: user._id }, { $set: { role, riders } });
    // Demoting an admin: only while another admin stays, also against a concurrent demotion (auth/adminExit.ts).
    await (role === 'admin' ? write() : leaveAdminRole(c.users, user, write));
    // A former rider leaves every coach's list (coaches read riders' videos only).
    if (user.role === 'rider' && role !== 'rider') await c.users.updateMany({ riders: user._id }, { $pull: { riders: user._id } });
    res.json(await toUserJson(c.users, { ...user, role, riders }));
  });

  /** A new password (given, or generated and shown once); every session of that user ends. */
  router.post('/:id/password', jsonBody, async (req, res) => {
    const user = await loadUser(req.params.id);
    const given = (req.body as Record<string, unknown>).password;
    const password = given === undefined || given === null ? generatePassword() : requireAcceptablePassword(given, 'password');
    await c.users.updateOne({ _id: user._id }, { $set: { passwordHash: await hashPassword(password), passwordChangedAt: new Date() } });
    await c.sessions.deleteMany({ userId: user._id });
    res.json({ password });
  });

  /** Refused (409 owns_videos) while they own videos, unless ?videos=transfer gives those to the deleting admin. */
  router.delete('/:id', async (req, res) => {
    const q = readQuery(req.query, ['videos'] as const);
    if (q.videos !== undefined && q.videos !== 'transfer') throw badRequest('invalid_query', '`videos` can only be `transfer`');
    const user = await loadUser(req.params.id);
    // Removing an admin: only while another admin stays, also against a concurrent removal (auth/adminExit.ts).
    await leaveAdminRole(c.users, user, async () => {
      const owned = await videos.countDocuments({ ownerId: user._id });
      if (owned > 0 && q.videos !== 'transfer') {
        throw new HttpError(409, 'owns_videos', `${user.username} owns ${owned} video(s); delete them or pass ?videos=transfer to take them over`);
      }
      // While sign-in is off the deleting "admin" has no account: the videos become owner-less, and the next start
      // gives them to the first admin.
      const heir = userOf(req).id;
      if (owned > 0) {
        await videos.updateMany({ ownerId: user._id }, { $set: { ownerId: heir } });
        await c.shares.updateMany({ ownerId: user._id }, { $set: { ownerId: heir } });
      }
      await c.sessions.deleteMany({ userId: user._id });
      await c.users.updateMany({ riders: user._id }, { $pull: { riders: user._id } });
      await c.users.deleteOne({ _id: user._id });
    });
    res.status(204).end();
  });

  return router;
}
