/**
 * Write transactions over the one SQLite connection, with an async signature so that a PostgreSQL
 * implementation can keep the same shape. Writers are serialised by an async mutex; a nested `run` (a
 * service calling another service) becomes a SAVEPOINT of the outer transaction, found through
 * AsyncLocalStorage rather than passed around.
 *
 * Rule for callers: no network or slow I/O inside `run`. Validate certificates, fetch OCSP, write files
 * first; then write rows and their audit events in one `run`. The connection is shared, so a transaction
 * kept open across real I/O would let other requests' statements join it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db } from './database.js';

export interface Transactor {
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** True inside `run` (used by services that must only be called inside a transaction). */
  active(): boolean;
}

export function createTransactor(db: Db): Transactor {
  const context = new AsyncLocalStorage<{ savepoints: number }>();
  let tail: Promise<void> = Promise.resolve();

  async function nested<T>(ctx: { savepoints: number }, fn: () => Promise<T>): Promise<T> {
    const name = `sp_${++ctx.savepoints}`;
    db.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn();
      db.exec(`RELEASE ${name}`);
      return result;
    } catch (err) {
      db.exec(`ROLLBACK TO ${name}`);
      db.exec(`RELEASE ${name}`);
      throw err;
    }
  }

  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      const ctx = context.getStore();
      if (ctx) return nested(ctx, fn);
      let release!: () => void;
      const previous = tail;
      tail = new Promise<void>((resolve) => {
        release = resolve;
      });
      await previous;
      try {
        // IMMEDIATE takes the write lock up front: another process (a CLI import) waits on busy_timeout
        // instead of failing half-way with SQLITE_BUSY on the first write.
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await context.run({ savepoints: 0 }, fn);
          db.exec('COMMIT');
          return result;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      } finally {
        release();
      }
    },
    active() {
      return context.getStore() !== undefined;
    },
  };
}
