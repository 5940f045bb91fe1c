import assert from 'node:assert/strict';
import { type CachedRevocation, createRevocationCache } from '../../../src/eidas/revocation/cache.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const H = 3600_000;

function entry(from: number, to: number): CachedRevocation {
  return { status: 'good', source: 'ocsp', thisUpdate: new Date(T0.getTime() + from), nextUpdate: new Date(T0.getTime() + to) };
}

describe('revocation/cache', () => {
  it('answers only when thisUpdate <= at < nextUpdate', () => {
    const c = createRevocationCache({ maxEntries: 10 });
    c.set('k', entry(0, H));
    assert.equal(c.get('k', new Date(T0.getTime() - 1)), null);
    assert.equal(c.get('k', T0)?.status, 'good');
    assert.equal(c.get('k', new Date(T0.getTime() + H - 1))?.status, 'good');
    assert.equal(c.get('k', new Date(T0.getTime() + H)), null);
    // The skew allowance applies to thisUpdate only.
    assert.equal(c.get('k', new Date(T0.getTime() - 1000), 5000)?.status, 'good');
    assert.equal(c.get('other', T0), null);
  });

  it('reuses an answer at most maxAgeMs of wall time after storing it, even inside its nextUpdate window', () => {
    let now = 5_000_000;
    const c = createRevocationCache({ maxEntries: 10, maxAgeMs: H, now: () => now });
    c.set('k', entry(0, 7 * 24 * H)); // a CRL valid for a week
    now += H - 1;
    assert.equal(c.get('k', T0)?.status, 'good');
    now += 1;
    assert.equal(c.get('k', T0), null, 'an hour after it was fetched it is asked again');
    assert.equal(c.size, 0, 'and the stale answer is gone');
    c.set('k', entry(0, 7 * 24 * H));
    assert.equal(c.get('k', T0)?.status, 'good', 'a fresh answer starts its own hour');
  });

  it('maxAgeMs 0 never reuses an answer; no maxAgeMs keeps it for its whole window', () => {
    const never = createRevocationCache({ maxEntries: 10, maxAgeMs: 0 });
    never.set('k', entry(0, H));
    assert.equal(never.get('k', T0), null);
    let now = 0;
    const window = createRevocationCache({ maxEntries: 10, now: () => now });
    window.set('k', entry(0, H));
    now += 365 * 24 * H;
    assert.equal(window.get('k', new Date(T0.getTime() + H - 1))?.status, 'good');
  });

  it('evicts the least recently used entry', () => {
    const c = createRevocationCache({ maxEntries: 2 });
    c.set('a', entry(0, H));
    c.set('b', entry(0, H));
    assert.ok(c.get('a', T0));
    c.set('c', entry(0, H));
    assert.equal(c.size, 2);
    assert.ok(c.get('a', T0));
    assert.equal(c.get('b', T0), null);
    assert.ok(c.get('c', T0));
  });

  it('remembers a failed source for the negative TTL of wall time', () => {
    let now = 1_000_000;
    const c = createRevocationCache({ maxEntries: 10, negativeTtlMs: 60_000, now: () => now });
    assert.equal(c.getFailure('http://ocsp.example/'), null);
    c.setFailure('http://ocsp.example/', 'timeout');
    now += 59_999;
    assert.equal(c.getFailure('http://ocsp.example/'), 'timeout');
    now += 1;
    assert.equal(c.getFailure('http://ocsp.example/'), null);
    c.clear();
    assert.equal(c.size, 0);
  });
});
