/**
 * Sealing an evidence pack: parts → manifest (each part's size and SHA-256) → JWS over the manifest's bytes
 * → one JSON document. Pure apart from the signature; the collector (service.ts) decides what goes in.
 */
import { createHash } from 'node:crypto';
import { CompactSign } from 'jose';
import type { EvidenceSigner } from './keys.js';
import { EVIDENCE_ALG } from './keys.js';
import { type Manifest, MANIFEST_TYP, PACK_FORMAT, PART_NAME, type PackDocument, type PackPart } from './format.js';

export interface PartInput {
  name: string;
  mediaType: string;
  encoding: PackPart['encoding'];
  bytes: Buffer;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A JSON part: pretty-printed (auditors read these), the text itself is what is hashed. */
export function jsonPart(name: string, value: unknown): PartInput {
  return { name, mediaType: 'application/json', encoding: 'utf8', bytes: Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8') };
}

export function textPart(name: string, text: string, mediaType = 'text/markdown; charset=utf-8'): PartInput {
  return { name, mediaType, encoding: 'utf8', bytes: Buffer.from(text, 'utf8') };
}

/** A file stored as is (base64 in the container). */
export function filePart(name: string, bytes: Buffer, mediaType: string): PartInput {
  return { name, mediaType, encoding: 'base64', bytes };
}

export type ManifestMeta = Omit<Manifest, 'format' | 'key' | 'parts'>;

export interface SealedPack {
  document: PackDocument;
  /** The file to hand out: the document as JSON, newline-terminated. */
  bytes: Buffer;
  manifest: Manifest;
  /** SHA-256 of the manifest's bytes: what the export's audit event records. */
  manifestSha256: string;
}

export async function sealPack(meta: ManifestMeta, parts: PartInput[], signer: EvidenceSigner): Promise<SealedPack> {
  const names = new Set<string>();
  for (const p of parts) {
    if (!PART_NAME.test(p.name)) throw new TypeError(`evidence pack: bad part name ${p.name}`);
    if (names.has(p.name)) throw new TypeError(`evidence pack: part ${p.name} twice`);
    names.add(p.name);
    // A UTF-8 part must survive the round trip through a JSON string byte for byte.
    if (p.encoding === 'utf8' && !Buffer.from(p.bytes.toString('utf8'), 'utf8').equals(p.bytes)) {
      throw new TypeError(`evidence pack: part ${p.name} is not valid UTF-8; store it as base64`);
    }
  }
  const manifest: Manifest = {
    format: PACK_FORMAT,
    ...meta,
    key: { alg: EVIDENCE_ALG, thumbprint: signer.kid },
    parts: parts.map((p) => ({ name: p.name, mediaType: p.mediaType, size: p.bytes.length, sha256: sha256Hex(p.bytes) })),
  };
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  const manifestBytes = Buffer.from(manifestText, 'utf8');
  const jws = await new CompactSign(manifestBytes)
    .setProtectedHeader({ alg: EVIDENCE_ALG, kid: signer.kid, typ: MANIFEST_TYP })
    .sign(signer.key);
  const [header, , signature] = jws.split('.');
  const document: PackDocument = {
    format: PACK_FORMAT,
    manifest: manifestText,
    // RFC 7515 Appendix F: the payload is the manifest member, so it is not carried twice.
    signature: `${header}..${signature}`,
    key: { jwk: { ...signer.publicJwk }, thumbprint: signer.kid },
    parts: parts.map((p) => ({
      name: p.name,
      mediaType: p.mediaType,
      encoding: p.encoding,
      content: p.encoding === 'utf8' ? p.bytes.toString('utf8') : p.bytes.toString('base64'),
    })),
  };
  return { document, bytes: Buffer.from(`${JSON.stringify(document, null, 1)}\n`, 'utf8'), manifest, manifestSha256: sha256Hex(manifestBytes) };
}
