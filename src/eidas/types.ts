/**
 * The public shape of the eIDAS engine: what a validation returns.
 * A report is data, never a boolean; `verdict` is derived from the findings (fail iff any error).
 */
import type { FindingCode } from './findings.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Stable public code, documented in docs/certificate-findings.md. */
  code: FindingCode;
  severity: Severity;
  /** Plain English for a FinTech engineer: what is wrong and how to fix it. */
  message: string;
  /** The clause the finding rests on, e.g. "ETSI TS 119 495 GEN-5.2.2-1". */
  requirement: string;
  /** Which certificate of the input the finding is about: 0 is the subject, >0 a chain element. */
  certIndex?: number;
}

export type CertType = 'QWAC' | 'QSealC' | 'other';

/** TS 119 495 role names; their OIDs and PSD2 status are in profile/psd2.ts (PSD2_ROLES). */
export const PSD2_ROLE_NAMES = ['PSP_AS', 'PSP_PI', 'PSP_AI', 'PSP_IC', 'PSP_CB', 'PSP_PA'] as const;
export type Psd2RoleName = (typeof PSD2_ROLE_NAMES)[number];

export interface OrganizationIdentifier {
  raw: string;
  /** Three-letter scheme of EN 319 412-1 §5.1.4: PSD, VAT, NTR, LEI, or a local "XX:" scheme. */
  scheme: string;
  /** ISO 3166-1 alpha-2 country (EL for Greece is accepted as EU usage). */
  country: string;
  /** For PSD: the NCA identifier (2-8 A-Z). null for other schemes. */
  nca: string | null;
  /** For PSD: the PSP authorisation number; for other schemes the registration reference. */
  authorisationNumber: string;
}

export interface Psd2Info {
  roles: Psd2RoleName[];
  ncaName: string;
  ncaId: string;
}

export interface QcInfo {
  /** QcCompliance (0.4.0.1862.1.1) present. */
  compliance: boolean;
  /** QcType values, by name; unknown OIDs keep their dotted form. */
  types: string[];
  /** QcSSCD / QcQSCD present. */
  sscd: boolean;
  pds: { url: string; language: string }[];
  retentionPeriod: number | null;
  limitValue: { currency: string; amount: number; exponent: number } | null;
  legislation: string[];
  /** pkixQCSyntax-v2 semantics identifier, if present. */
  semanticsId: string | null;
  /** Statement OIDs present that this engine does not know. */
  unknownStatements: string[];
}

export interface ChainElement {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  /**
   * SHA-256 (hex) of the SubjectPublicKeyInfo: what pins an issuing CA by key, not by name. Optional because
   * reports stored before it existed lack it.
   */
  spkiSha256?: string;
  /** True for the trust anchor that ends the path. */
  anchor: boolean;
  /** Where the anchor came from, e.g. "tl:CZ:(104) I.CA ..." or "pem:certs/dev/root.pem". */
  anchorSource?: string;
}

export type RevocationStatus = 'good' | 'revoked' | 'unknown' | 'unavailable' | 'not-checked';

export interface RevocationResult {
  status: RevocationStatus;
  source: 'ocsp' | 'crl' | null;
  /** ISO time of the check (the validation clock), null when not checked. */
  checkedAt: string | null;
  /** ISO revocation time when revoked. */
  revokedAt?: string;
  reason?: string;
}

export interface CertificateReport {
  verdict: 'pass' | 'fail';
  type: CertType;
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the subject certificate's DER, lowercase hex. */
  sha256: string;
  organizationIdentifier: OrganizationIdentifier | null;
  psd2: Psd2Info | null;
  qc: QcInfo | null;
  /** From the subject to the anchor; empty when no path was built. */
  chain: ChainElement[];
  revocation: RevocationResult;
  /** The validation time used (ISO). */
  validatedAt: string;
  /** Trust profile used for the chain. */
  trustProfile: string;
  findings: Finding[];
}

export type RevocationPolicy = 'off' | 'soft-fail' | 'hard-fail';
export type ExpectedType = 'qwac' | 'qseal';
