/**
 * better-sqlite3 implementation of the software repository (src/registration/repository.ts,
 * migrations/0007_registration.sql). Prepared statements only; JSON columns hold what the service validated.
 */
import type { IssuedStatementRecord, SoftwareRecord, SoftwareRepository } from '../../registration/repository.js';
import type { SoftwareProduct } from '../../registration/types.js';
import type { Db } from '../database.js';

interface SoftwareRow {
  id: string;
  partner_id: string;
  application_id: string;
  org_id: string;
  name: string;
  redirect_uris: string;
  roles: string;
  jwks: string | null;
  jwks_uri: string | null;
  status: string;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  revoked_by: string | null;
}

interface StatementRow {
  jti: string;
  software_id: string;
  kid: string;
  issued_at: string;
  issued_by: string;
}

function fromRow(r: SoftwareRow): SoftwareRecord {
  return {
    id: r.id,
    partnerId: r.partner_id,
    applicationId: r.application_id,
    orgId: r.org_id,
    name: r.name,
    redirectUris: JSON.parse(r.redirect_uris) as string[],
    roles: JSON.parse(r.roles) as SoftwareProduct['roles'],
    jwks: r.jwks === null ? null : (JSON.parse(r.jwks) as SoftwareProduct['jwks']),
    jwksUri: r.jwks_uri,
    status: r.status as SoftwareProduct['status'],
    createdAt: r.created_at,
    createdBy: r.created_by,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
  };
}

export function createSqliteSoftwareRepository(db: Db): SoftwareRepository {
  const insert = db.prepare(`INSERT INTO software_products
    (id, partner_id, application_id, org_id, name, redirect_uris, roles, jwks, jwks_uri, status, created_at, created_by, revoked_at, revoked_by)
    VALUES (@id, @partner_id, @application_id, @org_id, @name, @redirect_uris, @roles, @jwks, @jwks_uri, @status, @created_at, @created_by, NULL, NULL)`);
  const get = db.prepare('SELECT * FROM software_products WHERE id = ?');
  const listForPartner = db.prepare('SELECT * FROM software_products WHERE partner_id = ? ORDER BY created_at, id');
  const countActive = db.prepare("SELECT count(*) AS n FROM software_products WHERE partner_id = ? AND status = 'active'");
  const revoke = db.prepare("UPDATE software_products SET status = 'revoked', revoked_at = ?, revoked_by = ? WHERE id = ? AND status = 'active'");
  const insertStatement = db.prepare(
    'INSERT INTO software_statements (jti, software_id, kid, issued_at, issued_by) VALUES (@jti, @software_id, @kid, @issued_at, @issued_by)',
  );
  const listStatements = db.prepare('SELECT * FROM software_statements WHERE software_id = ? ORDER BY issued_at DESC, jti');

  return {
    async insertSoftware(r) {
      insert.run({
        id: r.id,
        partner_id: r.partnerId,
        application_id: r.applicationId,
        org_id: r.orgId,
        name: r.name,
        redirect_uris: JSON.stringify(r.redirectUris),
        roles: JSON.stringify(r.roles),
        jwks: r.jwks === null ? null : JSON.stringify(r.jwks),
        jwks_uri: r.jwksUri,
        status: r.status,
        created_at: r.createdAt,
        created_by: r.createdBy,
      });
    },
    async getSoftware(id) {
      const row = get.get(id) as SoftwareRow | undefined;
      return row ? fromRow(row) : null;
    },
    async listSoftwareForPartner(partnerId) {
      return (listForPartner.all(partnerId) as SoftwareRow[]).map(fromRow);
    },
    async countActiveForPartner(partnerId) {
      return (countActive.get(partnerId) as { n: number }).n;
    },
    async revokeSoftware(id, at, by) {
      return revoke.run(at, by, id).changes === 1;
    },
    async insertStatement(r: IssuedStatementRecord) {
      insertStatement.run({ jti: r.jti, software_id: r.softwareId, kid: r.kid, issued_at: r.issuedAt, issued_by: r.issuedBy });
    },
    async listStatements(softwareId) {
      return (listStatements.all(softwareId) as StatementRow[]).map((r) => ({
        jti: r.jti,
        softwareId: r.software_id,
        kid: r.kid,
        issuedAt: r.issued_at,
        issuedBy: r.issued_by,
      }));
    },
  };
}
