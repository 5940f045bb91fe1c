/**
 * Named trust profiles: anchors from TS 119 612 trusted lists (granted CA/QC services) and PEM files,
 * deduplicated, with the signature and freshness rules the spec asks for. Every problem is a
 * TrustedListError: a fault of the operator's configuration, reported at load time.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import nodePath from 'node:path';
import type { Document } from '@xmldom/xmldom';
import { x509 } from '../x509.js';
import { verifyAgainstLotl, verifyDocumentSignature } from './signature.js';
import { announcedSigners, asLotl, readTrustedList, TSL_TYPE_LOTL } from './tl.js';
import {
  type Lotl,
  type TrustAnchor,
  type TrustedList,
  TrustedListError,
  type TrustProfile,
  type TrustProfileSpec,
} from './types.js';
import { MAX_TL_BYTES, parseXml } from './xml.js';

const MAX_PEM_BYTES = 1024 * 1024;
const MAX_DIR_FILES = 1000;
const MAX_PEM_CERTS = 1000;
const PEM_EXTENSIONS = /\.(pem|crt|cer)$/i;

/**
 * Loads a profile at `opts.at` (default now): the statuses of TL services and list freshness are judged at
 * that time. Only anchors usable for validation are returned: PEM anchors and TL services granted then.
 */
export async function loadTrustProfile(spec: TrustProfileSpec, opts: { at?: Date } = {}): Promise<TrustProfile> {
  const at = opts.at ?? new Date();
  const requireSigned = spec.requireSignedLists ?? true;
  const allowExpired = spec.allowExpiredLists ?? !requireSigned;
  const warnings: string[] = [];
  const sources: string[] = [];
  const bySha = new Map<string, TrustAnchor>();
  const anchors: TrustAnchor[] = [];

  if (spec.lotlSigners?.length && !spec.lotl) {
    throw new TrustedListError('tl.config', 'lotlSigners are given without a lotl file');
  }
  let lotl: Lotl | null = null;
  if (spec.lotl && !requireSigned) {
    warnings.push(`${spec.lotl}: the LOTL is not used because requireSignedLists is false`);
  } else if (spec.lotl) {
    lotl = await loadLotl(spec.lotl, spec.lotlSigners ?? [], at, allowExpired, warnings);
    sources.push(`lotl:${spec.lotl}`);
  }

  for (const file of spec.trustedLists) {
    const doc = parseXml(await readBounded(file, MAX_TL_BYTES), file);
    const tl = readTrustedList(doc, { at, source: file });
    if (tl.tslType === TSL_TYPE_LOTL) {
      throw new TrustedListError('tl.config', 'this is a list of trusted lists; configure it as the LOTL', file);
    }
    checkFreshness(tl, file, at, allowExpired, warnings);
    if (requireSigned) await checkListSignature(doc, tl, file, lotl, warnings);
    else warnings.push(`${file}: signature not checked (requireSignedLists is false)`);
    for (const w of tl.warnings) warnings.push(`${file}: ${w}`);

    let notGranted = 0;
    for (const a of tl.anchors) {
      if (a.status !== 'granted') {
        notGranted++;
        continue;
      }
      const seen = bySha.get(a.sha256);
      if (!seen) {
        const copy = { ...a, qualifiers: a.qualifiers ? { ...a.qualifiers } : null };
        bySha.set(a.sha256, copy);
        anchors.push(copy);
      } else if (seen.qualifiers && a.qualifiers) {
        // The same CA certificate under several granted services (e.g. one for eSig, one for eSeals).
        seen.qualifiers.web ||= a.qualifiers.web;
        seen.qualifiers.eseal ||= a.qualifiers.eseal;
        seen.qualifiers.esign ||= a.qualifiers.esign;
      }
    }
    if (notGranted) {
      warnings.push(`${file}: ${notGranted} CA/QC service certificate(s) not granted at ${at.toISOString()} left out`);
    }
    sources.push(`tl:${file}`);
  }

  for (const entry of spec.pemFiles) {
    for (const file of await pemFilesOf(entry, warnings)) {
      for (const a of await readPemAnchors(file, warnings)) {
        if (bySha.has(a.sha256)) continue; // a TL anchor carries more (status, qualifiers): keep it
        bySha.set(a.sha256, a);
        anchors.push(a);
      }
      sources.push(`pem:${file}`);
    }
  }
  if (anchors.length === 0) warnings.push(`trust profile "${spec.name}" has no anchors: every chain will be untrusted`);
  return { name: spec.name, anchors, sources, warnings };
}

async function loadLotl(
  file: string,
  pinnedFiles: string[],
  at: Date,
  allowExpired: boolean,
  warnings: string[],
): Promise<Lotl> {
  const doc = parseXml(await readBounded(file, MAX_TL_BYTES), file);
  const lotl = asLotl(readTrustedList(doc, { at, source: file }), file);
  checkFreshness(lotl, file, at, allowExpired, warnings);
  let allowed: Uint8Array[] = [];
  for (const p of pinnedFiles) {
    for (const a of await readPemAnchors(p, warnings)) allowed.push(a.der);
  }
  if (pinnedFiles.length === 0) {
    // Only self-consistency: the keys that matter are the ones published in the Official Journal.
    allowed = announcedSigners(lotl, lotl.territory);
    warnings.push(`${file}: LOTL signature checked against its own ${lotl.territory} pointer, not against pinned signers`);
  }
  const res = await verifyDocumentSignature(doc, allowed);
  if (!res.ok) throw new TrustedListError(res.code, res.reason, file);
  return lotl;
}

async function checkListSignature(
  doc: Document,
  tl: TrustedList,
  file: string,
  lotl: Lotl | null,
  warnings: string[],
): Promise<void> {
  if (lotl) {
    const res = await verifyAgainstLotl(doc, tl.territory, lotl);
    if (!res.ok) throw new TrustedListError(res.code, res.reason, file);
    return;
  }
  const res = await verifyDocumentSignature(doc, []);
  // Without a LOTL there is no list of allowed signers: a valid signature by the key it names is the most
  // that can be checked.
  if (!res.ok && res.code !== 'tl.signer-not-announced') throw new TrustedListError(res.code, res.reason, file);
  warnings.push(`${file}: signature valid, but its signer is not checked against a LOTL`);
}

function checkFreshness(tl: TrustedList, file: string, at: Date, allowExpired: boolean, warnings: string[]): void {
  if (!tl.nextUpdate || at.getTime() <= tl.nextUpdate.getTime()) return;
  const msg = `list ${tl.territory} #${tl.sequenceNumber} is past its NextUpdate ${tl.nextUpdate.toISOString()}`;
  // TS 119 612 §5.3.15: after NextUpdate a newer list must exist; a stale one may hide withdrawals.
  if (!allowExpired) throw new TrustedListError('tl.expired', msg, file);
  warnings.push(`${file}: ${msg}`);
}

async function readBounded(file: string, max: number): Promise<Uint8Array> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new TrustedListError('tl.unreadable', 'not a regular file', file);
    if (st.size > max) throw new TrustedListError('tl.malformed', `the file exceeds ${max} bytes`, file);
    return new Uint8Array(await readFile(file));
  } catch (e) {
    if (e instanceof TrustedListError) throw e;
    throw new TrustedListError('tl.unreadable', (e as Error).message, file);
  }
}

async function pemFilesOf(entry: string, warnings: string[]): Promise<string[]> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(entry);
  } catch (e) {
    throw new TrustedListError('tl.unreadable', (e as Error).message, entry);
  }
  if (!st.isDirectory()) return [entry];
  const names = (await readdir(entry)).filter((n) => PEM_EXTENSIONS.test(n)).sort();
  if (names.length > MAX_DIR_FILES) {
    throw new TrustedListError('tl.unsupported', `more than ${MAX_DIR_FILES} certificate files`, entry);
  }
  if (names.length === 0) warnings.push(`${entry}: no .pem/.crt/.cer files`);
  return names.map((n) => nodePath.join(entry, n));
}

/** PEM (one or more CERTIFICATE blocks) or a single DER certificate. */
async function readPemAnchors(file: string, warnings: string[]): Promise<TrustAnchor[]> {
  const bytes = await readBounded(file, MAX_PEM_BYTES);
  const textForm = Buffer.from(bytes).toString('latin1');
  const ders: Uint8Array[] = [];
  if (textForm.includes('-----BEGIN')) {
    let blocks: ReturnType<typeof x509.PemConverter.decodeWithHeaders>;
    try {
      blocks = x509.PemConverter.decodeWithHeaders(textForm);
    } catch {
      throw new TrustedListError('tl.malformed', 'not a readable PEM file', file);
    }
    for (const b of blocks) {
      if (b.type === 'CERTIFICATE') ders.push(new Uint8Array(b.rawData));
      else warnings.push(`${file}: a ${b.type} block is ignored${/PRIVATE/.test(b.type) ? ' (keep private keys out of anchor files)' : ''}`);
    }
  } else {
    ders.push(bytes);
  }
  if (ders.length === 0) throw new TrustedListError('tl.malformed', 'no certificate in the file', file);
  if (ders.length > MAX_PEM_CERTS) throw new TrustedListError('tl.unsupported', `more than ${MAX_PEM_CERTS} certificates`, file);
  return ders.map((der) => {
    try {
      return pemAnchor(der, `pem:${file}`);
    } catch {
      throw new TrustedListError('tl.malformed', 'a certificate in the file cannot be parsed', file);
    }
  });
}

/**
 * A trust anchor configured directly (not from a trusted list): trusted as it is, with no qualification
 * data. Throws when `der` is not a certificate.
 */
export function pemAnchor(der: Uint8Array, source: string): TrustAnchor {
  return {
    der,
    subject: new x509.X509Certificate(der).subject,
    sha256: createHash('sha256').update(der).digest('hex'),
    source,
    qualifiers: null,
    status: null,
  };
}
