/** better-sqlite3 implementation of the register repository (tables in migrations/0004_register.sql). */
import type { Actor } from '../../audit/service.js';
import type {
  AuthorisationStatus,
  ParentStatus,
  RegisterEntityRecord,
  RegisterRepository,
  RegisterSnapshotRecord,
} from '../../register/repository.js';
import type { Db } from '../database.js';

interface SnapshotRow {
  id: string;
  imported_at: string;
  source: string;
  sha256: string;
  entity_count: number;
  skipped_count: number;
  actor: string;
}

interface EntityRow {
  entity_code: string;
  snapshot_id: string;
  ca_owner_id: string;
  national_ref: string;
  entity_type: string;
  names: string;
  country: string | null;
  aut_dates: string;
  status: string;
  services: string;
  parent_code: string | null;
  parent_status: string | null;
  properties: string;
}

function actorFromJson(json: string): Actor {
  const a = JSON.parse(json) as { type: Actor['type']; id: string | null; label: string | null };
  return { type: a.type, id: a.id, ...(a.label === null ? {} : { label: a.label }) };
}

function snapshotFromRow(r: SnapshotRow): RegisterSnapshotRecord {
  return {
    id: r.id,
    importedAt: r.imported_at,
    source: r.source,
    sha256: r.sha256,
    entityCount: r.entity_count,
    skippedCount: r.skipped_count,
    actor: actorFromJson(r.actor),
  };
}

function entityFromRow(r: EntityRow): RegisterEntityRecord {
  return {
    entityCode: r.entity_code,
    caOwnerId: r.ca_owner_id,
    nationalRef: r.national_ref,
    entityType: r.entity_type,
    names: JSON.parse(r.names) as string[],
    country: r.country,
    autDates: JSON.parse(r.aut_dates) as string[],
    status: r.status as AuthorisationStatus,
    services: JSON.parse(r.services) as Record<string, string[]>,
    parentCode: r.parent_code,
    parentStatus: r.parent_status as ParentStatus | null,
    properties: JSON.parse(r.properties) as Record<string, string | string[]>,
  };
}

export function createSqliteRegisterRepository(db: Db): RegisterRepository {
  const insertSnapshot = db.prepare(`INSERT INTO register_snapshots
    (id, imported_at, source, sha256, entity_count, skipped_count, actor)
    VALUES (@id, @importedAt, @source, @sha256, @entityCount, @skippedCount, @actor)`);
  const deleteEntities = db.prepare('DELETE FROM register_entities');
  const insertEntity = db.prepare(`INSERT INTO register_entities
    (entity_code, snapshot_id, ca_owner_id, national_ref, entity_type, names, country, aut_dates, status, services,
     parent_code, parent_status, properties)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const current = db.prepare('SELECT * FROM register_snapshots ORDER BY rowid DESC LIMIT 1');
  const byCode = db.prepare('SELECT * FROM register_entities WHERE entity_code = ?');
  const byRef = db.prepare('SELECT * FROM register_entities WHERE ca_owner_id = ? AND national_ref = ? LIMIT 50');
  // `CC_` ≤ ca_owner_id < `CC`` covers every authority of one country, through the (ca_owner_id, national_ref) index.
  const byRefInCountry = db.prepare(
    'SELECT * FROM register_entities WHERE ca_owner_id >= ? AND ca_owner_id < ? AND national_ref = ? LIMIT 50',
  );
  const count = db.prepare('SELECT count(*) AS n FROM register_entities');

  return {
    async replace(snapshot, entities) {
      insertSnapshot.run({
        id: snapshot.id,
        importedAt: snapshot.importedAt,
        source: snapshot.source,
        sha256: snapshot.sha256,
        entityCount: snapshot.entityCount,
        skippedCount: snapshot.skippedCount,
        actor: JSON.stringify({ type: snapshot.actor.type, id: snapshot.actor.id, label: snapshot.actor.label ?? null }),
      });
      deleteEntities.run();
      for (const e of entities) {
        insertEntity.run(
          e.entityCode,
          snapshot.id,
          e.caOwnerId,
          e.nationalRef,
          e.entityType,
          JSON.stringify(e.names),
          e.country,
          JSON.stringify(e.autDates),
          e.status,
          JSON.stringify(e.services),
          e.parentCode,
          e.parentStatus,
          JSON.stringify(e.properties),
        );
      }
    },

    async currentSnapshot() {
      const row = current.get() as SnapshotRow | undefined;
      return row ? snapshotFromRow(row) : null;
    },

    async findByCode(entityCode) {
      const row = byCode.get(entityCode) as EntityRow | undefined;
      return row ? entityFromRow(row) : null;
    },

    async findByNationalRef(caOwnerId, nationalRef) {
      return (byRef.all(caOwnerId, nationalRef) as EntityRow[]).map(entityFromRow);
    },

    async findByNationalRefInCountry(country, nationalRef) {
      const cc = country.toUpperCase();
      return (byRefInCountry.all(`${cc}_`, `${cc}\``, nationalRef) as EntityRow[]).map(entityFromRow);
    },

    async countEntities() {
      return (count.get() as { n: number }).n;
    },
  };
}
