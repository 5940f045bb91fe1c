/**
 * CRL processing (RFC 5280 §5 and §6.3): is this certificate revoked according to this CRL, and may the
 * CRL be used at all? `verifyCrlStatus()` is the contract the revocation module calls for CRLs it
 * downloads; path validation uses `evaluateCrl()` for the offline CRLs it is given.
 *
 * A CRL is unusable ('invalid') when: it does not decode; it is a delta CRL; it carries a critical
 * extension (CRL or entry) that is not processed here (§5.2, §5.3); its issuer is not the certificate's
 * issuer; its AKI names another key; the issuer key lacks cRLSign; the signature does not verify; its
 * nextUpdate has passed; its issuing distribution point does not cover the certificate (§6.3.3 (b)).
 */
import type { KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1x509 from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { type ChainCert, getChainCert, sha256Hex } from './cert.js';
import { Lru } from './lru.js';
import { type NormName, normalizeName } from './names.js';
import { verifyMemo, verifySigned } from './signature.js';

/** CRLs above this size are not decoded here (the revocation module has the same limit). */
export const MAX_CRL_BYTES = 1024 * 1024;
/** RFC 5280 §5.3.1 reasons other than `unused`, as ReasonFlags bits. */
export const ALL_REASONS = 0x1fe;

const id_ce_cRLNumber = '2.5.29.20';
const id_ce_deltaCRLIndicator = '2.5.29.27';
const id_ce_issuingDistributionPoint = '2.5.29.28';
const id_ce_authorityKeyIdentifier = '2.5.29.35';
const id_ce_issuerAltName = '2.5.29.18';
const id_ce_freshestCRL = '2.5.29.46';
const id_pe_authorityInfoAccess = '1.3.6.1.5.5.7.1.1';
const id_ce_cRLReasons = '2.5.29.21';
const id_ce_invalidityDate = '2.5.29.24';
const id_ce_certificateIssuer = '2.5.29.29';
const KNOWN_CRL_EXTENSIONS = new Set([
  id_ce_cRLNumber,
  id_ce_deltaCRLIndicator,
  id_ce_issuingDistributionPoint,
  id_ce_authorityKeyIdentifier,
  id_ce_issuerAltName,
  id_ce_freshestCRL,
  id_pe_authorityInfoAccess,
]);
const KNOWN_ENTRY_EXTENSIONS = new Set([id_ce_cRLReasons, id_ce_invalidityDate, id_ce_certificateIssuer]);
const cRLSignBit = asn1x509.KeyUsageFlags.cRLSign;

/** RFC 5280 §5.3.1 CRLReason names (also used for OCSP revocation reasons, RFC 6960 §4.2.1). */
export const CRL_REASONS: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

export interface CrlEntry {
  revokedAt: Date;
  reason: string | null;
  /** Normalised name key of the certificate issuer this entry is about (indirect CRLs, §5.3.3). */
  issuerKey: string;
}

export interface ParsedCrl {
  sha256: string;
  issuer: NormName;
  tbs: Uint8Array;
  sigAlg: asn1x509.AlgorithmIdentifier;
  signature: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date | null;
  crlNumber: bigint | null;
  /** BaseCRLNumber when this is a delta CRL (§5.2.4). */
  deltaBase: bigint | null;
  akiKeyId: string | null;
  idp: asn1x509.IssuingDistributionPoint | null;
  /** Critical CRL or entry extensions that are not processed, and extensions that did not decode. */
  problems: string[];
  entries: Map<string, CrlEntry[]>;
}

export interface CrlVerdict {
  status: 'good' | 'revoked' | 'invalid';
  revokedAt?: Date;
  reason?: string;
  thisUpdate?: Date;
  nextUpdate?: Date;
  error?: string;
  /** Reasons (ReasonFlags bits) this CRL speaks for; ALL_REASONS for a full CRL. */
  reasons?: number;
}

const crlCache = new Lru<string, ParsedCrl>(16);

function hex(buf: ArrayBuffer | Uint8Array): string {
  return Buffer.from(buf instanceof Uint8Array ? buf : new Uint8Array(buf)).toString('hex');
}


function integerOf(der: ArrayBuffer): bigint | null {
  const asn = asn1js.fromBER(der);
  if (asn.offset === -1 || !(asn.result instanceof asn1js.Integer)) return null;
  const h = hex(asn.result.valueBlock.valueHexView);
  return h.length === 0 ? null : BigInt(`0x${h}`);
}

export function parseCrl(der: Uint8Array): ParsedCrl | string {
  if (der.byteLength === 0 || der.byteLength > MAX_CRL_BYTES) return 'the CRL is empty or larger than 1 MiB';
  const sha = sha256Hex(der);
  const hit = crlCache.get(sha);
  if (hit) return hit;
  let asn: asn1x509.CertificateList;
  try {
    // asn1js caps a decode at 10,000 nodes by default; a 1 MiB CRL of ~25,000 entries has ~10 nodes an
    // entry. Every node takes at least two bytes, so the size bound above also bounds the node count.
    asn = AsnConvert.parse(der, asn1x509.CertificateList, {
      berOptions: { parseEmbedded: false, maxNodes: Math.ceil(der.byteLength / 2) + 16 },
    });
  } catch {
    return 'the CRL could not be decoded';
  }
  if (!asn.tbsCertListRaw) return 'the CRL could not be decoded';
  try {
    const tbs = asn.tbsCertList;
    const issuer = normalizeName(tbs.issuer);
    const crl: ParsedCrl = {
      sha256: sha,
      issuer,
      tbs: new Uint8Array(asn.tbsCertListRaw),
      sigAlg: asn.signatureAlgorithm,
      signature: new Uint8Array(asn.signature),
      thisUpdate: tbs.thisUpdate.getTime(),
      nextUpdate: tbs.nextUpdate ? tbs.nextUpdate.getTime() : null,
      crlNumber: null,
      deltaBase: null,
      akiKeyId: null,
      idp: null,
      problems: [],
      entries: new Map(),
    };
    readCrlExtensions(crl, tbs.crlExtensions ?? []);
    let currentIssuer = issuer.key;
    const indirect = crl.idp?.indirectCRL === true;
    for (const rc of tbs.revokedCertificates ?? []) {
      const entry: CrlEntry = { revokedAt: rc.revocationDate.getTime(), reason: null, issuerKey: currentIssuer };
      for (const ext of rc.crlEntryExtensions ?? []) {
        try {
          if (ext.extnID === id_ce_cRLReasons) {
            const r = AsnConvert.parse(ext.extnValue.buffer, asn1x509.CRLReason).reason;
            entry.reason = CRL_REASONS[r] ?? `reason ${r}`;
          } else if (ext.extnID === id_ce_certificateIssuer && indirect) {
            const dn = Array.from(AsnConvert.parse(ext.extnValue.buffer, asn1x509.CertificateIssuer)).find(
              (g) => g.directoryName,
            )?.directoryName;
            if (dn) currentIssuer = normalizeName(dn).key;
            entry.issuerKey = currentIssuer;
          } else if (!KNOWN_ENTRY_EXTENSIONS.has(ext.extnID) || ext.extnID === id_ce_certificateIssuer) {
            // §5.3: a critical entry extension we do not process makes the whole CRL unusable; the
            // certificateIssuer extension is only processed for indirect CRLs.
            if (ext.critical) crl.problems.push(`the CRL entry extension ${ext.extnID} is critical and not supported`);
          }
        } catch {
          if (ext.critical) crl.problems.push(`the critical CRL entry extension ${ext.extnID} could not be decoded`);
        }
      }
      // Serial numbers are matched on their INTEGER content bytes (RFC 5280 §5.3: exact match).
      const k = hex(rc.userCertificate);
      const list = crl.entries.get(k);
      if (list) list.push(entry);
      else crl.entries.set(k, [entry]);
    }
    crlCache.set(sha, crl);
    return crl;
  } catch {
    return 'the CRL could not be decoded';
  }
}

function readCrlExtensions(crl: ParsedCrl, exts: asn1x509.Extension[]): void {
  const seen = new Set<string>();
  for (const ext of exts) {
    if (seen.has(ext.extnID)) {
      crl.problems.push(`the CRL extension ${ext.extnID} appears twice`);
      continue;
    }
    seen.add(ext.extnID);
    if (!KNOWN_CRL_EXTENSIONS.has(ext.extnID)) {
      if (ext.critical) crl.problems.push(`the CRL extension ${ext.extnID} is critical and not supported`);
      continue;
    }
    try {
      const v = ext.extnValue.buffer;
      if (ext.extnID === id_ce_cRLNumber) crl.crlNumber = integerOf(v);
      else if (ext.extnID === id_ce_deltaCRLIndicator) crl.deltaBase = integerOf(v) ?? -1n;
      else if (ext.extnID === id_ce_issuingDistributionPoint) {
        crl.idp = AsnConvert.parse(v, asn1x509.IssuingDistributionPoint);
      } else if (ext.extnID === id_ce_authorityKeyIdentifier) {
        const aki = AsnConvert.parse(v, asn1x509.AuthorityKeyIdentifier);
        crl.akiKeyId = aki.keyIdentifier ? hex(aki.keyIdentifier.buffer) : null;
      }
    } catch {
      crl.problems.push(`the CRL extension ${ext.extnID} could not be decoded`);
    }
  }
}

function isCa(cert: ChainCert): boolean {
  return cert.basicConstraints?.ca === true;
}

function reasonBits(r: asn1x509.Reason | undefined): number {
  return r ? r.toNumber() & ALL_REASONS : ALL_REASONS;
}

/** GeneralName equality for distribution point names: URIs exactly, directory names per §7.1. */
function generalNameKey(g: asn1x509.GeneralName): string | null {
  if (g.uniformResourceIdentifier !== undefined) return `uri:${g.uniformResourceIdentifier}`;
  if (g.directoryName) return `dn:${normalizeName(g.directoryName).key}`;
  if (g.dNSName !== undefined) return `dns:${g.dNSName.toLowerCase()}`;
  if (g.rfc822Name !== undefined) return `email:${g.rfc822Name}`;
  return null;
}

function dpNames(dp: asn1x509.DistributionPointName | undefined, relativeTo: asn1x509.Name): Set<string> {
  const out = new Set<string>();
  if (!dp) return out;
  for (const g of dp.fullName ?? []) {
    const k = generalNameKey(g);
    if (k) out.add(k);
  }
  if (dp.nameRelativeToCRLIssuer) {
    // §4.2.1.13: the full name is the CRL issuer's name with this RDN appended.
    const full = new asn1x509.Name([...relativeTo, dp.nameRelativeToCRLIssuer]);
    out.add(`dn:${normalizeName(full).key}`);
  }
  return out;
}

/**
 * §6.3.3 (b): does the CRL cover the certificate through one of its distribution points (or the default
 * one, "CRLs of my issuer, all reasons", when it has none)? Returns the reasons covered, or a string
 * saying why the CRL does not apply.
 */
function scopeCheck(cert: ChainCert, crl: ParsedCrl): number | string {
  const idp = crl.idp;
  // (b)(2)(ii)-(iv)
  if (idp?.onlyContainsUserCerts && isCa(cert)) return 'the CRL only covers end-entity certificates';
  if (idp?.onlyContainsCACerts && !isCa(cert)) return 'the CRL only covers CA certificates';
  if (idp?.onlyContainsAttributeCerts) return 'the CRL only covers attribute certificates';
  const dps: (asn1x509.DistributionPoint | null)[] =
    cert.crlDistributionPoints && cert.crlDistributionPoints.length > 0 ? cert.crlDistributionPoints : [null];
  const idpNames = idp?.distributionPoint ? dpNames(idp.distributionPoint, crl.issuer.asn) : null;
  let covered = 0;
  let why = "the CRL issuer is not the certificate's issuer";
  for (const dp of dps) {
    const crlIssuers = (dp?.cRLIssuer ?? []).map((g) => g.directoryName).filter((n): n is asn1x509.Name => !!n);
    // (b)(1): a DP with cRLIssuer is served by an indirect CRL of that issuer; otherwise by the issuer.
    if (dp?.cRLIssuer && dp.cRLIssuer.length > 0) {
      if (idp?.indirectCRL !== true) {
        why = 'the certificate names a separate CRL issuer but this CRL is not an indirect CRL';
        continue;
      }
      if (!crlIssuers.some((n) => normalizeName(n).key === crl.issuer.key)) {
        why = 'the CRL issuer is not the CRL issuer the certificate names';
        continue;
      }
    } else if (crl.issuer.key !== cert.issuer.key) {
      why = "the CRL issuer is not the certificate's issuer";
      continue;
    }
    // (b)(2)(i)
    if (idpNames) {
      const base = crlIssuers[0] ?? cert.issuer.asn;
      const names = dp?.distributionPoint
        ? dpNames(dp.distributionPoint, base)
        : new Set((dp?.cRLIssuer ?? []).map(generalNameKey).filter((k): k is string => k !== null));
      if (![...names].some((n) => idpNames.has(n))) {
        why = "the CRL's issuing distribution point is not one the certificate names";
        continue;
      }
    }
    // (b)(2)(v), (d)
    covered |= reasonBits(dp?.reasons) & reasonBits(idp?.onlySomeReasons);
  }
  if (covered === 0) return why;
  return covered;
}

/**
 * May `signer` sign CRLs for `cert`'s issuer? The key must verify the CRL signature, carry cRLSign when
 * it has a keyUsage extension (§6.3.3 (f)), and match the CRL's AKI when both are present.
 */
export function checkCrlSigner(
  crl: ParsedCrl,
  signer: ChainCert,
  key: { spkiHash: string; publicKey(): KeyObject | null } = signer,
): string | null {
  if (crl.akiKeyId && signer.ski && crl.akiKeyId !== signer.ski) return "the CRL's authority key identifier names another key";
  if (signer.keyUsage !== null && (signer.keyUsage & cRLSignBit) === 0) {
    return 'the CRL issuer certificate does not allow CRL signing (keyUsage without cRLSign)';
  }
  if (signer.badExtensions.has('2.5.29.15')) return "the CRL issuer certificate's keyUsage could not be decoded";
  const sig = verifyMemo(key.spkiHash, crl.sha256, () => verifySigned(crl.tbs, crl.signature, crl.sigAlg, key.publicKey()));
  if (!sig.ok) return `the CRL signature is not valid: ${sig.reason}`;
  return null;
}

/**
 * Everything about one complete CRL and one certificate except who signed it: the caller checks the
 * signer with `checkCrlSigner()` (the certificate's issuer, or a CRL signer found for it).
 */
export function crlStatusUnsigned(cert: ChainCert, crl: ParsedCrl, at: Date): CrlVerdict {
  const base: CrlVerdict = { status: 'invalid', thisUpdate: crl.thisUpdate };
  if (crl.nextUpdate) base.nextUpdate = crl.nextUpdate;
  if (crl.problems.length > 0) return { ...base, error: crl.problems.join('; ') };
  if (crl.deltaBase !== null) return { ...base, error: 'a delta CRL alone can not establish a status' };
  // §6.3.3 (a)(2): a CRL whose nextUpdate has passed is stale.
  if (crl.nextUpdate && crl.nextUpdate.getTime() < at.getTime()) {
    return { ...base, error: `the CRL expired at ${crl.nextUpdate.toISOString()} (nextUpdate)` };
  }
  const scope = scopeCheck(cert, crl);
  if (typeof scope === 'string') return { ...base, error: scope };
  const entry = crl.entries.get(cert.serialRaw)?.find((e) => e.issuerKey === cert.issuer.key);
  if (entry && entry.reason !== 'removeFromCRL') {
    const out: CrlVerdict = { ...base, status: 'revoked', revokedAt: entry.revokedAt, reasons: scope };
    if (entry.reason) out.reason = entry.reason;
    return out;
  }
  return { ...base, status: 'good', reasons: scope };
}

/**
 * §5.2.4: a delta CRL updates a complete CRL whose cRLNumber is at least the delta's BaseCRLNumber.
 * Returns the updated verdict, or the base verdict when the delta does not apply.
 */
export function applyDelta(cert: ChainCert, baseCrl: ParsedCrl, delta: ParsedCrl, at: Date, v: CrlVerdict): CrlVerdict {
  if (delta.deltaBase === null || delta.problems.length > 0) return v;
  if (baseCrl.crlNumber === null || baseCrl.crlNumber < delta.deltaBase) return v;
  if (delta.issuer.key !== baseCrl.issuer.key) return v;
  if (delta.nextUpdate && delta.nextUpdate.getTime() < at.getTime()) return v;
  if (typeof scopeCheck(cert, delta) === 'string') return v;
  const entry = delta.entries.get(cert.serialRaw)?.find((e) => e.issuerKey === cert.issuer.key);
  if (!entry) return v;
  if (entry.reason === 'removeFromCRL') {
    const out: CrlVerdict = { ...v, status: 'good' };
    delete out.revokedAt;
    delete out.reason;
    return out;
  }
  const out: CrlVerdict = { ...v, status: 'revoked', revokedAt: entry.revokedAt };
  if (entry.reason) out.reason = entry.reason;
  return out;
}

/**
 * The contract used by the revocation module: the status of `cert` according to `crl`, checked against
 * `issuer` (the certificate that issued `cert` and must have signed the CRL) at time `at`.
 */
export async function verifyCrlStatus(input: {
  cert: Uint8Array;
  issuer: Uint8Array;
  crl: Uint8Array;
  at: Date;
}): Promise<{
  status: 'good' | 'revoked' | 'invalid';
  revokedAt?: Date;
  reason?: string;
  thisUpdate?: Date;
  nextUpdate?: Date;
  error?: string;
}> {
  try {
    const cert = getChainCert(input.cert);
    if (!cert) return { status: 'invalid', error: 'the certificate could not be decoded' };
    const issuer = getChainCert(input.issuer);
    if (!issuer) return { status: 'invalid', error: 'the issuer certificate could not be decoded' };
    const crl = parseCrl(input.crl);
    if (typeof crl === 'string') return { status: 'invalid', error: crl };
    const v = crlStatusUnsigned(cert, crl, input.at);
    const strip = (x: CrlVerdict) => {
      const { reasons: _r, ...rest } = x;
      return rest;
    };
    if (v.status === 'invalid') return strip(v);
    // Indirect CRLs and separate CRL-signing keys need a path for the CRL signer: validatePath does that
    // with the certificates it has; here the given issuer must have signed the CRL itself.
    if (crl.issuer.key !== issuer.subject.key) {
      return strip({ ...v, status: 'invalid', error: 'the CRL was not issued by the given issuer certificate' });
    }
    const signerProblem = checkCrlSigner(crl, issuer);
    if (signerProblem) return strip({ ...v, status: 'invalid', error: signerProblem });
    if (v.status === 'good' && (v.reasons ?? 0) !== ALL_REASONS) {
      return strip({ ...v, status: 'invalid', error: 'the CRL only covers some revocation reasons' });
    }
    return strip(v);
  } catch (e) {
    return { status: 'invalid', error: `the CRL could not be processed (${e instanceof Error ? e.message : 'error'})` };
  }
}
