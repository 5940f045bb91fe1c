/**
 * Storage contract of the register mirror. Async so that a PostgreSQL implementation fits later; the
 * SQLite one is src/store/sqlite/register.ts. The mirror holds one snapshot at a time (the entities of the
 * last successful import) and the history of imports.
 */
import type { Actor } from '../audit/service.js';

/** Derived from ENT_AUT (institutions) or the parent's status (agents, branches): see eba.ts. */
export type AuthorisationStatus = 'authorised' | 'withdrawn' | 'not_applicable' | 'unknown';
export type ParentStatus = 'Active' | 'Inactive';

/** One register entity as stored: what the parser keeps of an EBA record. */
export interface RegisterEntityRecord {
  /** EBA `EntityCode`, e.g. `DE_BAFIN!152645` or `PSD_PI!FR_ACPR!1376!50208` (an agent). */
  entityCode: string;
  /** EBA `CA_OwnerID`, the owning authority, e.g. `DE_BAFIN`. */
  caOwnerId: string;
  /** `ENT_NAT_REF_COD` (the number in a PSD2 certificate), or the last segment of the EntityCode. */
  nationalRef: string;
  entityType: string;
  /** Legal names (`ENT_NAM`, all scripts) first, then trading names (`ENT_NAM_COM`), without repeats. */
  names: string[];
  /** `ENT_COU_RES`, upper-case ISO 3166 alpha-2; null when absent. */
  country: string | null;
  /** `ENT_AUT`, sorted: odd positions authorisations, even positions withdrawals. */
  autDates: string[];
  status: AuthorisationStatus;
  /** Country → service codes (`PS_070` PIS, `PS_080` AIS ...). Empty for agents and branches. */
  services: Record<string, string[]>;
  /** `ENT_COD_PAR_ENT` (the parent's EntityCode) for agents and branches. */
  parentCode: string | null;
  /** `DER_CHI_ENT_AUT`, or derived from the parent in the same file when absent. */
  parentStatus: ParentStatus | null;
  /** Every property of the record, list-valued where the file had a list. */
  properties: Record<string, string | string[]>;
}

export interface RegisterSnapshotRecord {
  id: string;
  importedAt: string;
  /** Where the file came from (a file name), for display. */
  source: string;
  /** SHA-256 (hex) of the file's bytes. */
  sha256: string;
  entityCount: number;
  skippedCount: number;
  actor: Actor;
}

export interface RegisterRepository {
  /** Deletes every entity and stores the new snapshot and its entities. Call inside `tx.run` (one transaction). */
  replace(snapshot: RegisterSnapshotRecord, entities: readonly RegisterEntityRecord[]): Promise<void>;
  /** The snapshot the current entities belong to (the last import); null before the first import. */
  currentSnapshot(): Promise<RegisterSnapshotRecord | null>;
  findByCode(entityCode: string): Promise<RegisterEntityRecord | null>;
  findByNationalRef(caOwnerId: string, nationalRef: string): Promise<RegisterEntityRecord[]>;
  /** Same national reference under any authority of the country (`country` = `DE` matches `DE_*`). */
  findByNationalRefInCountry(country: string, nationalRef: string): Promise<RegisterEntityRecord[]>;
  countEntities(): Promise<number>;
}
