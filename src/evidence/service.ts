/**
 * The evidence area: everything the bank knows about one partner, exported as one signed pack that an auditor
 * or an NCA can check offline (`npm run evidence:verify`), and the partner's slice of the audit log.
 *
 * It reads through the other areas' services (partners, OAuth clients, the registration area's software
 * repository) and the audit log; it owns no table. Monitor actions are in the pack through their audit events
 * (`monitor.*`, subject the partner or its alerts), never through the monitor's tables. Every export is audited
 * (`evidence.pack.exported`, with the manifest's hash) after the pack is sealed: the next pack contains it.
 */
import { randomUUID } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import type { JWK } from 'jose';
import type { Actor, AuditService } from '../audit/service.js';
import { type AuditSelection, chainHead, eventsConcerning, expandSelection, normaliseSelection, selectionText } from '../audit/search.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { ClientSummary } from '../oauth/types.js';
import type { ActorRef, ApplicationView, PartnersService, PartnerView } from '../partners/types.js';
import type { IssuedStatementRecord, SoftwareRecord, SoftwareRepository } from '../registration/repository.js';
import type { Db } from '../store/database.js';
import type { Transactor } from '../store/transaction.js';
import { EVIDENCE_FILE_PREFIX, type Manifest, PART, PACK_FORMAT } from './format.js';
import type { EvidenceKeys } from './keys.js';
import { filePart, jsonPart, type PartInput, sealPack, sha256Hex, textPart } from './pack.js';

export interface EvidenceLimits {
  /** Evidence files up to this size are put in the pack; larger ones are recorded by hash only. */
  maxFileBytes: number;
  /** Files stop being included once the pack holds this many bytes of them. */
  maxTotalBytes: number;
}

/** Small enough to mail a pack, large enough for the policies and reports applicants usually upload. */
export const DEFAULT_EVIDENCE_LIMITS: EvidenceLimits = { maxFileBytes: 1024 * 1024, maxTotalBytes: 8 * 1024 * 1024 };

/** Who asks for a pack: a signed-in officer (pages), or the operator at the server (the CLI). */
export type EvidenceRequester = { kind: 'staff'; staff: ActorRef } | { kind: 'operator'; label: string };

export interface EvidenceOverview {
  partner: PartnerView;
  applicationId: string;
  applicationState: ApplicationView['state'];
  decisions: number;
  evidence: { files: number; bytes: number };
  clients: number;
  software: number;
  statements: number;
  auditEvents: number;
  keyThumbprint: string;
  limits: EvidenceLimits;
  /** Earlier exports of this partner's pack, newest first. */
  exports: { at: string; by: string; packId: string; manifestSha256: string; via: string }[];
}

export interface ExportedPack {
  packId: string;
  /** `evidence-pack-<name>-<UTC timestamp>.json`: ASCII, safe in Content-Disposition. */
  fileName: string;
  bytes: Buffer;
  manifest: Manifest;
  manifestSha256: string;
}

export interface EvidenceService {
  /** A partner by id, else by organizationIdentifier (the most recently approved); null when neither. */
  resolvePartner(ref: string): Promise<PartnerView | null>;
  /** The ids through which audit events concern the partner (the pack's and the audit search's selection). */
  selectionFor(partnerId: string): Promise<AuditSelection | null>;
  /** What a pack would hold now, and earlier exports. Staff only; NotFoundError for an unknown partner. */
  overview(staff: ActorRef, partnerId: string): Promise<EvidenceOverview>;
  /** Builds, signs and audits a pack. Staff or operator; NotFoundError for an unknown partner. */
  exportPack(requester: EvidenceRequester, partnerRef: string, opts?: { ip?: string | null }): Promise<ExportedPack>;
  /** The public evidence keys (GET /evidence/jwks.json). */
  publicJwks(): Promise<{ keys: JWK[] }>;
}

export interface EvidenceServiceDeps {
  db: Db;
  tx: Transactor;
  audit: Pick<AuditService, 'record' | 'verify'>;
  partners: Pick<PartnersService, 'getPartner' | 'partnerForOrganization' | 'getForStaff' | 'evidenceFile'>;
  clients: { clientsOfPartner(partnerId: string): Promise<ClientSummary[]> };
  /** Read-only use of the registration area's repository (its service has no per-partner listing for staff). */
  software: Pick<SoftwareRepository, 'listSoftwareForPartner' | 'listStatements'>;
  keys: EvidenceKeys;
  now?: () => Date;
  limits?: Partial<EvidenceLimits>;
}

const PARTNER_REF = /^[A-Za-z0-9_.-]{1,200}$/;
/** Hex SHA-256 → base64url: the `x5t#S256` form under which the OAuth area audits a certificate's tokens. */
const hexToB64url = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

interface Gathered {
  partner: PartnerView;
  app: ApplicationView;
  clients: ClientSummary[];
  products: (SoftwareRecord & { statements: IssuedStatementRecord[] })[];
}

export function createEvidenceService(deps: EvidenceServiceDeps): EvidenceService {
  const { db, tx, audit, partners, keys } = deps;
  const now = deps.now ?? (() => new Date());
  const limits: EvidenceLimits = { ...DEFAULT_EVIDENCE_LIMITS, ...deps.limits };

  async function resolvePartner(ref: string): Promise<PartnerView | null> {
    if (typeof ref !== 'string' || !PARTNER_REF.test(ref)) return null;
    return (await partners.getPartner(ref)) ?? (await partners.partnerForOrganization(ref));
  }

  /** The partners service's staff views need a staff actor; the operator at the server is one without roles. */
  function readerOf(r: EvidenceRequester): ActorRef {
    if (r.kind === 'staff') {
      if (r.staff?.kind !== 'staff') throw new ForbiddenError('auth.forbidden', 'Evidence packs are for bank staff.');
      return r.staff;
    }
    return { id: 'operator', kind: 'staff', label: r.label, roles: [] };
  }

  function auditActorOf(r: EvidenceRequester): Actor {
    return r.kind === 'staff' ? { type: 'staff', id: r.staff.id, label: r.staff.label } : { type: 'system', id: null, label: r.label };
  }

  async function gather(reader: ActorRef, partner: PartnerView): Promise<Gathered> {
    const app = await partners.getForStaff(reader, partner.applicationId);
    const clients = await deps.clients.clientsOfPartner(partner.id);
    const products = await Promise.all(
      (await deps.software.listSoftwareForPartner(partner.id)).map(async (p) => ({ ...p, statements: await deps.software.listStatements(p.id) })),
    );
    return { partner, app, clients, products };
  }

  function baseSelection(g: Gathered): AuditSelection {
    const thumbprints = [g.partner.qwacSha256, g.app.certificates.qwac?.sha256, g.app.certificates.qseal?.sha256]
      .filter((h): h is string => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))
      .map(hexToB64url);
    return normaliseSelection({
      subjects: [
        { type: 'partner', ids: [g.partner.id] },
        { type: 'application', ids: [g.app.id] },
        { type: 'oauth_client', ids: g.clients.map((c) => c.clientId) },
        { type: 'software', ids: g.products.map((p) => p.id) },
        { type: 'certificate', ids: thumbprints },
      ],
      partnerActorIds: [g.partner.id, ...g.clients.map((c) => c.clientId)],
      partnerActorLabels: g.partner.organizationIdentifier ? [g.partner.organizationIdentifier] : [],
      dataPartnerIds: [g.partner.id],
    });
  }

  /** Evidence files to include: small ones whose stored bytes still hash to what the upload recorded. */
  async function evidenceFiles(reader: ActorRef, app: ApplicationView) {
    let total = 0;
    const entries: Record<string, unknown>[] = [];
    const parts: PartInput[] = [];
    for (const ev of app.questionnaire.evidence) {
      const base = {
        applicationId: app.id,
        id: ev.id,
        questionId: ev.questionId,
        fileName: ev.fileName,
        mediaType: ev.mediaType,
        size: ev.size,
        sha256: ev.sha256,
        uploadedAt: ev.uploadedAt,
        verifiedAt: ev.verifiedAt,
      };
      const hashOnly = (reason: string) => entries.push({ ...base, file: { included: false, reason } });
      if (ev.size > limits.maxFileBytes) {
        hashOnly(`larger than ${limits.maxFileBytes} bytes: recorded by hash only`);
        continue;
      }
      if (total + ev.size > limits.maxTotalBytes) {
        hashOnly(`the pack already holds ${total} bytes of files (limit ${limits.maxTotalBytes}): recorded by hash only`);
        continue;
      }
      let bytes: Buffer;
      try {
        const file = await partners.evidenceFile(reader, app.id, ev.id);
        // Size first: a stored file that grew is not read into memory.
        if ((await stat(file.path)).size !== ev.size) {
          hashOnly('the stored file no longer has the size recorded at upload');
          continue;
        }
        const handle = await open(file.path, 'r');
        try {
          bytes = await handle.readFile();
        } finally {
          await handle.close();
        }
      } catch {
        hashOnly('the stored file is missing');
        continue;
      }
      if (sha256Hex(bytes) !== ev.sha256) {
        hashOnly('the stored file no longer hashes to the SHA-256 recorded at upload');
        continue;
      }
      const name = `${EVIDENCE_FILE_PREFIX}${ev.id}`;
      parts.push(filePart(name, bytes, ev.mediaType));
      entries.push({ ...base, file: { included: true, part: name } });
      total += bytes.length;
    }
    return { entries, parts, included: parts.length, hashOnly: entries.length - parts.length };
  }

  function readme(partner: PartnerView, createdAt: string): string {
    return [
      `# Evidence pack: ${partner.legalName}`,
      '',
      `Made ${createdAt} by the partner portal for partner \`${partner.id}\` (organizationIdentifier \`${partner.organizationIdentifier ?? '-'}\`).`,
      '',
      '| part | what it holds |',
      '| --- | --- |',
      `| ${PART.partner} | the partner: status, allowed roles, approved QWAC hash |`,
      `| ${PART.applications} | the application: profile or fast-lane facts, timeline, change requests, score, conditions, automatic checks |`,
      `| ${PART.questionnaire} | the questionnaire version, its questions and the answers |`,
      `| ${PART.evidence} | every evidence file with its SHA-256; small files are included as \`${EVIDENCE_FILE_PREFIX}<id>\` |`,
      `| ${PART.certificates} | the certificate reports (QWAC, QSealC) and the certificate/application consistency findings |`,
      `| ${PART.register} | the NCA register check of the application |`,
      `| ${PART.decisions} | every decision with its policy version and the officer (or policy) that made it |`,
      `| ${PART.clients} | the partner's OAuth clients |`,
      `| ${PART.software} | software products and the statements issued for them |`,
      `| ${PART.audit} | every audit event concerning the partner (monitor actions included), with its hash-chain fields |`,
      '',
      'Verify offline: `npm run evidence:verify -- FILE --jwks JWKS` (JWKS: the bank\'s /evidence/jwks.json, pinned).',
      'The manifest lists each part\'s SHA-256 and is signed (JWS, ES256, detached payload). See docs/evidence.md.',
      '',
    ].join('\n');
  }

  function applicationPart(app: ApplicationView) {
    return {
      id: app.id,
      origin: app.origin,
      state: app.state,
      track: app.track,
      applicant: { id: app.applicantId, email: app.applicantEmail },
      createdAt: app.createdAt,
      updatedAt: app.updatedAt,
      submittedAt: app.submittedAt,
      profile: app.profile,
      fastLane: app.fastLane,
      reviewer: app.reviewer,
      firstApprover: app.firstApprover,
      riskTier: app.riskTier,
      score: app.score,
      conditions: app.conditions,
      autoApproval: app.autoApproval,
      timeline: app.timeline,
      changeRequests: app.changeRequests,
    };
  }

  return {
    resolvePartner,

    async selectionFor(partnerId) {
      const partner = await resolvePartner(partnerId);
      if (!partner || partner.id !== partnerId) return null;
      const g = await gather({ id: 'audit-search', kind: 'staff', label: 'audit search', roles: [] }, partner);
      return expandSelection(db, baseSelection(g));
    },

    async overview(staff, partnerId) {
      const reader = readerOf({ kind: 'staff', staff });
      const partner = typeof partnerId === 'string' ? await partners.getPartner(partnerId) : null;
      if (!partner) throw new NotFoundError('No such partner.');
      const g = await gather(reader, partner);
      const events = eventsConcerning(db, expandSelection(db, baseSelection(g)));
      const signer = await keys.signer();
      return {
        partner,
        applicationId: g.app.id,
        applicationState: g.app.state,
        decisions: g.app.decisions.length,
        evidence: { files: g.app.questionnaire.evidence.length, bytes: g.app.questionnaire.evidence.reduce((n, e) => n + e.size, 0) },
        clients: g.clients.length,
        software: g.products.length,
        statements: g.products.reduce((n, p) => n + p.statements.length, 0),
        auditEvents: events.length,
        keyThumbprint: signer.kid,
        limits: { ...limits },
        exports: events
          .filter((e) => e.action === 'evidence.pack.exported' && e.subject?.type === 'partner' && e.subject.id === partner.id)
          .reverse()
          .map((e) => ({
            at: e.at,
            by: e.actor.label ?? e.actor.id ?? e.actor.type,
            packId: String(e.data.packId ?? ''),
            manifestSha256: String(e.data.manifestSha256 ?? ''),
            via: String(e.data.via ?? ''),
          })),
      };
    },

    async exportPack(requester, partnerRef, opts = {}) {
      const reader = readerOf(requester);
      const partner = await resolvePartner(partnerRef);
      if (!partner) throw new NotFoundError('No such partner.');
      const signer = await keys.signer();
      // One snapshot: the services' views, the partner's events and the chain head are read under the write lock,
      // so that no change lands between them. Files are read afterwards (no slow I/O inside a transaction).
      const snap = await tx.run(async () => {
        const g = await gather(reader, partner);
        const selection = expandSelection(db, baseSelection(g));
        const head = chainHead(db);
        const events = eventsConcerning(db, selection, { upToSeq: head.seq });
        const full = await audit.verify();
        return { g, selection, head, events, full };
      });
      const { g, selection, head, events, full } = snap;
      const files = await evidenceFiles(reader, g.app);
      const createdAt = now().toISOString();
      const packId = randomUUID();
      let segments = 0;
      events.forEach((e, i) => {
        if (i === 0 || events[i - 1]!.seq + 1 !== e.seq) segments++;
      });
      const appId = g.app.id;
      const parts: PartInput[] = [
        textPart(PART.readme, readme(partner, createdAt)),
        jsonPart(PART.partner, partner),
        jsonPart(PART.applications, { applications: [applicationPart(g.app)] }),
        jsonPart(PART.questionnaire, {
          applications: [
            {
              applicationId: appId,
              version: g.app.questionnaire.version,
              questions: g.app.questionnaire.questions.map((q) => ({ id: q.id, domain: q.domain, text: q.text, type: q.type, required: q.required })),
              answers: g.app.questionnaire.answers,
              incomplete: g.app.questionnaire.incomplete,
            },
          ],
        }),
        jsonPart(PART.evidence, { policy: `files up to ${limits.maxFileBytes} bytes each and ${limits.maxTotalBytes} in all are included; the rest by SHA-256 only`, files: files.entries }),
        jsonPart(PART.certificates, { applications: [{ applicationId: appId, qwac: g.app.certificates.qwac, qseal: g.app.certificates.qseal, consistency: g.app.consistency }] }),
        jsonPart(PART.register, { applications: [{ applicationId: appId, register: g.app.register }] }),
        jsonPart(PART.decisions, { applications: [{ applicationId: appId, decisions: g.app.decisions }] }),
        jsonPart(PART.clients, { clients: g.clients }),
        jsonPart(PART.software, {
          products: g.products.map((p) => ({
            id: p.id,
            name: p.name,
            orgId: p.orgId,
            roles: p.roles,
            redirectUris: p.redirectUris,
            jwks: p.jwks,
            jwksUri: p.jwksUri,
            status: p.status,
            createdAt: p.createdAt,
            createdBy: p.createdBy,
            revokedAt: p.revokedAt,
            revokedBy: p.revokedBy,
            statements: p.statements.map((s) => ({ jti: s.jti, kid: s.kid, issuedAt: s.issuedAt, issuedBy: s.issuedBy })),
          })),
        }),
        jsonPart(PART.audit, {
          hashRule:
            "hash = hex SHA-256 of prevHash + '\\n' + canonical JSON of {seq, id, at, actor: {type, id, label or null}, action, subject, data, ip} (object keys sorted, no whitespace); the first event's prevHash is 64 zeros",
          chainHead: head,
          selection: selectionText(selection),
          events,
        }),
        ...files.parts,
      ];
      const sealed = await sealPack(
        {
          packId,
          createdAt,
          createdBy: (() => {
            const a = auditActorOf(requester);
            return { type: a.type, id: a.id, label: a.label ?? a.type };
          })(),
          subject: { partnerId: partner.id, legalName: partner.legalName, organizationIdentifier: partner.organizationIdentifier, applicationIds: [appId] },
          audit: {
            selection: selectionText(selection),
            events: events.length,
            firstSeq: events[0]?.seq ?? null,
            lastSeq: events.at(-1)?.seq ?? null,
            segments,
            chainHead: head,
            fullChainAtExport: { ok: full.ok, checked: full.checked, problem: full.problem },
          },
          evidenceFiles: {
            policy: 'included when at most maxFileBytes each and maxTotalBytes in all, and the stored file still matches its upload hash; otherwise recorded by SHA-256 only',
            maxFileBytes: limits.maxFileBytes,
            maxTotalBytes: limits.maxTotalBytes,
            included: files.included,
            hashOnly: files.hashOnly,
          },
        },
        parts,
        signer,
      );
      await audit.record({
        actor: auditActorOf(requester),
        action: 'evidence.pack.exported',
        subject: { type: 'partner', id: partner.id },
        data: {
          packId,
          format: PACK_FORMAT,
          manifestSha256: sealed.manifestSha256,
          keyThumbprint: signer.kid,
          parts: parts.length,
          auditEvents: events.length,
          chainHeadSeq: head.seq,
          evidenceFilesIncluded: files.included,
          via: requester.kind === 'staff' ? 'staff page' : 'cli',
        },
        ip: opts.ip ?? (requester.kind === 'staff' ? (requester.staff.ip ?? null) : null),
      });
      const slug = partner.legalName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'partner';
      const stamp = createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      return { packId, fileName: `evidence-pack-${slug}-${stamp}.json`, bytes: sealed.bytes, manifest: sealed.manifest, manifestSha256: sealed.manifestSha256 };
    },

    publicJwks() {
      return keys.publicJwks();
    },
  };
}
