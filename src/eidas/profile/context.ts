/**
 * What the profile checks share: the certificate's decoded eIDAS content, read once by runProfileChecks.
 */
import type { ParsedCertificate, ParsedExtension } from '../certificate.js';
import { type FindingCode, finding } from '../findings.js';
import type {
  CertType,
  ExpectedType,
  Finding,
  OrganizationIdentifier,
  Psd2Info,
  Psd2RoleName,
  QcInfo,
  Severity,
} from '../types.js';

export interface QcAnalysis {
  extension: ParsedExtension | null;
  /** 'bare' = a single QCStatement instead of SEQUENCE OF (read anyway, reported as malformed). */
  encoding: 'absent' | 'sequence-of' | 'bare' | 'unreadable';
  /** Reasons the extension is not a valid SEQUENCE OF QCStatement (qcstatements.malformed). */
  problems: string[];
  statements: { oid: string; info: Uint8Array | null }[];
  /** Null when the extension is absent or unreadable. */
  info: QcInfo | null;
  /** The PSD2 statementInfo; undefined when there is no PSD2 statement, null when it has no info. */
  psd2StatementInfo: Uint8Array | null | undefined;
}

export interface Psd2RoleRead {
  oid: string;
  name: string | null;
}

export interface Psd2Analysis {
  present: boolean;
  /** Reasons the statement does not follow TS 119 495 §5.1 (psd2.malformed). */
  problems: string[];
  /** Roles as read, in order (unknown OIDs included). */
  roles: Psd2RoleRead[];
  /** rolesOfPSP was readable as a SEQUENCE (so an empty list really is empty). */
  rolesRead: boolean;
  ncaName: string | null;
  ncaId: string | null;
  /** The report view; null when nothing could be read. */
  info: Psd2Info | null;
}

export interface OrgIdAnalysis {
  /** All organizationIdentifier values of the subject. */
  values: string[];
  parsed: OrganizationIdentifier | null;
  /** Grammar problems (orgid.invalid), without the PSD2 scheme rule. */
  problems: string[];
}

export interface ProfileContext {
  expect?: ExpectedType;
  certIndex: number;
  qc: QcAnalysis;
  psd2: Psd2Analysis;
  orgId: OrgIdAnalysis;
  type: CertType;
}

export type ProfileCheck = (cert: ParsedCertificate, ctx: ProfileContext) => Finding[];

export function report(
  ctx: ProfileContext,
  code: FindingCode,
  detail: string,
  opts: { severity?: Severity } = {},
): Finding {
  return finding(code, detail, { ...opts, certIndex: ctx.certIndex });
}

/** Quotes a value from the certificate for a message, bounded and with control characters made visible. */
export function quote(value: string, max = 80): string {
  // JSON string syntax makes control characters (e.g. a newline inside an O value) visible.
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

export type { Psd2RoleName };
