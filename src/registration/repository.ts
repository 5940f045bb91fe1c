/**
 * Storage contract of the registration area's portal side: software products and the statements issued
 * for them. Async so that a PostgreSQL implementation fits later; the SQLite one is
 * src/store/sqlite/registration.ts. Writes are called inside the service's `tx.run`.
 */
import type { SoftwareProduct } from './types.js';

export interface SoftwareRecord extends SoftwareProduct {
  /** The application whose partner declared it (pages are per application). */
  applicationId: string;
  /** Id of the applicant who declared it. */
  createdBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

/** One issued software statement, for traceability: the JWT itself is not kept (it is the partner's). */
export interface IssuedStatementRecord {
  jti: string;
  softwareId: string;
  /** kid of the directory key that signed it. */
  kid: string;
  issuedAt: string;
  /** Id of the applicant (or system) that downloaded it. */
  issuedBy: string;
}

export interface SoftwareRepository {
  insertSoftware(record: SoftwareRecord): Promise<void>;
  getSoftware(id: string): Promise<SoftwareRecord | null>;
  /** Oldest first. */
  listSoftwareForPartner(partnerId: string): Promise<SoftwareRecord[]>;
  countActiveForPartner(partnerId: string): Promise<number>;
  /** Marks an active product revoked; false when it was not active (nothing changed). */
  revokeSoftware(id: string, at: string, by: string): Promise<boolean>;
  insertStatement(record: IssuedStatementRecord): Promise<void>;
  /** Newest first. */
  listStatements(softwareId: string): Promise<IssuedStatementRecord[]>;
}
