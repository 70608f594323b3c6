import assert from 'node:assert/strict';
import { parse } from 'node:querystring';
import { describe, it } from 'node:test';
import { HttpError } from '../src/errors.js';
import { readContractQuery } from '../src/queryContract.js';

/*
 * Query contracts (src/queryContract.ts): GET …/metrics reads its query against docs/schemas/api-metrics-query.schema.json,
 * the file the web e2e API double validates too. The 400 details are the ones readQuery/oneOf gave before (the
 * real-HTTP answers are in metrics-summary.test.ts); queries parsed as the app parses them (querystring, 'simple').
 */

/** The 400 detail for this query string, or null when it is accepted. */
function refusal(qs: string): string | null {
  try {
    readContractQuery('api-metrics-query', parse(qs));
    return null;
  } catch (err) {
    assert.ok(err instanceof HttpError && err.status === 400 && err.code === 'invalid_query', String(err));
    return err.message;
  }
}

describe('query contracts: the metrics query', () => {
  it('takes series 0, 1, empty or nothing, and hands the values through', () => {
    for (const qs of ['series=0', 'series=1', 'series=', '']) assert.equal(refusal(qs), null, qs);
    assert.deepEqual({ ...readContractQuery('api-metrics-query', parse('series=0')) }, { series: '0' });
    assert.deepEqual({ ...readContractQuery('api-metrics-query', undefined) }, {});
  });

  it('refuses any other value, a repeated or unknown parameter, with the line readQuery/oneOf gave', () => {
    const cases: [string, string][] = [
      ['series=2', '`series` must be one of 0, 1'],
      ['series=%20', '`series` must be one of 0, 1'],
      ['series=0&series=1', 'query parameter `series` must be given once, as a plain value'],
      ['serie=0', 'unknown query parameter `serie`; allowed: series'],
      ['series[$ne]=1', 'unknown query parameter `series[$ne]`; allowed: series'],
      ['SERIES=0', 'unknown query parameter `SERIES`; allowed: series'],
      // Two faults: the parameter faults first, in the query's order; a bad value only after them.
      ['series=2&from=1', 'unknown query parameter `from`; allowed: series'],
      ['series=0&series=1&from=1', 'query parameter `series` must be given once, as a plain value'],
      ['from=1&series=0&series=1', 'unknown query parameter `from`; allowed: series'],
      ['a%2Fb=1', 'unknown query parameter `a/b`; allowed: series'],
    ];
    for (const [qs, detail] of cases) assert.equal(refusal(qs), detail, qs);
  });
});
