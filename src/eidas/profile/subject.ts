/**
 * The legal-person subject of ETSI EN 319 412-3 §4.2.1: countryName and organizationName.
 */
import { ISO_3166_ALPHA2 } from '../data/countries.js';
import type { ProfileCheck } from './context.js';
import { quote, report } from './context.js';

const id_at_countryName = '2.5.4.6';
const id_at_organizationName = '2.5.4.10';

/** X.520 countryName: a two-letter ISO 3166-1 code (EN 319 412-3 §4.2.1). */
export const subjectCountry: ProfileCheck = (cert, ctx) => {
  const values = cert.subjectAttributes.filter((a) => a.oid === id_at_countryName).map((a) => a.value);
  if (values.length === 0) return [report(ctx, 'subject.country-invalid', 'The subject has no countryName (C).')];
  const bad = values.filter((v) => !/^[A-Z]{2}$/.test(v) || !ISO_3166_ALPHA2.has(v));
  if (bad.length === 0) return [];
  return [
    report(
      ctx,
      'subject.country-invalid',
      `The subject countryName ${bad.map((v) => quote(v, 40)).join(', ')} is not a two-letter ISO 3166-1 code.`,
    ),
  ];
};

/** EN 319 412-3 §4.2.1: a legal person is named by organizationName. */
export const subjectOrganization: ProfileCheck = (cert, ctx) => {
  const values = cert.subjectAttributes.filter((a) => a.oid === id_at_organizationName).map((a) => a.value.trim());
  if (values.some((v) => v !== '')) return [];
  return [
    report(
      ctx,
      'subject.organization-missing',
      values.length === 0 ? 'The subject has no organizationName (O).' : 'The subject organizationName (O) is empty.',
    ),
  ];
};
