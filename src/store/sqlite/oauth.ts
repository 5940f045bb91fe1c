/** better-sqlite3 implementation of the oauth repository (table in migrations/0006_oauth.sql). */
import type { OAuthPayload, OAuthRepository } from '../../oauth/repository.js';
import type { Db } from '../database.js';

interface Row {
  payload: string;
  consumed_at: number | null;
  created_at?: number;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function hydrate(row: Row | undefined): OAuthPayload | undefined {
  if (!row) return undefined;
  const payload = JSON.parse(row.payload) as OAuthPayload;
  if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
  // oidc-provider answers client_id_issued_at at registration but does not store it: the row's time is the same.
  if (row.created_at !== undefined && payload.client_id_issued_at === undefined) {
    payload.client_id_issued_at = Math.floor(row.created_at / 1000);
  }
  return payload;
}

/** Models that are credentials or pending steps of a client (what suspension and deletion remove). */
const CLIENT_TOKENS = [
  'AccessToken',
  'ClientCredentials',
  'RefreshToken',
  'AuthorizationCode',
  'Grant',
  'PushedAuthorizationRequest',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
];

export function createSqliteOAuthRepository(db: Db): OAuthRepository {
  const live = '(expires_at IS NULL OR expires_at > ?)';
  const stmts = {
    upsert: db.prepare(
      `INSERT INTO oauth_models (model, id, payload, grant_id, user_code, uid, client_id, expires_at, consumed_at, created_at)
       VALUES (@model, @id, @payload, @grant_id, @user_code, @uid, @client_id, @expires_at, NULL, @created_at)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
         user_code = excluded.user_code, uid = excluded.uid, client_id = excluded.client_id, expires_at = excluded.expires_at`,
    ),
    find: db.prepare(`SELECT payload, consumed_at FROM oauth_models WHERE model = ? AND id = ? AND ${live}`),
    findByUid: db.prepare(`SELECT payload, consumed_at FROM oauth_models WHERE model = ? AND uid = ? AND ${live}`),
    findByUserCode: db.prepare(`SELECT payload, consumed_at FROM oauth_models WHERE model = ? AND user_code = ? AND ${live}`),
    consume: db.prepare('UPDATE oauth_models SET consumed_at = ? WHERE model = ? AND id = ? AND consumed_at IS NULL'),
    destroy: db.prepare('DELETE FROM oauth_models WHERE model = ? AND id = ?'),
    revokeGrant: db.prepare('DELETE FROM oauth_models WHERE grant_id = ?'),
    revokeClientTokens: db.prepare(
      `DELETE FROM oauth_models WHERE client_id = ? AND model IN (${CLIENT_TOKENS.map(() => '?').join(', ')})`,
    ),
    destroyClient: db.prepare(`DELETE FROM oauth_models WHERE client_id = ?`),
    revokeByThumbprint: db.prepare(
      `DELETE FROM oauth_models WHERE model IN ('AccessToken', 'ClientCredentials', 'RefreshToken')
         AND json_extract(payload, '$."x5t#S256"') = ?`,
    ),
    clientsWhere: {
      org_id: db.prepare(`SELECT payload, NULL AS consumed_at, created_at FROM oauth_models WHERE model = 'Client' AND json_extract(payload, '$.org_id') = ? ORDER BY created_at`),
      partner_id: db.prepare(`SELECT payload, NULL AS consumed_at, created_at FROM oauth_models WHERE model = 'Client' AND json_extract(payload, '$.partner_id') = ? ORDER BY created_at`),
      software_id: db.prepare(`SELECT payload, NULL AS consumed_at, created_at FROM oauth_models WHERE model = 'Client' AND json_extract(payload, '$.software_id') = ? ORDER BY created_at`),
    },
    listClients: db.prepare(`SELECT payload, NULL AS consumed_at, created_at FROM oauth_models WHERE model = 'Client' ORDER BY created_at`),
    prune: db.prepare('DELETE FROM oauth_models WHERE expires_at IS NOT NULL AND expires_at <= ?'),
  };

  return {
    async upsert(model, id, payload, expiresAt) {
      stmts.upsert.run({
        model,
        id,
        payload: JSON.stringify(payload),
        grant_id: str(payload.grantId),
        user_code: str(payload.userCode),
        uid: str(payload.uid),
        client_id: model === 'Client' ? id : str(payload.clientId),
        expires_at: expiresAt,
        created_at: Date.now(),
      });
    },
    async find(model, id, now) {
      return hydrate(stmts.find.get(model, id, now) as Row | undefined);
    },
    async findByUid(model, uid, now) {
      return hydrate(stmts.findByUid.get(model, uid, now) as Row | undefined);
    },
    async findByUserCode(model, userCode, now) {
      return hydrate(stmts.findByUserCode.get(model, userCode, now) as Row | undefined);
    },
    async consume(model, id, now) {
      stmts.consume.run(now, model, id);
    },
    async destroy(model, id) {
      stmts.destroy.run(model, id);
    },
    async revokeByGrantId(grantId) {
      return stmts.revokeGrant.run(grantId).changes;
    },
    async revokeClientTokens(clientId) {
      return stmts.revokeClientTokens.run(clientId, ...CLIENT_TOKENS).changes;
    },
    async destroyClient(clientId) {
      return stmts.destroyClient.run(clientId).changes;
    },
    async revokeByThumbprint(thumbprint) {
      return stmts.revokeByThumbprint.run(thumbprint).changes;
    },
    async clientsWhere(field, value) {
      return (stmts.clientsWhere[field].all(value) as Row[]).map((r) => hydrate(r)!);
    },
    async listClients() {
      return (stmts.listClients.all() as Row[]).map((r) => hydrate(r)!);
    },
    async pruneExpired(now) {
      return stmts.prune.run(now).changes;
    },
  };
}
