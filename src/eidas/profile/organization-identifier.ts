/**
 * The subject organizationIdentifier (2.5.4.97) of ETSI EN 319 412-1 §5.1.4 and its PSD2 form
 * (TS 119 495 §5.2.1): PSD<CC>-<NCA>-<authorisation number>, cross-checked with the PSD2 statement's
 * NCAId and with the CA/Browser Forum cabfOrganizationIdentifier extension (EV Guidelines §9.8.2).
 */
import { AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import type { ParsedCertificate } from '../certificate.js';
import { errorText } from '../certificate.js';
import { ISO_3166_ALPHA2, normaliseCountry, PSD2_COUNTRIES } from '../data/countries.js';
import { id_at_organizationIdentifier, id_cabf_organizationIdentifier } from '../oids.js';
import type { Finding } from '../types.js';
import { WALK_LIMITS } from './asn1-walk.js';
import type { OrgIdAnalysis, ProfileCheck, ProfileContext } from './context.js';
import { quote, report } from './context.js';
import { psd2RolesOnlyNonPsd2 } from './psd2.js';

/** EN 319 412-1 §5.1.4 identity type references (LEI since V1.2.1). */
const SCHEMES = new Set(['PSD', 'VAT', 'NTR', 'LEI']);

const SHAPE_3 = /^([A-Z]{3})([A-Z]{2})(?:\+([A-Z0-9]{1,3}))?-(.+)$/s;
const SHAPE_LOCAL = /^([A-Z]{2}:)([A-Z]{2})-(.+)$/s;
/** pkilint's PSD form: NCA identifier 2-8 A-Z, then the authorisation number. */
const PSD_REST = /^([A-Z]{2,8})-(.+)$/s;
/** TS 119 495 GEN-5.2.3-2 NCAId shape ("NA" does not match it). */
const NCA_ID_SHAPE = /^[A-Z]{2}-[A-Z]{2,8}$/;

export function analyseOrgId(cert: ParsedCertificate): OrgIdAnalysis {
  const values = cert.subjectAttributes.filter((a) => a.oid === id_at_organizationIdentifier).map((a) => a.value);
  const out: OrgIdAnalysis = { values, parsed: null, problems: [] };
  const raw = values[0];
  if (raw === undefined) return out;
  if (new Set(values).size > 1) out.problems.push(`the subject has ${values.length} different organizationIdentifier values`);

  const local = SHAPE_LOCAL.exec(raw);
  const m3 = SHAPE_3.exec(raw);
  if (local) {
    const [, scheme = '', country = '', reference = ''] = local;
    out.parsed = { raw, scheme, country, nca: null, authorisationNumber: reference };
    if (!ISO_3166_ALPHA2.has(normaliseCountry(country))) out.problems.push(`${quote(country)} is not an ISO 3166 country code`);
    return out;
  }
  if (!m3) {
    out.problems.push(
      `${quote(raw)} is not <3-letter scheme><2-letter country>-<identifier> (e.g. PSDDE-BAFIN-123456, VATBE-0123456789)`,
    );
    return out;
  }
  const [, scheme = '', country = '', state, rest = ''] = m3;
  if (!SCHEMES.has(scheme)) out.problems.push(`${quote(scheme)} is not an EN 319 412-1 scheme (PSD, VAT, NTR, LEI or "XX:")`);
  if (state !== undefined && scheme !== 'NTR') out.problems.push(`a "+${state}" state part is only defined for NTR`);

  if (scheme === 'PSD') {
    const psd = PSD_REST.exec(rest);
    if (!psd) {
      out.parsed = { raw, scheme, country, nca: null, authorisationNumber: rest };
      out.problems.push(`${quote(raw)} is not PSD<country>-<NCA id of 2-8 capital letters>-<authorisation number>`);
    } else {
      const [, nca = '', number = ''] = psd;
      out.parsed = { raw, scheme, country, nca, authorisationNumber: number };
    }
    if (!PSD2_COUNTRIES.has(country)) out.problems.push(`${quote(country)} is not the ISO 3166 code of an EEA country`);
    return out;
  }
  out.parsed = { raw, scheme, country, nca: null, authorisationNumber: rest };
  const countryOk = scheme === 'LEI' ? country === 'XG' || ISO_3166_ALPHA2.has(country) : ISO_3166_ALPHA2.has(normaliseCountry(country));
  if (!countryOk) out.problems.push(`${quote(country)} is not an ISO 3166 country code`);
  return out;
}

// ---- checks --------------------------------------------------------------------------------------------

/** EN 319 412-1 §5.1.4; TS 119 495 GEN-5.2.1-1. */
export const orgIdPresent: ProfileCheck = (_cert, ctx) =>
  ctx.orgId.values.length === 0
    ? [report(ctx, 'orgid.missing', 'The subject has no organizationIdentifier (2.5.4.97).')]
    : [];

/** A certificate with a PSD2 statement for PSD2 roles uses the PSD scheme (TS 119 495 GEN-5.2.1-3). */
function psd2SchemeExpected(ctx: ProfileContext): boolean {
  return ctx.psd2.present && !psd2RolesOnlyNonPsd2(ctx.psd2.roles);
}

/** EN 319 412-1 §5.1.4 grammar; TS 119 495 GEN-5.2.1-3 (PSD scheme for PSD2 certificates). */
export const orgIdGrammar: ProfileCheck = (_cert, ctx) => {
  const { parsed, problems, values } = ctx.orgId;
  if (values.length === 0) return [];
  const issues = [...problems];
  if (parsed && parsed.scheme !== 'PSD' && psd2SchemeExpected(ctx)) {
    issues.push(`the certificate has a PSD2 statement, so its organizationIdentifier should use the PSD scheme, not ${quote(parsed.scheme)}`);
  }
  if (issues.length === 0) return [];
  return [report(ctx, 'orgid.invalid', `The organizationIdentifier ${quote(values[0] ?? '')} is invalid: ${issues.join('; ')}.`)];
};

/**
 * TS 119 495 GEN-5.2.1-3: the country and NCA of the PSD identifier are those of the NCAId. Both must be
 * well formed to be compared; a malformed one is reported by its own check (orgid.invalid,
 * psd2.nca-id-invalid).
 */
export const orgIdMatchesNca: ProfileCheck = (_cert, ctx) => {
  const parsed = ctx.orgId.parsed;
  const ncaId = ctx.psd2.ncaId;
  if (parsed?.scheme !== 'PSD' || parsed.nca === null || ncaId === null || !NCA_ID_SHAPE.test(ncaId)) return [];
  const fromOrgId = `${normaliseCountry(parsed.country)}-${parsed.nca}`;
  const [c = '', ...rest] = ncaId.split('-');
  if (fromOrgId === [normaliseCountry(c), ...rest].join('-')) return [];
  return [
    report(
      ctx,
      'orgid.nca-mismatch',
      `The organizationIdentifier ${quote(parsed.raw)} names ${quote(`${parsed.country}-${parsed.nca}`)} but the PSD2 statement's NCAId is ${quote(ncaId)}.`,
    ),
  ];
};

/**
 * CA/Browser Forum EV Guidelines §9.8.2:
 *   CABFOrganizationIdentifier ::= SEQUENCE {
 *     registrationSchemeIdentifier PrintableString (SIZE(3)),
 *     registrationCountry PrintableString (SIZE(2)),
 *     registrationStateOrProvince [0] IMPLICIT PrintableString (SIZE(0..128)) OPTIONAL,
 *     registrationReference UTF8String }
 */
@AsnType({ type: AsnTypeTypes.Sequence })
export class CabfOrganizationIdentifier {
  @AsnProp({ type: AsnPropTypes.PrintableString })
  registrationSchemeIdentifier = '';

  @AsnProp({ type: AsnPropTypes.PrintableString })
  registrationCountry = '';

  @AsnProp({ type: AsnPropTypes.PrintableString, context: 0, implicit: true, optional: true })
  registrationStateOrProvince?: string;

  @AsnProp({ type: AsnPropTypes.Utf8String })
  registrationReference = '';
}

export const cabfOrganizationIdentifier: ProfileCheck = (cert, ctx) => {
  const ext = cert.extensions.find((e) => e.oid === id_cabf_organizationIdentifier);
  if (!ext) return [];
  let composed: string;
  try {
    const v = AsnConvert.parse(ext.value, CabfOrganizationIdentifier, { berOptions: WALK_LIMITS });
    const state = v.registrationStateOrProvince ? `+${v.registrationStateOrProvince}` : '';
    composed = `${v.registrationSchemeIdentifier}${v.registrationCountry}${state}-${v.registrationReference}`;
  } catch (e) {
    return [report(ctx, 'orgid.cabf-mismatch', `The cabfOrganizationIdentifier extension could not be decoded (${errorText(e)}).`)];
  }
  const orgId = ctx.orgId.values[0];
  if (orgId === composed) return [];
  const out: Finding[] = [];
  out.push(
    report(
      ctx,
      'orgid.cabf-mismatch',
      orgId === undefined
        ? `The cabfOrganizationIdentifier extension says ${quote(composed)} but the subject has no organizationIdentifier.`
        : `The cabfOrganizationIdentifier extension says ${quote(composed)} but the subject organizationIdentifier is ${quote(orgId)}.`,
    ),
  );
  return out;
};
