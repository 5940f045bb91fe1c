/**
 * Certificate type and the rules that follow from it.
 *
 * Type determination (EN 319 412-5 §4.2.3): the type is read from QcType alone: web ⇒ QWAC, eseal ⇒
 * QSealC, anything else ⇒ other. QcCompliance is NOT required for the type: a certificate with QcType but
 * no QcCompliance (the UK Open Banking / WSO2 "eIDAS-like" certificates) is reported with its QcType type
 * and a qc.not-compliant error, i.e. "QWAC-like, not qualified". With both web and eseal (qc.type-multiple)
 * the type is the one `expect` asks for, else the first listed. Per-type rules (QcSSCD, SAN, policy, key
 * usage, EKU) apply to QWAC and QSealC only; a certificate of type 'other' is not held to either profile.
 */
import {
  anyExtendedKeyUsage,
  id_ce_keyUsage,
  id_kp_clientAuth,
  id_kp_serverAuth,
  qcp_legal,
  qcp_legal_qscd,
  qcp_web,
  qcp_web_psd2,
  qncp_web,
  qncp_web_gen,
} from '../oids.js';
import type { CertType, ExpectedType, Finding } from '../types.js';
import { x509 } from '../x509.js';
import type { ProfileCheck, QcAnalysis } from './context.js';
import { report } from './context.js';

export function determineType(qc: QcAnalysis, expect?: ExpectedType): CertType {
  const types = qc.info?.types ?? [];
  const web = types.indexOf('web');
  const eseal = types.indexOf('eseal');
  if (web >= 0 && eseal >= 0) {
    if (expect === 'qwac') return 'QWAC';
    if (expect === 'qseal') return 'QSealC';
    return web < eseal ? 'QWAC' : 'QSealC';
  }
  if (web >= 0) return 'QWAC';
  if (eseal >= 0) return 'QSealC';
  return 'other';
}

const EXPECTED: Record<ExpectedType, CertType> = { qwac: 'QWAC', qseal: 'QSealC' };
const USE: Record<ExpectedType, string> = { qwac: 'a QWAC (mutual TLS)', qseal: 'a QSealC (signing)' };

function describe(type: CertType, types: string[]): string {
  if (type === 'QWAC') return 'a QWAC (QcType web)';
  if (type === 'QSealC') return 'a QSealC (QcType eseal)';
  return types.length > 0 ? `of QcType ${types.join(', ')}` : 'without a QcType';
}

/** TS 119 495 §4.1: a QWAC for TLS, a QSealC for seals; QcType must not contradict the usages. */
export const typeMatchesUse: ProfileCheck = (cert, ctx) => {
  const reasons: string[] = [];
  const types = ctx.qc.info?.types ?? [];
  if (ctx.expect !== undefined && ctx.type !== EXPECTED[ctx.expect]) {
    reasons.push(`the certificate is ${describe(ctx.type, types)} but is presented as ${USE[ctx.expect]}`);
  }
  if (ctx.type === 'other' && types.includes('esign')) {
    reasons.push('QcType esign is for electronic signatures of natural persons; PSD2 needs QcType web or eseal');
  }
  const eku = cert.extKeyUsage;
  if (eku !== null) {
    const tls = eku.includes(id_kp_serverAuth) || eku.includes(id_kp_clientAuth) || eku.includes(anyExtendedKeyUsage);
    if (ctx.type === 'QWAC' && !tls) reasons.push('QcType says web but the extended key usage allows no TLS use');
    if (ctx.type === 'QSealC' && eku.includes(id_kp_serverAuth)) {
      reasons.push('QcType says eseal but the extended key usage makes it a TLS server certificate (serverAuth)');
    }
  }
  return reasons.length > 0 ? [report(ctx, 'qc.type-mismatch', `The certificate type does not fit: ${reasons.join('; ')}.`)] : [];
};

/** EN 319 412-5 §4.2.2 / EN 319 412-4: QcSSCD has no meaning for website authentication. */
export const sscdForType: ProfileCheck = (_cert, ctx) =>
  ctx.type === 'QWAC' && ctx.qc.info?.sscd
    ? [report(ctx, 'qc.sscd-not-allowed', 'The QWAC carries the QcSSCD statement (0.4.0.1862.1.4), which is not allowed for website certificates.')]
    : [];

/** EN 319 412-4 §4.2; CABF BR §7.1.2.7: a website certificate names its host in SAN dNSName. */
export const sanForType: ProfileCheck = (cert, ctx) => {
  if (ctx.type !== 'QWAC') return [];
  const san = cert.subjectAltName;
  if (san !== null && san.dnsCount > 0) return [];
  const hasExt = cert.extensions.some((e) => e.oid === '2.5.29.17');
  return [
    report(
      ctx,
      'san.missing',
      !hasExt
        ? 'The QWAC has no subjectAltName extension, so it names no DNS host.'
        : san === null
          ? 'The QWAC subjectAltName extension could not be decoded, so it names no DNS host.'
          : 'The QWAC subjectAltName has no dNSName entry.',
    ),
  ];
};

const QWAC_POLICIES: Record<string, string> = { [qcp_web]: 'QCP-w', [qncp_web]: 'QNCP-w', [qncp_web_gen]: 'QNCP-w-gen' };
const QSEAL_POLICIES: Record<string, string> = { [qcp_legal]: 'QCP-l', [qcp_legal_qscd]: 'QCP-l-qscd' };

/** EN 319 411-2 GEN-6.6.1-05; TS 119 495 §6.1 OVR-6.1-3. */
export const policiesForType: ProfileCheck = (cert, ctx) => {
  const out: Finding[] = [];
  const policies = cert.policies ?? [];
  const required = ctx.type === 'QWAC' ? QWAC_POLICIES : ctx.type === 'QSealC' ? QSEAL_POLICIES : null;
  if (required && !policies.some((p) => p in required)) {
    const names = Object.values(required).join(', ');
    const has =
      cert.policies === null
        ? cert.extensions.some((e) => e.oid === '2.5.29.32')
          ? 'its certificatePolicies extension could not be decoded'
          : 'it has no certificatePolicies extension'
        : policies.length === 0
          ? 'its certificatePolicies extension lists no policy'
          : `it lists only ${policies.slice(0, 8).join(', ')}`;
    out.push(report(ctx, 'policy.missing', `The ${ctx.type} needs one of the policies ${names}, but ${has}.`));
  }
  if (policies.includes(qcp_web_psd2) && !ctx.psd2.present && ctx.qc.encoding !== 'unreadable') {
    out.push(report(ctx, 'policy.psd2-not-allowed', 'The certificate asserts QCP-w-psd2 (0.4.0.19495.3.1) but has no PSD2 statement.'));
  }
  return out;
};

const KU = x509.KeyUsageFlags;

/** EN 319 412-4 §4.2 (QWAC: digitalSignature); EN 319 412-3/-5 (QSealC: nonRepudiation); no CA bits. */
export const keyUsageForType: ProfileCheck = (cert, ctx) => {
  if (ctx.type !== 'QWAC' && ctx.type !== 'QSealC') return [];
  const ku = cert.keyUsage;
  if (ku === null) {
    const present = cert.extensions.some((e) => e.oid === id_ce_keyUsage);
    return [report(ctx, 'keyusage.invalid', present ? `The ${ctx.type}'s keyUsage extension could not be decoded.` : `The ${ctx.type} has no keyUsage extension.`)];
  }
  const issues: string[] = [];
  if (ctx.type === 'QWAC' && !(ku & KU.digitalSignature)) issues.push('a QWAC needs digitalSignature');
  if (ctx.type === 'QSealC' && !(ku & KU.nonRepudiation)) issues.push('a QSealC needs nonRepudiation (contentCommitment)');
  if (ku & (KU.keyCertSign | KU.cRLSign)) issues.push('keyCertSign/cRLSign are for CA certificates');
  return issues.length > 0 ? [report(ctx, 'keyusage.invalid', `The key usage does not fit the ${ctx.type}: ${issues.join('; ')}.`)] : [];
};

/** EN 319 412-4 §4.2; RFC 5280 §4.2.1.12: TLS EKUs for a QWAC used in mutual TLS, none for a seal's server use. */
export const ekuForType: ProfileCheck = (cert, ctx) => {
  const eku = cert.extKeyUsage;
  const present = cert.extensions.some((e) => e.oid === '2.5.29.37');
  if (ctx.type === 'QWAC') {
    if (eku === null) {
      return [
        report(
          ctx,
          'eku.invalid',
          present
            ? 'The QWAC extendedKeyUsage extension could not be decoded.'
            : 'The QWAC has no extendedKeyUsage extension; mutual TLS needs clientAuth and serverAuth.',
        ),
      ];
    }
    const missing = [
      eku.includes(id_kp_clientAuth) ? null : 'clientAuth',
      eku.includes(id_kp_serverAuth) ? null : 'serverAuth',
    ].filter((x) => x !== null);
    if (missing.length === 0) return [];
    const any = eku.includes(anyExtendedKeyUsage) ? ' (anyExtendedKeyUsage does not replace them in a website certificate)' : '';
    return [report(ctx, 'eku.invalid', `The QWAC extended key usage lacks ${missing.join(' and ')}${any}.`)];
  }
  if (ctx.type === 'QSealC' && eku?.includes(id_kp_serverAuth)) {
    return [report(ctx, 'eku.invalid', 'The QSealC extended key usage includes serverAuth: a seal must not be a TLS server certificate.')];
  }
  return [];
};
