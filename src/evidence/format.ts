/**
 * The evidence pack's container: ONE JSON document (no new dependency, readable with jq), holding
 *
 *   format     `evidence-pack/1`
 *   manifest   the manifest as JSON text: these exact UTF-8 bytes are what is signed
 *   signature  a compact JWS with a detached payload (RFC 7515 Appendix F): `<protected>..<signature>`,
 *              ES256, kid = the key's RFC 7638 thumbprint, typ `evidence-manifest+json`
 *   key        the public JWK that signed and its thumbprint (pin it against GET /evidence/jwks.json)
 *   parts      each part's exact bytes, as a UTF-8 string (JSON and text parts) or base64 (files)
 *
 * The manifest lists every part with its size and SHA-256 (of the decoded bytes), so the signature covers
 * every byte of the pack. Part contents are strings, not nested JSON, so that nobody has to re-serialise
 * JSON to check a hash: decode, hash, compare.
 */
import { z } from 'zod';

export const PACK_FORMAT = 'evidence-pack/1';
export const MANIFEST_TYP = 'evidence-manifest+json';
export const PACK_MEDIA_TYPE = 'application/vnd.evidence-pack+json';

/** The parts every pack has (evidence files come as `evidence-files/<evidence id>`). */
export const PART = {
  readme: 'README.md',
  partner: 'partner.json',
  applications: 'applications.json',
  questionnaire: 'questionnaire.json',
  evidence: 'evidence.json',
  certificates: 'certificates.json',
  register: 'register.json',
  decisions: 'decisions.json',
  clients: 'clients.json',
  software: 'software.json',
  audit: 'audit-events.json',
} as const;
export const EVIDENCE_FILE_PREFIX = 'evidence-files/';

/** Part names are plain relative names: no `..`, no absolute paths, nothing a careless extractor could misuse. */
export const PART_NAME = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,99}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

export const packPartSchema = z.strictObject({
  name: z.string().regex(PART_NAME),
  mediaType: z.string().min(1).max(200),
  encoding: z.enum(['utf8', 'base64']),
  content: z.string(),
});
export type PackPart = z.infer<typeof packPartSchema>;

export const packDocumentSchema = z.strictObject({
  format: z.literal(PACK_FORMAT),
  manifest: z.string().min(2),
  signature: z.string().regex(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/, 'a compact JWS with a detached payload (header..signature)'),
  key: z.strictObject({
    jwk: z.record(z.string(), z.unknown()),
    thumbprint: z.string().regex(B64URL),
  }),
  parts: z.array(packPartSchema).min(1).max(10_000),
});
export type PackDocument = z.infer<typeof packDocumentSchema>;

export const manifestPartSchema = z.strictObject({
  name: z.string().regex(PART_NAME),
  mediaType: z.string().min(1).max(200),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(SHA256_HEX),
});
export type ManifestPart = z.infer<typeof manifestPartSchema>;

const actorSchema = z.strictObject({ type: z.string(), id: z.string().nullable(), label: z.string() });

export const manifestSchema = z.strictObject({
  format: z.literal(PACK_FORMAT),
  packId: z.string().min(1).max(100),
  createdAt: z.iso.datetime(),
  createdBy: actorSchema,
  subject: z.strictObject({
    partnerId: z.string(),
    legalName: z.string(),
    organizationIdentifier: z.string().nullable(),
    applicationIds: z.array(z.string()),
  }),
  key: z.strictObject({ alg: z.literal('ES256'), thumbprint: z.string().regex(B64URL) }),
  audit: z.strictObject({
    /** How the events were chosen, in words (the selection the signature vouches for). */
    selection: z.array(z.string()),
    events: z.number().int().nonnegative(),
    firstSeq: z.number().int().positive().nullable(),
    lastSeq: z.number().int().positive().nullable(),
    /** Runs of consecutive seqs in the pack. */
    segments: z.number().int().nonnegative(),
    /** The newest event of the whole log when the pack was made. */
    chainHead: z.strictObject({ seq: z.number().int().nonnegative(), hash: z.string().regex(SHA256_HEX) }),
    /** `audit:verify` over the whole log, run by the portal while making the pack. */
    fullChainAtExport: z.strictObject({ ok: z.boolean(), checked: z.number().int().nonnegative(), problem: z.string().nullable() }),
  }),
  evidenceFiles: z.strictObject({
    policy: z.string(),
    maxFileBytes: z.number().int().nonnegative(),
    maxTotalBytes: z.number().int().nonnegative(),
    included: z.number().int().nonnegative(),
    hashOnly: z.number().int().nonnegative(),
  }),
  parts: z.array(manifestPartSchema).min(1).max(10_000),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** What `evidence.json` says of one evidence file (the verifier re-hashes the included ones against `sha256`). */
export const evidenceEntrySchema = z.looseObject({
  applicationId: z.string(),
  id: z.string(),
  sha256: z.string().regex(SHA256_HEX),
  size: z.number().int().nonnegative(),
  file: z.union([
    z.strictObject({ included: z.literal(true), part: z.string().regex(PART_NAME) }),
    z.strictObject({ included: z.literal(false), reason: z.string() }),
  ]),
});
export type EvidenceEntry = z.infer<typeof evidenceEntrySchema>;

/** One audit event as the pack carries it: every column the hash covers, plus the hash fields. */
export const packedEventSchema = z.strictObject({
  seq: z.number().int().positive(),
  id: z.string(),
  at: z.string(),
  actor: z.strictObject({ type: z.string(), id: z.string().nullable(), label: z.string().optional() }),
  action: z.string(),
  subject: z.strictObject({ type: z.string(), id: z.string() }).nullable(),
  data: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  prevHash: z.string().regex(SHA256_HEX),
  hash: z.string().regex(SHA256_HEX),
});

export const auditPartSchema = z.looseObject({
  events: z.array(packedEventSchema),
});

/** The bytes of a part as the container stores them. */
export function partBytes(part: Pick<PackPart, 'encoding' | 'content'>): Buffer {
  return part.encoding === 'utf8' ? Buffer.from(part.content, 'utf8') : Buffer.from(part.content, 'base64');
}
