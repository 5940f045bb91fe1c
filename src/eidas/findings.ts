/**
 * The finding vocabulary: a stable public contract. Codes are never renamed or reused; new codes may be
 * added. docs/certificate-findings.md is generated from this table (`npm run docs:findings`) and a test
 * fails when the two disagree.
 *
 * A finding's message is the specific problem (written by the check) followed by the catalogue's `fix`.
 */
import type { Finding, Severity } from './types.js';

interface FindingSpec {
  severity: Severity;
  requirement: string;
  /** One-line description of the condition, used when a check gives no specific detail. */
  summary: string;
  /** What the certificate holder should do about it. */
  fix: string;
}

export const FINDINGS = {
  // --- input --------------------------------------------------------------------------------------
  malformed: {
    severity: 'error',
    requirement: 'RFC 5280 §4.1',
    summary: 'The input is not a readable X.509 certificate.',
    fix: 'Send the certificate as PEM, DER, a PKCS#7 bundle or a PKCS#12 file, exported unchanged from the issuing CA.',
  },
  'input.password': {
    severity: 'error',
    requirement: 'RFC 7292 §4',
    summary: 'The PKCS#12 file could not be opened with the password given.',
    fix: 'Give the export password of the PKCS#12 file, or upload the certificate alone as PEM or DER.',
  },
  precertificate: {
    severity: 'error',
    requirement: 'RFC 6962 §3.1',
    summary: 'This is a Certificate Transparency pre-certificate (it carries the CT poison extension).',
    fix: 'Use the final certificate the CA issued after logging, not the pre-certificate.',
  },
  'extension.duplicate': {
    severity: 'error',
    requirement: 'RFC 5280 §4.2',
    summary: 'An extension appears more than once.',
    fix: 'Ask the CA to reissue the certificate: each extension may appear only once.',
  },
  // --- qcStatements (RFC 3739, EN 319 412-5) -------------------------------------------------------
  'qcstatements.malformed': {
    severity: 'error',
    requirement: 'RFC 3739 §3.2.6; ETSI EN 319 412-5 §4',
    summary: 'The qcStatements extension is not a valid SEQUENCE OF QCStatement.',
    fix: 'Ask the QTSP to reissue the certificate with a standard qcStatements encoding (a SEQUENCE OF QCStatement).',
  },
  'qcstatements.critical': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-5 §4.1',
    summary: 'The qcStatements extension is marked critical.',
    fix: 'Ask the QTSP to reissue the certificate with the qcStatements extension marked non-critical.',
  },
  'qc.not-compliant': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-5 §4.2.1; Regulation (EU) 910/2014 Annex III/IV',
    summary: 'The certificate does not claim to be an EU qualified certificate (no QcCompliance statement).',
    fix: 'Use a qualified certificate (QWAC or QSealC) from a qualified trust service provider on an EU trusted list.',
  },
  'qc.type-missing': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-5 §4.2.3',
    summary: 'The certificate has no QcType statement, so it is neither a QWAC nor a QSealC.',
    fix: 'Use a qualified certificate whose QcType says web (QWAC) or eseal (QSealC).',
  },
  'qc.type-multiple': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-5 §4.2.3',
    summary: 'The QcType statement names more than one certificate type.',
    fix: 'Use one certificate per purpose: a QWAC (QcType web) for TLS and a QSealC (QcType eseal) for signing.',
  },
  'qc.type-mismatch': {
    severity: 'error',
    requirement: 'ETSI TS 119 495 §4.1; ETSI EN 319 412-5 §4.2.3',
    summary: 'The certificate type does not fit the use it is presented for.',
    fix: 'Present the QWAC (QcType web) for mutual TLS and the QSealC (QcType eseal) for signatures.',
  },
  'qc.sscd-not-allowed': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-5 §4.2.2; ETSI EN 319 412-4',
    summary: 'A website authentication certificate claims its key is in a qualified signature creation device.',
    fix: 'Ask the QTSP to reissue the QWAC without the QcSSCD statement.',
  },
  'qc.pds-missing': {
    severity: 'warning',
    requirement: 'ETSI EN 319 412-5 §4.3.4',
    summary: 'The certificate has no PKI Disclosure Statement (QcPDS).',
    fix: 'Ask the QTSP to include a QcPDS with an English https location in future certificates.',
  },
  'qc.pds-invalid': {
    severity: 'warning',
    requirement: 'ETSI EN 319 412-5 §4.3.4',
    summary: 'The PKI Disclosure Statement locations are not https URLs with a two-letter language, or none is in English.',
    fix: 'Ask the QTSP to publish the PDS over https with at least one entry in English ("en").',
  },
  'qc.legislation-present': {
    severity: 'warning',
    requirement: 'ETSI EN 319 412-5 §4.2.4',
    summary: 'QcCClegislation is present: the certificate claims to be qualified under a non-EU legislation.',
    fix: 'For PSD2 in the EU/EEA use a certificate qualified under Regulation (EU) 910/2014, without QcCClegislation.',
  },
  'qc.statement-unknown': {
    severity: 'info',
    requirement: 'RFC 3739 §3.2.6',
    summary: 'The certificate carries a QC statement this engine does not know; it was ignored.',
    fix: 'Nothing to do unless the statement is meant to carry a requirement of this bank.',
  },
  // --- PSD2 statement (TS 119 495) -----------------------------------------------------------------
  'psd2.missing': {
    severity: 'error',
    requirement: 'ETSI TS 119 495 §5.1 GEN-5.1-1',
    summary: 'The certificate has no PSD2 QCStatement (roles of the payment service provider and the NCA).',
    fix: 'Ask the QTSP for a PSD2 certificate (ETSI TS 119 495) that names your authorised roles and your NCA.',
  },
  'psd2.malformed': {
    severity: 'error',
    requirement: 'ETSI TS 119 495 §5.1',
    summary: 'The PSD2 QCStatement does not follow the ASN.1 of ETSI TS 119 495 (roles, NCAName and NCAId as UTF8String).',
    fix: 'Ask the QTSP to reissue the certificate with a PSD2 statement encoded as ETSI TS 119 495 §5.1 defines it.',
  },
  'psd2.roles-empty': {
    severity: 'error',
    requirement: 'ETSI TS 119 495 §5.2.2 GEN-5.2.2-1',
    summary: 'The PSD2 statement lists no role.',
    fix: 'Ask the QTSP to reissue the certificate with the roles your NCA authorised (PSP_AI, PSP_PI, PSP_IC, PSP_AS).',
  },
  'psd2.role-unknown': {
    severity: 'error',
    requirement: 'ETSI TS 119 495 §5.2.2 GEN-5.2.2-3',
    summary: 'The PSD2 statement names a role OID that ETSI TS 119 495 does not define.',
    fix: 'Ask the QTSP to use the role OIDs of ETSI TS 119 495 (0.4.0.19495.1.1 to 0.4.0.19495.1.4).',
  },
  'psd2.role-name-mismatch': {
    severity: 'error',
    requirement: 'ETSI TS 119 495 §5.2.2 GEN-5.2.2-5',
    summary: 'A PSD2 role name does not match its role OID.',
    fix: 'Ask the QTSP to reissue the certificate with the registered role names (PSP_AS, PSP_PI, PSP_AI, PSP_IC) next to their OIDs.',
  },
  'psd2.role-not-tpp': {
    severity: 'info',
    requirement: 'ETSI TS 119 495 v1.8.1 §5.2.2',
    summary: 'A role is recognised but is not a PSD2 third-party-provider role (for example PSP_CB or PSP_PA).',
    fix: 'No action needed; this role gives no access to PSD2 account or payment APIs.',
  },
  'psd2.nca-id-invalid': {
    severity: 'error',
    requirement: 'ETSI TS 119 495 §5.2.3 GEN-5.2.3-2',
    summary: 'The NCA identifier is not a two-letter country code, a hyphen and a 2-8 letter NCA code (e.g. DE-BAFIN).',
    fix: 'Ask the QTSP to reissue the certificate with the NCA identifier of your competent authority as listed by the EBA.',
  },
  'psd2.nca-name-invalid': {
    severity: 'warning',
    requirement: 'ETSI TS 119 495 §5.2.3 GEN-5.2.3-1',
    summary: 'The NCA name is not in Latin characters or is empty.',
    fix: 'Ask the QTSP to write the NCA name in English using Latin characters in future certificates.',
  },
  'psd2.nca-unknown': {
    severity: 'warning',
    requirement: 'ETSI TS 119 495 Annex D',
    summary: 'The NCA identifier is well formed but not in the list of competent authorities known to this portal.',
    fix: 'Check the NCA identifier against the EBA list; if it is right, tell the bank so it can update its list.',
  },
  // --- subject and organizationIdentifier (EN 319 412-1/-3) ----------------------------------------
  'orgid.missing': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-1 §5.1.4; ETSI TS 119 495 GEN-5.2.1-1',
    summary: 'The subject has no organizationIdentifier.',
    fix: 'Ask the QTSP to include your PSD2 authorisation as organizationIdentifier (PSD<country>-<NCA>-<authorisation number>).',
  },
  'orgid.invalid': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-1 §5.1.4; ETSI TS 119 495 GEN-5.2.1-3',
    summary: 'The organizationIdentifier does not follow the EN 319 412-1 grammar (for PSD2: PSD<CC>-<NCA>-<number>).',
    fix: 'Ask the QTSP to reissue the certificate with an organizationIdentifier like PSDDE-BAFIN-123456.',
  },
  'orgid.nca-mismatch': {
    severity: 'error',
    requirement: 'ETSI TS 119 495 GEN-5.2.1-3',
    summary: 'The country and NCA in the organizationIdentifier differ from the NCAId of the PSD2 statement.',
    fix: 'Ask the QTSP to reissue the certificate so that both name the same competent authority.',
  },
  'orgid.cabf-mismatch': {
    severity: 'warning',
    requirement: 'CA/Browser Forum EV Guidelines §9.8.2',
    summary: 'The cabfOrganizationIdentifier extension does not match the subject organizationIdentifier.',
    fix: 'Ask the QTSP to make the two identifiers agree.',
  },
  'subject.country-invalid': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-3 §4.2.1; X.520 countryName',
    summary: 'The subject countryName is missing or not a two-letter ISO 3166-1 code.',
    fix: 'Ask the QTSP to reissue the certificate with the country as a two-letter code (e.g. DE, not Germany).',
  },
  'subject.organization-missing': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-3 §4.2.1',
    summary: 'The subject has no organizationName: a PSD2 certificate identifies a legal person.',
    fix: 'Ask the QTSP to reissue the certificate with your registered legal name as organizationName.',
  },
  'san.missing': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-4 §4.2; CA/Browser Forum BR §7.1.2.7',
    summary: 'A website authentication certificate has no DNS name in subjectAltName.',
    fix: 'Ask the QTSP to include the DNS name of your API host in subjectAltName.',
  },
  // --- policies, key usage, keys -------------------------------------------------------------------
  'policy.missing': {
    severity: 'error',
    requirement: 'ETSI EN 319 411-2 GEN-6.6.1-05; ETSI TS 119 495 §6.1',
    summary: 'The certificate does not carry the qualified policy its type needs (QCP-w/QNCP-w for a QWAC, QCP-l/QCP-l-qscd for a QSealC).',
    fix: 'Ask the QTSP for a certificate issued under the qualified policy for its type.',
  },
  'policy.psd2-not-allowed': {
    severity: 'warning',
    requirement: 'ETSI TS 119 495 OVR-6.1-3',
    summary: 'QCP-w-psd2 is present on a certificate without a PSD2 statement.',
    fix: 'Ask the QTSP to remove QCP-w-psd2 or add the PSD2 statement.',
  },
  'keyusage.invalid': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-4 §4.2; ETSI EN 319 412-3 §4.3; RFC 5280 §4.2.1.3',
    summary: 'The key usage does not fit the certificate type.',
    fix: 'A QWAC needs digitalSignature; a QSealC needs nonRepudiation (contentCommitment). Ask the QTSP to reissue it.',
  },
  'eku.invalid': {
    severity: 'error',
    requirement: 'ETSI EN 319 412-4 §4.2; RFC 5280 §4.2.1.12',
    summary: 'The extended key usage does not fit the certificate type.',
    fix: 'A QWAC used for mutual TLS needs clientAuth (and serverAuth); a QSealC must not be a TLS certificate.',
  },
  'key.weak': {
    severity: 'error',
    requirement: 'ETSI TS 119 312 §6; SOG-IS Agreed Mechanisms',
    summary: 'The public key is too weak (RSA under 2048 bits, or an unsupported curve).',
    fix: 'Generate a new key (RSA 2048+ or EC P-256/P-384/P-521) and have the certificate reissued.',
  },
  'signature.weak-algorithm': {
    severity: 'error',
    requirement: 'ETSI TS 119 312 §6',
    summary: 'The certificate is signed with a weak algorithm (MD5 or SHA-1).',
    fix: 'Ask the QTSP to reissue the certificate with SHA-256 or stronger.',
  },
  // --- chain and trust (RFC 5280 §6) ---------------------------------------------------------------
  'chain.untrusted': {
    severity: 'error',
    requirement: 'RFC 5280 §6.1; ETSI TS 119 615 §4',
    summary: 'The certificate does not chain to a trust anchor of the configured trust profile.',
    fix: 'Use a certificate from a QTSP on the trusted list this bank uses; for testing, a QTSP of the sandbox profile.',
  },
  'chain.incomplete': {
    severity: 'error',
    requirement: 'RFC 5280 §6.1',
    summary: 'An intermediate CA certificate needed to reach a trust anchor is missing.',
    fix: 'Upload the certificate together with its issuing CA certificates (a PEM bundle or PKCS#7), subject first.',
  },
  'chain.limit-exceeded': {
    severity: 'error',
    requirement: 'RFC 5280 §6.1 (implementation limits)',
    summary: 'Chain building stopped at a safety limit (too deep, too many candidates, a loop, or too long).',
    fix: 'Upload only the certificate and the CA certificates of its own chain.',
  },
  'chain.ca-invalid': {
    severity: 'error',
    requirement: 'RFC 5280 §6.1.4 (k), (n); §4.2.1.9',
    summary: 'A certificate in the chain is used as a CA but is not allowed to be one (basicConstraints cA or keyCertSign missing).',
    fix: 'The chain is not a valid CA hierarchy; contact the QTSP.',
  },
  'chain.path-length': {
    severity: 'error',
    requirement: 'RFC 5280 §6.1.4 (l), (m); §4.2.1.9',
    summary: 'The chain is longer than a CA\'s pathLenConstraint allows.',
    fix: 'The chain is not a valid CA hierarchy; contact the QTSP.',
  },
  'chain.name-constraints': {
    severity: 'error',
    requirement: 'RFC 5280 §6.1.3 (b), (c); §4.2.1.10',
    summary: 'A name in the chain violates a CA\'s name constraints.',
    fix: 'The CA was not allowed to issue this name; contact the QTSP.',
  },
  'chain.policy': {
    severity: 'error',
    requirement: 'RFC 5280 §6.1.3 (d)-(f), §6.1.5 (g)',
    summary: 'Certificate policy processing along the chain failed (no valid policy, or an explicit policy was required).',
    fix: 'The chain does not assert a policy that all CAs allow; contact the QTSP.',
  },
  'chain.eku-mismatch': {
    severity: 'error',
    requirement: 'RFC 5280 §4.2.1.12; CA/Browser Forum BR §7.1.2.2',
    summary: 'A CA in the chain restricts extended key usages and the certificate\'s usage is not among them.',
    fix: 'The issuing CA may not issue certificates for this usage; contact the QTSP.',
  },
  'chain.not-qualified': {
    severity: 'error',
    requirement: 'ETSI TS 119 615 §4.3; ETSI TS 119 612 §5.5.9.4',
    summary: 'The trusted-list service the chain ends at is not granted for this certificate type (website authentication or e-seals).',
    fix: 'Use a certificate from a QTSP service that the trusted list grants for this type.',
  },
  'critical-extension.unknown': {
    severity: 'error',
    requirement: 'RFC 5280 §4.2; §6.1.4 (o)',
    summary: 'A certificate carries a critical extension this engine does not process.',
    fix: 'Certificates with unknown critical extensions must be rejected; ask the QTSP to reissue without it.',
  },
  'signature.invalid': {
    severity: 'error',
    requirement: 'RFC 5280 §6.1.3 (a)(1)',
    summary: 'A signature in the chain does not verify with the issuer\'s public key.',
    fix: 'The certificate was altered or the wrong issuer was supplied; download it again from the QTSP.',
  },
  expired: {
    severity: 'error',
    requirement: 'RFC 5280 §6.1.3 (a)(2)',
    summary: 'The certificate has expired.',
    fix: 'Renew the certificate with your QTSP and upload the new one.',
  },
  'not-yet-valid': {
    severity: 'error',
    requirement: 'RFC 5280 §6.1.3 (a)(2)',
    summary: 'The certificate is not valid yet.',
    fix: 'Wait until the certificate\'s start date, or check the clock of the system that produced it.',
  },
  // --- revocation ----------------------------------------------------------------------------------
  revoked: {
    severity: 'error',
    requirement: 'RFC 5280 §6.1.3 (a)(3); ETSI TS 119 495 §6.2',
    summary: 'The certificate has been revoked by its issuer.',
    fix: 'Obtain a new certificate from your QTSP; a revoked certificate can never be used again.',
  },
  'revocation.unavailable': {
    severity: 'error',
    requirement: 'RFC 6960; RFC 5280 §6.3',
    summary: 'The revocation status could not be obtained (OCSP and CRL both failed or are not published).',
    fix: 'Retry later; if it persists, check that the certificate names reachable OCSP or CRL locations.',
  },
  'revocation.unknown': {
    severity: 'error',
    requirement: 'RFC 6960 §2.2',
    summary: 'The OCSP responder does not know this certificate.',
    fix: 'Check that the certificate was issued by the CA it claims; contact the QTSP.',
  },
} as const satisfies Record<string, FindingSpec>;

export type FindingCode = keyof typeof FINDINGS;

export const FINDING_CODES = Object.keys(FINDINGS) as FindingCode[];

export function isFindingCode(code: string): code is FindingCode {
  return Object.hasOwn(FINDINGS, code);
}

/**
 * Builds a finding from the catalogue. `detail` says what exactly is wrong with this certificate;
 * the catalogue's fix is appended. Severity may be lowered by a check only for a documented reason.
 */
export function finding(
  code: FindingCode,
  detail?: string,
  opts: { severity?: Severity; certIndex?: number } = {},
): Finding {
  const spec: FindingSpec = FINDINGS[code];
  const message = `${detail ?? spec.summary} ${spec.fix}`;
  const out: Finding = {
    code,
    severity: opts.severity ?? spec.severity,
    message,
    requirement: spec.requirement,
  };
  if (opts.certIndex !== undefined) out.certIndex = opts.certIndex;
  return out;
}
