import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchedLookup, FreshSingleFlight } from '../src/coalesce.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('coalesced reads', () => {
  it('shares one read among requests that arrive while another runs, and never joins a read that started earlier', async () => {
    const flight = new FreshSingleFlight<number>();
    let value = 0;
    let loads = 0;
    const load = async () => {
      loads++;
      const seen = value;
      await tick(20);
      return seen;
    };
    const first = flight.run('k', load); // starts at once, sees 0
    await tick(1);
    value = 1; // a write lands after the first read started
    const later = Array.from({ length: 50 }, () => flight.run('k', load));
    assert.equal(await first, 0);
    assert.deepEqual(new Set(await Promise.all(later)), new Set([1]), 'requests after the write see it');
    assert.equal(loads, 2, '51 requests, 2 reads');
    assert.equal(await flight.run('other', async () => 7), 7, 'keys are independent');
  });

  it('passes a failed read to its callers and recovers on the next', async () => {
    const flight = new FreshSingleFlight<number>();
    await assert.rejects(flight.run('k', async () => Promise.reject(new Error('db down'))), /db down/);
    assert.equal(await flight.run('k', async () => 3), 3);
  });

  it('batches lookups by id into one query per round, with misses as null', async () => {
    const queries: string[][] = [];
    const lookup = new BatchedLookup<string>(async (ids) => {
      queries.push(ids);
      await tick(10);
      return new Map(ids.filter((id) => id !== 'missing').map((id) => [id, `job ${id}`]));
    });
    const round1 = ['a', 'b', 'a', 'missing'].map((id) => lookup.get(id));
    await tick(2);
    const round2 = ['c', 'd', 'c'].map((id) => lookup.get(id)); // arrive while round 1 runs
    assert.deepEqual(await Promise.all(round1), ['job a', 'job b', 'job a', null]);
    assert.deepEqual(await Promise.all(round2), ['job c', 'job d', 'job c']);
    assert.deepEqual(queries, [['a', 'b', 'missing'], ['c', 'd']]);
  });
});
