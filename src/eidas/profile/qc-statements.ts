/**
 * qcStatements (RFC 3739 §3.2.6) and the EN 319 412-5 statements.
 *
 * The extension must be a DER SEQUENCE OF QCStatement { statementId, statementInfo OPTIONAL }. A value that
 * is a single QCStatement (the "bare" encoding of some generators) is still read, so the report can show
 * what it claims, but it is reported as qcstatements.malformed.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { SemanticsInformation } from '@peculiar/asn1-x509-qualified';
import { QcCClegislation, QcEuLimitValue, QcEuPDS, QcEuRetentionPeriod, QcType } from '@peculiar/asn1-x509-qualified-etsi';
import type * as asn1js from 'asn1js';
import type { ParsedCertificate } from '../certificate.js';
import { errorText } from '../certificate.js';
import {
  id_etsi_psd2_qcStatement,
  id_etsi_qcs_QcCClegislation,
  id_etsi_qcs_QcCompliance,
  id_etsi_qcs_QcLimitValue,
  id_etsi_qcs_QcPDS,
  id_etsi_qcs_QcRetentionPeriod,
  id_etsi_qcs_QcSSCD,
  id_etsi_qcs_QcType,
  id_etsi_qct_eseal,
  id_etsi_qct_esign,
  id_etsi_qct_web,
  id_pe_qcStatements,
  id_qcs_pkixQCSyntax_v1,
  id_qcs_pkixQCSyntax_v2,
} from '../oids.js';
import type { Finding, QcInfo } from '../types.js';
import { aTypeName, childrenOf, decodeOne, isSequence, oidValue, raw, WALK_LIMITS } from './asn1-walk.js';
import { type ProfileCheck, type ProfileContext, type QcAnalysis, quote, report } from './context.js';

const SCHEMA_OPTIONS = { berOptions: WALK_LIMITS };

export const QC_TYPE_NAMES: Record<string, string> = {
  [id_etsi_qct_esign]: 'esign',
  [id_etsi_qct_eseal]: 'eseal',
  [id_etsi_qct_web]: 'web',
};

const STATEMENT_NAMES: Record<string, string> = {
  [id_etsi_qcs_QcCompliance]: 'QcCompliance',
  [id_etsi_qcs_QcLimitValue]: 'QcLimitValue',
  [id_etsi_qcs_QcRetentionPeriod]: 'QcRetentionPeriod',
  [id_etsi_qcs_QcSSCD]: 'QcSSCD',
  [id_etsi_qcs_QcPDS]: 'QcPDS',
  [id_etsi_qcs_QcType]: 'QcType',
  [id_etsi_qcs_QcCClegislation]: 'QcCClegislation',
  [id_qcs_pkixQCSyntax_v1]: 'pkixQCSyntax-v1',
  [id_qcs_pkixQCSyntax_v2]: 'pkixQCSyntax-v2',
  [id_etsi_psd2_qcStatement]: 'PSD2 QCStatement',
};

const MAX_STATEMENTS = 64;

export function analyseQcStatements(cert: ParsedCertificate): QcAnalysis {
  const extension = cert.extensions.find((e) => e.oid === id_pe_qcStatements) ?? null;
  const result: QcAnalysis = {
    extension,
    encoding: 'absent',
    problems: [],
    statements: [],
    info: null,
    psd2StatementInfo: undefined,
  };
  if (!extension) return result;

  const decoded = decodeOne(extension.value);
  if (!decoded.ok) {
    result.encoding = 'unreadable';
    result.problems.push(`the extension value is not valid DER (${decoded.error})`);
    return result;
  }
  const top = decoded.node;
  if (!isSequence(top)) {
    result.encoding = 'unreadable';
    result.problems.push(`the extension value is ${aTypeName(top)}, not a SEQUENCE OF QCStatement`);
    return result;
  }
  const items = childrenOf(top);
  if (oidValue(items[0]) !== null) {
    // RFC 3739 §3.2.6: QCStatements ::= SEQUENCE OF QCStatement; here the value is one QCStatement.
    result.encoding = 'bare';
    result.problems.push(
      'the extension value is a single QCStatement (statementId first) instead of a SEQUENCE OF QCStatement; ' +
        'this "bare" encoding comes from some PSD2 test-certificate generators',
    );
    const statement = readStatement(top, result.problems);
    if (statement) result.statements.push(statement);
  } else {
    result.encoding = 'sequence-of';
    if (items.length === 0) result.problems.push('the SEQUENCE OF QCStatement is empty');
    for (const [i, item] of items.entries()) {
      if (i >= MAX_STATEMENTS) {
        result.problems.push(`more than ${MAX_STATEMENTS} statements; the rest were ignored`);
        break;
      }
      if (!isSequence(item)) {
        result.problems.push(`statement ${i + 1} is ${aTypeName(item)}, not a QCStatement SEQUENCE`);
        continue;
      }
      const statement = readStatement(item, result.problems, i + 1);
      if (statement) result.statements.push(statement);
    }
  }
  result.info = readStatementInfos(result.statements, result.problems);
  const psd2 = result.statements.find((s) => s.oid === id_etsi_psd2_qcStatement);
  result.psd2StatementInfo = psd2 ? psd2.info : undefined;
  return result;
}

function readStatement(
  node: asn1js.AsnType,
  problems: string[],
  index?: number,
): { oid: string; info: Uint8Array | null } | null {
  const where = index === undefined ? 'the QCStatement' : `statement ${index}`;
  const [id, info, ...extra] = childrenOf(node);
  const oid = oidValue(id);
  if (oid === null) {
    problems.push(`${where} does not start with a statementId OBJECT IDENTIFIER`);
    return null;
  }
  if (extra.length > 0) problems.push(`${where} (${oid}) has ${extra.length} component(s) after statementInfo`);
  return { oid, info: info ? raw(info) : null };
}

function readStatementInfos(statements: { oid: string; info: Uint8Array | null }[], problems: string[]): QcInfo {
  const info: QcInfo = {
    compliance: false,
    types: [],
    sscd: false,
    pds: [],
    retentionPeriod: null,
    limitValue: null,
    legislation: [],
    semanticsId: null,
    unknownStatements: [],
  };
  const seen = new Map<string, number>();
  for (const s of statements) {
    seen.set(s.oid, (seen.get(s.oid) ?? 0) + 1);
    const name = STATEMENT_NAMES[s.oid] ?? s.oid;
    const parse = <T>(what: string, fn: (bytes: Uint8Array) => T): T | null => {
      if (s.info === null) {
        problems.push(`${name} has no statementInfo (${what} expected)`);
        return null;
      }
      try {
        return fn(s.info);
      } catch (e) {
        problems.push(`${name} statementInfo is not ${what} (${errorText(e)})`);
        return null;
      }
    };
    switch (s.oid) {
      case id_etsi_qcs_QcCompliance:
        info.compliance = true;
        break;
      case id_etsi_qcs_QcSSCD:
        info.sscd = true;
        break;
      case id_etsi_qcs_QcType: {
        const types = parse('a SEQUENCE OF OBJECT IDENTIFIER', (b) => [...AsnConvert.parse(b, QcType, SCHEMA_OPTIONS)]);
        for (const t of types ?? []) {
          const name = QC_TYPE_NAMES[t] ?? t;
          if (!info.types.includes(name)) info.types.push(name);
        }
        break;
      }
      case id_etsi_qcs_QcPDS: {
        const pds = parse('a SEQUENCE OF PdsLocation', (b) => [...AsnConvert.parse(b, QcEuPDS, SCHEMA_OPTIONS)]);
        for (const p of pds ?? []) info.pds.push({ url: p.url, language: p.language });
        break;
      }
      case id_etsi_qcs_QcRetentionPeriod:
        info.retentionPeriod =
          parse('an INTEGER', (b) => AsnConvert.parse(b, QcEuRetentionPeriod, SCHEMA_OPTIONS).value) ?? info.retentionPeriod;
        break;
      case id_etsi_qcs_QcLimitValue: {
        const mv = parse('a MonetaryValue', (b) => AsnConvert.parse(b, QcEuLimitValue, SCHEMA_OPTIONS));
        if (mv) {
          const currency = mv.currency.alphabetic ?? String(mv.currency.numeric ?? '');
          info.limitValue = { currency, amount: mv.amount, exponent: mv.exponent };
        }
        break;
      }
      case id_etsi_qcs_QcCClegislation: {
        const list = parse('a SEQUENCE OF CountryName', (b) => [...AsnConvert.parse(b, QcCClegislation, SCHEMA_OPTIONS)]);
        info.legislation.push(...(list ?? []));
        break;
      }
      case id_qcs_pkixQCSyntax_v1:
      case id_qcs_pkixQCSyntax_v2: {
        // RFC 3739 §3.2.6.1: statementInfo is OPTIONAL here.
        if (s.info === null) break;
        const si = parse('a SemanticsInformation', (b) => AsnConvert.parse(b, SemanticsInformation, SCHEMA_OPTIONS));
        if (si?.semanticsIdentifier) info.semanticsId = si.semanticsIdentifier;
        break;
      }
      case id_etsi_psd2_qcStatement:
        break; // read by psd2.ts
      default:
        if (!info.unknownStatements.includes(s.oid)) info.unknownStatements.push(s.oid);
    }
  }
  for (const [oid, count] of seen) {
    if (count > 1) problems.push(`${STATEMENT_NAMES[oid] ?? oid} appears ${count} times`);
  }
  return info;
}

// ---- checks --------------------------------------------------------------------------------------------

/** RFC 3739 §3.2.6; EN 319 412-5 §4.1: SEQUENCE OF QCStatement, non-critical. */
export const qcStatementsEncoding: ProfileCheck = (_cert, ctx) => {
  const out: Finding[] = [];
  const qc = ctx.qc;
  if (qc.problems.length > 0) {
    out.push(report(ctx, 'qcstatements.malformed', `The qcStatements extension is malformed: ${qc.problems.join('; ')}.`));
  }
  if (qc.extension?.critical) {
    out.push(report(ctx, 'qcstatements.critical', 'The qcStatements extension is marked critical; EN 319 412-5 requires it to be non-critical.'));
  }
  return out;
};

/** Nothing can be said about statements when the extension could not be read at all. */
function statementsKnown(ctx: ProfileContext): boolean {
  return ctx.qc.encoding !== 'unreadable';
}

/** EN 319 412-5 §4.2.1: a qualified certificate carries QcCompliance. */
export const qcCompliance: ProfileCheck = (_cert, ctx) => {
  if (!statementsKnown(ctx) || ctx.qc.info?.compliance) return [];
  const why =
    ctx.qc.encoding === 'absent'
      ? 'The certificate has no qcStatements extension, so it does not claim to be an EU qualified certificate.'
      : 'The qcStatements extension has no QcCompliance statement (0.4.0.1862.1.1), so the certificate does not claim to be an EU qualified certificate.';
  return [report(ctx, 'qc.not-compliant', why)];
};

/** EN 319 412-5 §4.2.3: exactly one QcType. */
export const qcTypeStatement: ProfileCheck = (_cert, ctx) => {
  if (!statementsKnown(ctx)) return [];
  const types = ctx.qc.info?.types ?? [];
  if (types.length === 0) {
    const hasStatement = ctx.qc.statements.some((s) => s.oid === id_etsi_qcs_QcType);
    return [
      report(
        ctx,
        'qc.type-missing',
        hasStatement
          ? 'The QcType statement lists no certificate type, so the certificate is neither a QWAC nor a QSealC.'
          : 'The certificate has no QcType statement (0.4.0.1862.1.6), so it is neither a QWAC nor a QSealC.',
      ),
    ];
  }
  if (types.length > 1) {
    return [report(ctx, 'qc.type-multiple', `The QcType statement names ${types.length} types (${types.join(', ')}); exactly one is expected.`)];
  }
  return [];
};

/** EN 319 412-5 §4.3.4: QcPDS with https URLs, ISO 639-1 languages, one of them English. */
export const qcPds: ProfileCheck = (_cert, ctx) => {
  if (!statementsKnown(ctx)) return [];
  const pds = ctx.qc.info?.pds ?? [];
  const hasStatement = ctx.qc.statements.some((s) => s.oid === id_etsi_qcs_QcPDS);
  if (!hasStatement) {
    return [report(ctx, 'qc.pds-missing', 'The certificate has no QcPDS statement (PKI Disclosure Statement locations).')];
  }
  const issues: string[] = [];
  if (pds.length === 0) issues.push('the QcPDS statement lists no location');
  for (const p of pds) {
    if (!/^https:\/\/[^\s]+$/i.test(p.url)) issues.push(`${quote(p.url)} is not an https URL`);
    // ISO 639-1 codes are two letters; case is not significant for matching (e-Szigno writes "EN").
    if (!/^[a-z]{2}$/i.test(p.language)) issues.push(`${quote(p.language)} is not a two-letter ISO 639-1 language code`);
  }
  if (pds.length > 0 && !pds.some((p) => p.language.toLowerCase() === 'en')) issues.push('no PDS is in English ("en")');
  return issues.length > 0 ? [report(ctx, 'qc.pds-invalid', `The PKI Disclosure Statement is not as required: ${issues.join('; ')}.`)] : [];
};

/** EN 319 412-5 §4.2.4: QcCClegislation only for non-EU qualified certificates. */
export const qcLegislation: ProfileCheck = (_cert, ctx) => {
  if (!ctx.qc.statements.some((s) => s.oid === id_etsi_qcs_QcCClegislation)) return [];
  const list = ctx.qc.info?.legislation ?? [];
  const where = list.length > 0 ? ` (${list.map((c) => quote(c, 8)).join(', ')})` : '';
  return [report(ctx, 'qc.legislation-present', `QcCClegislation is present${where}: the certificate claims qualification under a non-EU legislation.`)];
};

/** RFC 3739 §3.2.6: statements this engine does not know are ignored, and said so. */
export const qcUnknownStatements: ProfileCheck = (_cert, ctx) => {
  const unknown = ctx.qc.info?.unknownStatements ?? [];
  return unknown.length > 0
    ? [report(ctx, 'qc.statement-unknown', `The qcStatements extension carries statement(s) this engine does not know: ${unknown.join(', ')}; they were ignored.`)]
    : [];
};
