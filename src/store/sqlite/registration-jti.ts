/**
 * SQLite replay store for registration requests (`registration_jtis`, migrations/0008_registration_jti.sql).
 * Writes go through the transactor so that they never land inside another request's open transaction on
 * the shared connection. Expired rows are purged on the way (a purge is one indexed DELETE).
 */
import type { RegistrationJtiStore } from '../../registration/jti.js';
import type { Db } from '../database.js';
import type { Transactor } from '../transaction.js';

export function createSqliteRegistrationJtiStore(db: Db, tx: Transactor): RegistrationJtiStore {
  const purge = db.prepare('DELETE FROM registration_jtis WHERE expires_at <= ?');
  const insert = db.prepare(
    'INSERT INTO registration_jtis (issuer, jti, expires_at, used_at) VALUES (?, ?, ?, ?) ON CONFLICT (issuer, jti) DO NOTHING',
  );
  return {
    use(issuer, jti, expiresAt, now) {
      return tx.run(async () => {
        // Expired first: a jti whose earlier request has expired may be used again (that request no longer can).
        purge.run(now.getTime());
        return insert.run(issuer, jti, expiresAt.getTime(), now.toISOString()).changes === 1;
      });
    },
  };
}
