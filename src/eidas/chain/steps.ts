/**
 * RFC 5280 §6.1 path processing over one candidate path, one small function per step. Each step returns
 * findings; `processPath()` runs them in the order of §6.1.3 (basic certificate processing), §6.1.4
 * (preparation for the next certificate) and §6.1.5 (wrap-up), from the certificate issued by the trust
 * anchor down to the leaf.
 *
 * Trust anchor (§6.1.1 (d)): its name and public key are trusted. Following RFC 5937 §3, constraints its
 * certificate carries (pathLenConstraint, name constraints, extended key usage) also bound the path; its
 * validity dates are reported as `info`, not as errors, because §6.1 does not check them and a trusted
 * list may keep a service whose certificate has expired.
 */
import { finding } from '../findings.js';
import {
  anyExtendedKeyUsage,
  ct_precert_poison,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_certificatePolicies,
  id_ce_cRLDistributionPoints,
  id_ce_extKeyUsage,
  id_ce_inhibitAnyPolicy,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_policyConstraints,
  id_ce_policyMappings,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_pe_authorityInfoAccess,
  id_pe_qcStatements,
} from '../oids.js';
import type { Finding, Severity } from '../types.js';
import { type ChainCert, nextWorkingKey, type WorkingKey } from './cert.js';
import { addNameConstraints, checkNames, emptyNameConstraints, type NameConstraintState } from './name-constraints.js';
import { initialPolicyState, type PolicyState, preparePolicies, processCertificatePolicies, wrapUpPolicies } from './policy.js';
import { verifyMemo, verifySigned } from './signature.js';

const keyCertSign = 0x20;

/** Extensions this engine processes or knowingly accepts when critical (§6.1.4 (o), §6.1.5 (f)). */
export const PROCESSED_EXTENSIONS = new Set([
  id_ce_subjectKeyIdentifier,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  '2.5.29.18', // issuerAltName
  id_ce_basicConstraints,
  id_ce_nameConstraints,
  id_ce_cRLDistributionPoints,
  id_ce_certificatePolicies,
  id_ce_policyMappings,
  id_ce_authorityKeyIdentifier,
  id_ce_policyConstraints,
  id_ce_extKeyUsage,
  id_ce_inhibitAnyPolicy,
  '2.5.29.46', // freshestCRL
  id_pe_authorityInfoAccess,
  '1.3.6.1.5.5.7.1.11', // subjectInfoAccess
  '1.3.6.1.5.5.7.48.1.5', // id-pkix-ocsp-nocheck
  // Evaluated by the profile checks (EN 319 412-5, RFC 6962), which report their own findings.
  id_pe_qcStatements,
  ct_precert_poison,
]);

export interface PathInput {
  at: Date;
  /** Leaf first, anchor excluded. */
  certs: ChainCert[];
  anchor: ChainCert;
  /** §6.1.3 (a)(3); null when no offline CRLs were given (revocation is checked elsewhere). */
  revocation: ((cert: ChainCert, issuer: ChainCert, issuerKey: WorkingKey, certIndex: number) => Finding[]) | null;
}

interface State {
  issuer: ChainCert;
  key: WorkingKey;
  maxPathLength: number;
  /** The certificate whose pathLenConstraint set maxPathLength, for messages. */
  maxPathSource: ChainCert | null;
  names: NameConstraintState;
  policy: PolicyState;
  policyFailed: boolean;
}

function label(cert: ChainCert): string {
  return `"${cert.subjectText().slice(0, 300)}"`;
}

/** §6.1.3 (a)(1): the signature verifies with the working public key (and inner = outer algorithm). */
export function checkSignature(cert: ChainCert, issuer: ChainCert, key: WorkingKey, certIndex: number): Finding[] {
  if (!cert.innerAlgMatches) {
    return [finding('signature.invalid', `Certificate ${label(cert)} names different signature algorithms inside and outside the signed part (RFC 5280 §4.1.1.2).`, { certIndex })];
  }
  const r = verifyMemo(key.spkiHash, cert.sha256, () => verifySigned(cert.tbs, cert.signature, cert.sigAlg, key.publicKey()));
  if (r.ok === true) return [];
  return [finding('signature.invalid', `The signature on ${label(cert)} does not verify with the key of ${label(issuer)}: ${r.reason}.`, { certIndex })];
}

/** §6.1.3 (a)(2): the validation time is within the validity period. */
export function checkValidity(cert: ChainCert, at: Date, certIndex: number, severity?: Severity): Finding[] {
  const opts = severity ? { certIndex, severity } : { certIndex };
  if (at.getTime() > cert.notAfter.getTime()) {
    return [finding('expired', `Certificate ${label(cert)} expired on ${cert.notAfter.toISOString()}.`, opts)];
  }
  if (at.getTime() < cert.notBefore.getTime()) {
    return [finding('not-yet-valid', `Certificate ${label(cert)} is valid only from ${cert.notBefore.toISOString()}.`, opts)];
  }
  return [];
}

/** §6.1.3 (a)(4): the issuer name is the working issuer name. */
export function checkIssuerName(cert: ChainCert, issuer: ChainCert, certIndex: number): Finding[] {
  if (cert.issuer.key === issuer.subject.key) return [];
  return [finding('chain.untrusted', `Certificate ${label(cert)} names issuer "${cert.issuerText()}", not ${label(issuer)}.`, { certIndex })];
}

/** RFC 5280 §4.2.1.1: when both are present, the AKI key identifier must be the issuer's SKI. */
export function checkKeyIdentifiers(cert: ChainCert, issuer: ChainCert, certIndex: number): Finding[] {
  if (!cert.akiKeyId || !issuer.ski || cert.akiKeyId === issuer.ski) return [];
  return [finding('signature.invalid', `Certificate ${label(cert)} names issuer key ${cert.akiKeyId}, but ${label(issuer)} has key ${issuer.ski}.`, { certIndex })];
}

/** §6.1.3 (b), (c): names within the permitted and outside the excluded subtrees. */
export function checkNameConstraintsStep(st: State, cert: ChainCert, certIndex: number, isLeaf: boolean): Finding[] {
  if (cert.selfIssued && !isLeaf) return [];
  return checkNames(st.names, cert).map((p) =>
    finding('chain.name-constraints', `Certificate ${label(cert)}: ${p}.`, { certIndex }),
  );
}

/** §6.1.3 (d)-(f): certificate policies. */
export function checkPoliciesStep(st: State, cert: ChainCert, i: number, n: number, certIndex: number): Finding[] {
  if (st.policyFailed) return [];
  const problem = processCertificatePolicies(st.policy, cert, i, n);
  if (!problem) return [];
  st.policyFailed = true;
  return [finding('chain.policy', `Certificate ${label(cert)}: ${problem}.`, { certIndex })];
}

/** §6.1.4 (a), (b), (h)-(j): policy mappings and policy counters. */
export function preparePoliciesStep(st: State, cert: ChainCert, certIndex: number): Finding[] {
  if (st.policyFailed) return [];
  const problem = preparePolicies(st.policy, cert);
  if (!problem) return [];
  st.policyFailed = true;
  return [finding('chain.policy', `CA certificate ${label(cert)}: ${problem}.`, { certIndex })];
}

/** §6.1.4 (k): an intermediate must be a v3 CA certificate (basicConstraints cA TRUE). */
export function checkBasicConstraints(cert: ChainCert, certIndex: number): Finding[] {
  if (cert.version < 3) {
    return [finding('chain.ca-invalid', `Certificate ${label(cert)} is a version ${cert.version} certificate, so nothing says it may act as a CA.`, { certIndex })];
  }
  if (cert.badExtensions.has(id_ce_basicConstraints)) {
    return [finding('chain.ca-invalid', `Certificate ${label(cert)} has a basicConstraints extension that can not be read.`, { certIndex })];
  }
  if (cert.basicConstraints?.ca !== true) {
    const why = cert.basicConstraints ? 'basicConstraints says cA FALSE' : 'it has no basicConstraints extension';
    return [finding('chain.ca-invalid', `Certificate ${label(cert)} issues other certificates but ${why}.`, { certIndex })];
  }
  return [];
}

/** §6.1.4 (l), (m): pathLenConstraint. */
export function checkPathLength(st: State, cert: ChainCert, certIndex: number): Finding[] {
  const out: Finding[] = [];
  if (!cert.selfIssued) {
    if (st.maxPathLength <= 0) {
      const src = st.maxPathSource ? ` allowed by the pathLenConstraint of ${label(st.maxPathSource)}` : '';
      out.push(finding('chain.path-length', `CA certificate ${label(cert)} is one CA more than${src || ' the path allows'}.`, { certIndex }));
    }
    st.maxPathLength--;
  }
  const pl = cert.basicConstraints?.pathLen;
  if (pl !== undefined && pl < st.maxPathLength) {
    st.maxPathLength = pl;
    st.maxPathSource = cert;
  }
  return out;
}

/** §6.1.4 (n): a CA key used to sign certificates must allow keyCertSign. */
export function checkKeyCertSign(cert: ChainCert, certIndex: number): Finding[] {
  if (cert.badExtensions.has(id_ce_keyUsage)) {
    return [finding('chain.ca-invalid', `CA certificate ${label(cert)} has a keyUsage extension that can not be read.`, { certIndex })];
  }
  if (cert.keyUsage !== null && (cert.keyUsage & keyCertSign) === 0) {
    return [finding('chain.ca-invalid', `CA certificate ${label(cert)} has a keyUsage without keyCertSign, so it may not sign certificates.`, { certIndex })];
  }
  return [];
}

/** §6.1.4 (o), §6.1.5 (f): critical extensions must be recognised and processed. */
export function checkCriticalExtensions(cert: ChainCert, certIndex: number): Finding[] {
  const out: Finding[] = [];
  for (const e of cert.extensions) {
    if (!e.critical) continue;
    if (!PROCESSED_EXTENSIONS.has(e.oid)) {
      out.push(finding('critical-extension.unknown', `Certificate ${label(cert)} carries the critical extension ${e.oid}, which this engine does not process.`, { certIndex }));
    } else if (cert.badExtensions.has(e.oid) && e.oid !== id_ce_basicConstraints && e.oid !== id_ce_keyUsage) {
      out.push(finding('critical-extension.unknown', `Certificate ${label(cert)} carries the critical extension ${e.oid}, which can not be decoded.`, { certIndex }));
    }
  }
  return out;
}

/**
 * RFC 5280 §4.2.1.12 as applied along the path (CA/Browser Forum BR §7.1.2.2, RFC 5937 for the anchor):
 * every extended key usage the leaf asserts must be allowed by each CA that restricts its own EKU.
 */
export function checkEkuAlongPath(leaf: ChainCert, cas: ChainCert[], anchorIndex: number): Finding[] {
  const out: Finding[] = [];
  if (leaf.badExtensions.has(id_ce_extKeyUsage)) return out;
  const asserted = (leaf.eku ?? []).filter((u) => u !== anyExtendedKeyUsage);
  if (asserted.length === 0) return out;
  cas.forEach((ca, idx) => {
    const certIndex = Math.min(idx + 1, anchorIndex);
    if (ca.badExtensions.has(id_ce_extKeyUsage)) {
      out.push(finding('chain.eku-mismatch', `CA certificate ${label(ca)} has an extendedKeyUsage extension that can not be read.`, { certIndex }));
      return;
    }
    if (!ca.eku || ca.eku.includes(anyExtendedKeyUsage)) return;
    const denied = asserted.filter((u) => !ca.eku?.includes(u));
    if (denied.length > 0) {
      out.push(
        finding('chain.eku-mismatch', `The certificate asserts the extended key usage ${denied.join(', ')}, which CA certificate ${label(ca)} does not allow (it allows ${ca.eku.join(', ')}).`, { certIndex: 0 }),
      );
    }
  });
  return out;
}

/** Runs §6.1.2-§6.1.5 over the path. The anchor's certificate is `input.anchor` (index certs.length). */
export function processPath(input: PathInput): Finding[] {
  const { certs, anchor, at } = input;
  const n = certs.length;
  const anchorIndex = n;
  const out: Finding[] = [];
  const st: State = {
    issuer: anchor,
    key: nextWorkingKey(anchor, null),
    maxPathLength: n,
    maxPathSource: null,
    names: emptyNameConstraints(),
    policy: initialPolicyState(n),
    policyFailed: false,
  };
  // RFC 5937 §3: constraints in the anchor's certificate.
  const apl = anchor.basicConstraints?.pathLen;
  if (apl !== undefined && apl < st.maxPathLength) {
    st.maxPathLength = apl;
    st.maxPathSource = anchor;
  }
  addNameConstraints(st.names, anchor);
  out.push(...checkValidity(anchor, at, anchorIndex, 'info'));

  for (let i = 1; i <= n; i++) {
    const certIndex = n - i;
    const cert = certs[certIndex];
    if (!cert) break;
    const isLeaf = i === n;
    // §6.1.3
    out.push(...checkSignature(cert, st.issuer, st.key, certIndex));
    out.push(...checkKeyIdentifiers(cert, st.issuer, certIndex));
    out.push(...checkValidity(cert, at, certIndex));
    if (input.revocation) out.push(...input.revocation(cert, st.issuer, st.key, certIndex));
    out.push(...checkIssuerName(cert, st.issuer, certIndex));
    out.push(...checkNameConstraintsStep(st, cert, certIndex, isLeaf));
    out.push(...checkPoliciesStep(st, cert, i, n, certIndex));
    out.push(...checkCriticalExtensions(cert, certIndex));
    if (isLeaf) break;
    // §6.1.4
    out.push(...preparePoliciesStep(st, cert, certIndex));
    addNameConstraints(st.names, cert);
    if (cert.badExtensions.has(id_ce_nameConstraints)) {
      out.push(finding('chain.name-constraints', `CA certificate ${label(cert)} has a nameConstraints extension that can not be read.`, { certIndex }));
    }
    out.push(...checkBasicConstraints(cert, certIndex));
    out.push(...checkPathLength(st, cert, certIndex));
    out.push(...checkKeyCertSign(cert, certIndex));
    st.issuer = cert;
    st.key = nextWorkingKey(cert, st.key);
  }
  // §6.1.5
  const leaf = certs[0];
  if (leaf && !st.policyFailed) {
    const problem = wrapUpPolicies(st.policy, leaf);
    if (problem) out.push(finding('chain.policy', `Certificate ${label(leaf)}: ${problem}.`, { certIndex: 0 }));
  }
  if (leaf) out.push(...checkEkuAlongPath(leaf, [...certs.slice(1), anchor], anchorIndex));
  return out;
}
