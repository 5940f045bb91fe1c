/**
 * In-memory LRU of revocation answers, keyed by (issuer key hash, serial), each held for the validity
 * window of the response that gave it (RFC 5019 §4 caching until nextUpdate), and at most `maxAgeMs` of wall
 * time after it was fetched: CRLs and OCSP answers often run for days, and a bank wants a revocation seen
 * within its own bound. Failed sources are remembered for a short wall-clock TTL so a dead responder is not
 * asked again on every validation.
 */

export interface CachedRevocation {
  status: 'good' | 'revoked' | 'unknown';
  source: 'ocsp' | 'crl';
  revokedAt?: string;
  reason?: string;
  /** The URL that gave the answer, for messages. */
  location?: string;
  thisUpdate: Date;
  nextUpdate: Date;
}

export interface RevocationCache {
  /** The answer for `key` if its window covers the validation time: thisUpdate - skewMs <= at < nextUpdate. */
  get(key: string, at: Date, skewMs?: number): CachedRevocation | null;
  set(key: string, entry: CachedRevocation): void;
  /** Why `source` (a URL) failed, if it failed within the negative TTL; wall clock, not the validation time. */
  getFailure(source: string): string | null;
  setFailure(source: string, why: string): void;
  clear(): void;
  readonly size: number;
}

export interface RevocationCacheOptions {
  maxEntries: number;
  /** How long a failed source is skipped. Default 60 s. */
  negativeTtlMs?: number;
  /** How long an answer is reused after it was stored, whatever its nextUpdate (wall time). Default: no limit. */
  maxAgeMs?: number;
  /** Wall clock for the negative TTL and the maximum age (tests). */
  now?: () => number;
}

type Slot =
  | { kind: 'answer'; entry: CachedRevocation; storedAt: number }
  | { kind: 'failure'; why: string; until: number };

export function createRevocationCache(opts: RevocationCacheOptions): RevocationCache {
  const max = Math.max(1, Math.floor(opts.maxEntries));
  const ttl = opts.negativeTtlMs ?? 60_000;
  const maxAge = opts.maxAgeMs ?? Infinity;
  const now = opts.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const slots = new Map<string, Slot>();

  function touch(key: string, slot: Slot): void {
    slots.delete(key);
    slots.set(key, slot);
    while (slots.size > max) {
      const oldest = slots.keys().next().value;
      if (oldest === undefined) break;
      slots.delete(oldest);
    }
  }

  return {
    get(key, at, skewMs = 0) {
      const slot = slots.get(`a:${key}`);
      if (slot?.kind !== 'answer') return null;
      const t = at.getTime();
      const { entry } = slot;
      if (now() - slot.storedAt >= maxAge) {
        slots.delete(`a:${key}`);
        return null;
      }
      if (t < entry.thisUpdate.getTime() - skewMs || t >= entry.nextUpdate.getTime()) return null;
      touch(`a:${key}`, slot);
      return { ...entry };
    },
    set(key, entry) {
      touch(`a:${key}`, { kind: 'answer', entry: { ...entry }, storedAt: now() });
    },
    getFailure(source) {
      const slot = slots.get(`f:${source}`);
      if (slot?.kind !== 'failure') return null;
      if (now() >= slot.until) {
        slots.delete(`f:${source}`);
        return null;
      }
      return slot.why;
    },
    setFailure(source, why) {
      if (ttl <= 0) return;
      touch(`f:${source}`, { kind: 'failure', why, until: now() + ttl });
    },
    clear() {
      slots.clear();
    },
    get size() {
      return slots.size;
    },
  };
}
