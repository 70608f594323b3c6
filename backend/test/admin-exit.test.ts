import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import type request from 'supertest';
import { ADMIN_EXIT_STALE_MS } from '../src/auth/adminExit.js';
import { authCollections } from '../src/auth/store.js';
import { clientFor, signIn, startHarness, type Client, type Harness } from './support/harness.js';

/*
 * The last admin stays, also when two admins are taken out at the same instant (src/auth/adminExit.ts). The
 * requests are fired together at the real API, half of them through a second API process-equivalent (its own
 * server and MongoDB client), against SecantusDB; every round must end with exactly one admin and one 409.
 * With the old count-then-write check, both requests of a round succeeded (no admin left) in most rounds.
 */

const ROUNDS = 6;
const LOSER = new Set(['409 last_admin', '403 forbidden', '401 unauthenticated']);

describe('the last admin, under concurrent demotion and removal', () => {
  let h: Harness;
  let otherUrl: string;
  let n = 0;
  before(async () => {
    h = await startHarness();
    otherUrl = `http://127.0.0.1:${(await h.startAnotherApi()).port}`;
  });
  after(async () => {
    await h?.close();
  });

  const users = () => authCollections(h.api.db.db).users;
  const adminNames = async () => (await users().find({ role: 'admin' }).toArray()).map((u) => u.username).sort();

  /** A second admin besides `by`, signed in on the other API process. */
  async function newAdmin(by: Client): Promise<{ id: string; http: Client; username: string }> {
    const username = `admin-x${++n}`;
    const res = await by.post('/api/users').send({ username, role: 'admin' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const session = await signIn(otherUrl, username, res.body.password);
    return { id: res.body.user.id, http: clientFor(otherUrl, session), username };
  }

  /** The one admin there is between rounds, signed in (the harness's admin until a race removes it). */
  let current: { id: string; http: Client; username: string };

  /** ROUNDS races between the current admin and a fresh second one: each must leave exactly one admin. */
  async function race(
    label: string,
    fire: (a: { id: string; http: Client }, b: { id: string; http: Client }) => [Promise<request.Response>, Promise<request.Response>],
  ) {
    current ??= { id: h.session.user.id, http: h.http, username: 'admin' };
    let overlapped = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const second = await newAdmin(current.http);
      const answers = await Promise.all(fire(current, second));
      const left = await adminNames();
      const said = answers.map((r) => `${r.status} ${JSON.stringify(r.body)}`).join(' | ');
      assert.equal(left.length, 1, `${label} round ${round}: admins left ${JSON.stringify(left)}; answers ${said}`);
      // One wins; the other is refused: 409 last_admin when the two overlapped, else (it came second) its sender is
      // no admin any more (403 forbidden) or no user at all (401).
      const won = answers.filter((r) => r.status === 200 || r.status === 204);
      const lost = answers.filter((r) => LOSER.has(`${r.status} ${r.body?.error}`));
      assert.ok(won.length === 1 && lost.length === 1, `${label} round ${round}: ${said}`);
      if (lost[0]!.status === 409) overlapped++;
      current = left[0] === second.username ? second : current;
    }
    console.log(`${label}: ${overlapped} of ${ROUNDS} rounds overlapped (409 last_admin), the others ran one after the other`);
    // No request leaves its mark behind.
    assert.equal(await users().countDocuments({ adminExit: { $exists: true } }), 0);
  }

  it('two admins demoting each other at once: one is demoted, the other gets 409 last_admin', async () => {
    await race('demote', (a, b) => [a.http.patch(`/api/users/${b.id}`).send({ role: 'rider' }), b.http.patch(`/api/users/${a.id}`).send({ role: 'coach' })]);
  });

  it('two admins removing each other, or one removing itself while the other steps down: one admin stays', async () => {
    await race('delete', (a, b) => [a.http.delete(`/api/users/${b.id}`), b.http.delete(`/api/users/${a.id}`)]);
    await race('mixed', (a, b) => [b.http.delete(`/api/users/${b.id}`), a.http.patch(`/api/users/${a.id}`).send({ role: 'rider' })]);
  });

  it('counts an admin marked as leaving as gone, and a mark left by a dead request only until it is stale', async () => {
    const survivor = current;
    const survivorId = ObjectId.createFromHexString(survivor.id);
    const me = await newAdmin(survivor.http);
    // The survivor is being taken out by a request in flight right now (its mark is fresh): `me` must stay.
    await users().updateOne({ _id: survivorId }, { $set: { adminExit: { token: 'in-flight', at: new Date() } } });
    const started = Date.now();
    const refused = await me.http.patch(`/api/users/${me.id}`).send({ role: 'rider' });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'last_admin');
    assert.match(refused.body.detail, /at this moment/);
    assert.ok(Date.now() - started < 10_000, `gave up after ${Date.now() - started} ms`);
    assert.deepEqual(await adminNames(), [me.username, survivor.username].sort());
    // The request that marked it died long ago: the mark no longer counts, the survivor stays an admin, `me` may go.
    await users().updateOne({ _id: survivorId }, { $set: { 'adminExit.at': new Date(Date.now() - ADMIN_EXIT_STALE_MS - 1000) } });
    assert.equal((await me.http.patch(`/api/users/${me.id}`).send({ role: 'rider' })).status, 200);
    assert.deepEqual(await adminNames(), [survivor.username]);
    // The last admin alone is refused for good, at once; the mark is internal and never in the account JSON.
    await users().updateOne({ _id: survivorId }, { $unset: { adminExit: '' } });
    const res = await survivor.http.delete(`/api/users/${survivor.id}`);
    assert.equal(res.status, 409);
    assert.equal(res.body.detail, 'this is the last admin account; make another admin first');
    const list = await survivor.http.get('/api/users');
    assert.equal(list.status, 200);
    assert.ok(!JSON.stringify(list.body).includes('adminExit'));
  });
});
