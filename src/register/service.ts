/**
 * The NCA/EBA register area: a local mirror of the EBA PSD2 register, replaced whole by each import, and
 * the register check an application shows before submission (docs/register.md).
 *
 * The register is evidence, not a gate that may fail closed: with no snapshot loaded the check says
 * `unavailable` (UK guidance: do not cut TPPs off because a directory is down), which only rules out
 * automatic approval.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Actor, AuditService } from '../audit/service.js';
import { createSqliteRegisterRepository } from '../store/sqlite/register.js';
import type { Db } from '../store/database.js';
import type { Transactor } from '../store/transaction.js';
import { finding, REGISTER_CHECKS, type CheckContext, type CheckedIdentity } from './checks.js';
import { authorisationOf, DEPENDENT_TYPES, INSTITUTION_TYPES, ncaIdFromOwner, ownerFromNcaId, parseEbaRegister } from './eba.js';
import type { RegisterEntityRecord, RegisterRepository, RegisterSnapshotRecord } from './repository.js';

export interface RegisterEntry {
  entityCode: string;
  caOwnerId: string;
  ncaId: string;
  nationalRef: string;
  entityType: string;
  names: string[];
  country: string | null;
  authorisation: {
    status: 'authorised' | 'withdrawn' | 'not_applicable' | 'unknown';
    since: string | null;
    withdrawnOn: string | null;
    dates: string[];
  };
  services: Record<string, string[]>;
  parent: { entityCode: string; status: 'Active' | 'Inactive' | null } | null;
}

export interface RegisterSnapshotInfo {
  id: string;
  importedAt: string;
  source: string;
  sha256: string;
  entityCount: number;
  skippedCount: number;
}

/** What an import reports besides the snapshot: why entities were skipped (reason → count). */
export interface RegisterImportResult extends RegisterSnapshotInfo {
  skippedByReason: Record<string, number>;
}

export interface RegisterFinding {
  code: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  fix: string | null;
}

export interface RegisterCheckInput {
  ncaId: string;
  authorisationNumber: string;
  legalName: string;
  country: string;
  roles: ('AIS' | 'PIS' | 'CBPII')[];
}

export interface RegisterCheck {
  status: 'match' | 'mismatch' | 'not_found' | 'withdrawn' | 'unavailable';
  entry: RegisterEntry | null;
  snapshot: RegisterSnapshotInfo | null;
  findings: RegisterFinding[];
  checkedAt: string;
}

export interface RegisterService {
  /** Parses, then replaces the whole register and records `register.imported`, in one transaction. */
  importSnapshot(content: Buffer | string, meta: { source: string; actor: Actor }): Promise<RegisterImportResult>;
  lookup(ncaId: string, nationalRef: string): Promise<RegisterEntry | null>;
  check(input: RegisterCheckInput): Promise<RegisterCheck>;
  status(): Promise<{ snapshot: RegisterSnapshotInfo | null; entities: number }>;
}

/** The synthetic development register shipped with the project. */
export const DEV_REGISTER_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data', 'dev-eba-register.json');

export function toEntry(r: RegisterEntityRecord): RegisterEntry {
  return {
    entityCode: r.entityCode,
    caOwnerId: r.caOwnerId,
    ncaId: ncaIdFromOwner(r.caOwnerId),
    nationalRef: r.nationalRef,
    entityType: r.entityType,
    names: [...r.names],
    country: r.country,
    authorisation: authorisationOf(r.entityType, r.autDates, r.parentStatus),
    services: Object.fromEntries(Object.entries(r.services).map(([c, codes]) => [c, [...codes]])),
    parent: r.parentCode === null ? null : { entityCode: r.parentCode, status: r.parentStatus },
  };
}

function toInfo(s: RegisterSnapshotRecord): RegisterSnapshotInfo {
  return {
    id: s.id,
    importedAt: s.importedAt,
    source: s.source,
    sha256: s.sha256,
    entityCount: s.entityCount,
    skippedCount: s.skippedCount,
  };
}

/** Several entities can share a national reference (an agent's company number): prefer the institution. */
function best(records: RegisterEntityRecord[]): RegisterEntityRecord | null {
  const rank = (r: RegisterEntityRecord) =>
    (INSTITUTION_TYPES.has(r.entityType) ? 0 : DEPENDENT_TYPES.has(r.entityType) ? 4 : 2) + (r.status === 'authorised' ? 0 : 1);
  return [...records].sort((a, b) => rank(a) - rank(b) || a.entityCode.localeCompare(b.entityCode))[0] ?? null;
}

/** Cleans what the applicant typed; null when the NCA id or number cannot be a register key. */
function normaliseInput(input: RegisterCheckInput): CheckedIdentity | null {
  const caOwnerId = ownerFromNcaId(input.ncaId ?? '');
  if (!caOwnerId) return null;
  const ncaId = ncaIdFromOwner(caOwnerId);
  let number = (input.authorisationNumber ?? '').trim();
  // Accept the whole organizationIdentifier (PSDDE-BAFIN-152645) as well as the number alone.
  const prefix = `PSD${ncaId}-`;
  if (number.toUpperCase().startsWith(prefix)) number = number.slice(prefix.length);
  if (!number || number.length > 100) return null;
  return {
    ncaId,
    caOwnerId,
    authorisationNumber: number,
    legalName: input.legalName ?? '',
    country: (input.country ?? '').trim(),
    roles: (input.roles ?? []).filter((r) => r === 'AIS' || r === 'PIS' || r === 'CBPII'),
  };
}

function statusOf(findings: readonly { code: string; severity: string }[]): RegisterCheck['status'] {
  const codes = new Set(findings.map((f) => f.code));
  if (codes.has('register.not_found') || codes.has('register.identifier_invalid')) return 'not_found';
  if (codes.has('register.withdrawn') || codes.has('register.parent_inactive')) return 'withdrawn';
  return findings.some((f) => f.severity === 'error') ? 'mismatch' : 'match';
}

export function createRegisterService(deps: {
  db: Db;
  tx: Transactor;
  audit: AuditService;
  now?: () => Date;
  repository?: RegisterRepository;
}): RegisterService {
  const repo = deps.repository ?? createSqliteRegisterRepository(deps.db);
  const now = deps.now ?? (() => new Date());

  async function findExact(caOwnerId: string, ref: string): Promise<RegisterEntityRecord | null> {
    return best(await repo.findByNationalRef(caOwnerId, ref)) ?? (await repo.findByCode(`${caOwnerId}!${ref}`));
  }

  return {
    async importSnapshot(content, meta) {
      // Parse outside the transaction: it is the slow part, and a refused file must not touch the store.
      const parsed = parseEbaRegister(content);
      const snapshot: RegisterSnapshotRecord = {
        id: randomUUID(),
        importedAt: now().toISOString(),
        source: meta.source.slice(0, 500),
        sha256: parsed.sha256,
        entityCount: parsed.entities.length,
        skippedCount: parsed.skippedCount,
        actor: meta.actor,
      };
      await deps.tx.run(async () => {
        await repo.replace(snapshot, parsed.entities);
        await deps.audit.record({
          actor: meta.actor,
          action: 'register.imported',
          subject: { type: 'register_snapshot', id: snapshot.id },
          data: {
            source: snapshot.source,
            sha256: snapshot.sha256,
            bytes: parsed.bytes,
            entityCount: snapshot.entityCount,
            skippedCount: snapshot.skippedCount,
            skippedByReason: parsed.skippedByReason,
          },
        });
      });
      return { ...toInfo(snapshot), skippedByReason: parsed.skippedByReason };
    },

    async lookup(ncaId, nationalRef) {
      const owner = ownerFromNcaId(ncaId);
      const ref = nationalRef.trim();
      if (!owner || !ref) return null;
      const found = await findExact(owner, ref);
      return found ? toEntry(found) : null;
    },

    async check(input) {
      const checkedAt = now().toISOString();
      const current = await repo.currentSnapshot();
      if (!current) {
        return {
          status: 'unavailable',
          entry: null,
          snapshot: null,
          findings: [
            finding(
              'register.unavailable',
              'No register snapshot is loaded, so the authorisation could not be checked against the EBA register.',
              'Nothing blocks your application, but it cannot be approved automatically: a reviewer will check the register. Administrators: run `npm run register:import FILE`.',
            ),
          ],
          checkedAt,
        };
      }
      const snapshot = toInfo(current);
      const identity = normaliseInput(input);
      if (!identity) {
        return {
          status: 'not_found',
          entry: null,
          snapshot,
          findings: [
            finding(
              'register.identifier_invalid',
              `The NCA id ${JSON.stringify(input.ncaId ?? '')} and authorisation number ${JSON.stringify(input.authorisationNumber ?? '')} cannot identify a register entry.`,
              'Give the NCA id as in your certificate (country code, hyphen, authority code, e.g. DE-BAFIN) and your authorisation number (e.g. 152645).',
            ),
          ],
          checkedAt,
        };
      }
      let record = await findExact(identity.caOwnerId, identity.authorisationNumber);
      let matchedBy: CheckContext['matchedBy'] = record ? 'nca' : null;
      if (!record) {
        record = best(await repo.findByNationalRefInCountry(identity.caOwnerId.slice(0, 2), identity.authorisationNumber));
        if (record) matchedBy = 'country';
      }
      const entry = record ? toEntry(record) : null;
      const parentRecord = entry?.parent ? await repo.findByCode(entry.parent.entityCode) : null;
      const ctx: CheckContext = {
        input: identity,
        snapshot,
        entry,
        matchedBy,
        parent: parentRecord ? toEntry(parentRecord) : null,
      };
      const findings = REGISTER_CHECKS.flatMap((c) => c.run(ctx));
      return { status: statusOf(findings), entry, snapshot, findings, checkedAt };
    },

    async status() {
      const current = await repo.currentSnapshot();
      return { snapshot: current ? toInfo(current) : null, entities: await repo.countEntities() };
    },
  };
}
