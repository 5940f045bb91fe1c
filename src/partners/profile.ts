/**
 * The organisation profile at the edge: the raw form in, a validated OrganisationProfile out, or an
 * InputError with one message per field. Only the known fields are read (a form that adds `state` or
 * `score` changes nothing), and nothing is saved unless the whole profile is valid.
 *
 * Accepted shapes, so that pages need no mapping layer: nested objects (`contacts.business.email` as
 * `{contacts: {business: {email}}}`), flat dotted keys (`"contacts.business.email"`) or bracket keys
 * (`"contacts[business][email]"`); lists (`requestedRoles`, `redirectUris`) as arrays or one string
 * (redirect URIs one per line).
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { ISO_3166_ALPHA2, normaliseCountry } from '../eidas/data/countries.js';
import { findNca } from '../eidas/data/nca.js';
import { REQUESTED_ROLES, TRACKS, type OrganisationProfile } from './types.js';

export const PROFILE_LIMITS = { maxRedirectUris: 10, maxUriLength: 2000 } as const;

export const CONTACT_KINDS = ['business', 'technical', 'security'] as const;

/** Reads `path` from the raw input in any of the accepted shapes. */
function pick(input: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = input;
  for (const part of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, part)) {
      node = undefined;
      break;
    }
    node = (node as Record<string, unknown>)[part];
  }
  if (node !== undefined) return node;
  const dotted = path.join('.');
  if (Object.hasOwn(input, dotted)) return input[dotted];
  const bracket = path[0] + path.slice(1).map((p) => `[${p}]`).join('');
  if (Object.hasOwn(input, bracket)) return input[bracket];
  // Repeated checkboxes sometimes arrive as `name[]`.
  if (path.length === 1 && Object.hasOwn(input, `${dotted}[]`)) return input[`${dotted}[]`];
  return undefined;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

function optionalText(v: unknown): string | null {
  const t = text(v);
  return t === '' ? null : t;
}

function list(v: unknown, split: RegExp): string[] {
  const items = Array.isArray(v) ? v : typeof v === 'string' ? v.split(split) : [];
  return items.filter((x): x is string => typeof x === 'string').map((x) => x.trim()).filter((x) => x !== '');
}

/** ISO 17442: 18 alphanumerics + 2 check digits, ISO 7064 MOD 97-10 over the letters-as-numbers form. */
export function isValidLei(lei: string): boolean {
  if (!/^[A-Z0-9]{18}[0-9]{2}$/.test(lei)) return false;
  let rem = 0;
  for (const ch of lei) {
    const digits = /[0-9]/.test(ch) ? ch : String(ch.charCodeAt(0) - 55);
    for (const d of digits) rem = (rem * 10 + Number(d)) % 97;
  }
  return rem === 1;
}

/** Why a redirect URI is refused, or null when it is acceptable. */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length > PROFILE_LIMITS.maxUriLength) return `is longer than ${PROFILE_LIMITS.maxUriLength} characters`;
  if (uri.includes('*')) return 'contains a wildcard (*): register each exact address';
  if (uri.includes('#')) return 'has a fragment (#…), which redirect addresses must not have';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not a valid address';
  }
  if (url.protocol !== 'https:') return 'must start with https://';
  if (url.username !== '' || url.password !== '' || /^https:\/\/[^/?]*@/i.test(uri)) {
    return 'contains a user name or password (user@…), which is not allowed';
  }
  if (url.hostname === '') return 'has no host name';
  return null;
}

const contactSchema = z.object({
  name: z.string().min(1, 'Enter a name.').max(100, 'At most 100 characters.'),
  email: z.email('Enter a valid e-mail address.').max(254, 'At most 254 characters.'),
  phone: z
    .string()
    .regex(/^\+?[0-9 ()./-]{3,40}$/, 'Enter a phone number (digits, spaces, + ( ) . / -).')
    .nullable(),
});

const profileSchema = z
  .object({
    legalName: z.string().min(1, 'Enter the legal name of the organisation.').max(200, 'At most 200 characters.'),
    country: z.string().refine((c) => ISO_3166_ALPHA2.has(c) || c === 'EL', 'Choose a country (ISO 3166 two-letter code).'),
    registrationNumber: z
      .string()
      .min(1, 'Enter the company registration number.')
      .max(64, 'At most 64 characters.'),
    lei: z
      .string()
      .refine(isValidLei, 'Enter a valid LEI: 20 characters with correct check digits (ISO 17442), or leave it empty.')
      .nullable(),
    ncaId: z.string().max(16, 'At most 16 characters.').nullable(),
    authorisationNumber: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,63}$/, 'Enter the authorisation number as the NCA writes it (letters, digits, . / _ -).')
      .nullable(),
    track: z.enum(TRACKS, 'Choose a track: regulated PSD2 access or partner.'),
    requestedRoles: z
      .array(z.enum(REQUESTED_ROLES, 'Choose among AIS, PIS and CBPII.'))
      .min(1, 'Choose at least one service (AIS, PIS or CBPII).'),
    redirectUris: z
      .array(z.string())
      .min(1, 'Enter at least one redirect URI.')
      .max(PROFILE_LIMITS.maxRedirectUris, `At most ${PROFILE_LIMITS.maxRedirectUris} redirect URIs.`),
    contacts: z.object({ business: contactSchema, technical: contactSchema, security: contactSchema }),
  });

type Candidate = ReturnType<typeof candidateOf>;

/**
 * Rules across fields (and per redirect URI). Run on the candidate whether or not the field schema passed,
 * so that the applicant sees every problem at once.
 */
function crossFieldIssues(p: Candidate): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  p.redirectUris.slice(0, PROFILE_LIMITS.maxRedirectUris).forEach((uri, i) => {
    const problem = redirectUriProblem(uri);
    if (problem) out.push({ path: `redirectUris.${i}`, message: `“${uri.slice(0, 80)}” ${problem}.` });
  });
  if (p.track === 'regulated') {
    if (p.ncaId === null) out.push({ path: 'ncaId', message: 'The regulated track needs your NCA.' });
    if (p.authorisationNumber === null) out.push({ path: 'authorisationNumber', message: 'The regulated track needs your authorisation number.' });
  }
  if (p.ncaId !== null) {
    const nca = findNca(p.ncaId);
    if (!nca) {
      out.push({ path: 'ncaId', message: `“${p.ncaId.slice(0, 20)}” is not a known NCA identifier (such as DE-BAFIN).` });
    } else if (normaliseCountry(nca.country) !== normaliseCountry(p.country)) {
      out.push({ path: 'ncaId', message: `${nca.id} (${nca.name}) is the authority of ${nca.country}, not of ${p.country.slice(0, 3)}.` });
    }
    if (p.authorisationNumber === null && p.track !== 'regulated') {
      out.push({ path: 'authorisationNumber', message: 'Give the authorisation number at this NCA.' });
    }
  } else if (p.authorisationNumber !== null && p.track !== 'regulated') {
    out.push({ path: 'ncaId', message: 'Give the NCA that issued this authorisation number.' });
  }
  return out;
}

/** Only the known fields, trimmed and normalised: nothing else of the input goes further. */
function candidateOf(raw: unknown) {
  const input = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const contact = (kind: (typeof CONTACT_KINDS)[number]) => ({
    name: text(pick(input, ['contacts', kind, 'name'])),
    email: text(pick(input, ['contacts', kind, 'email'])),
    phone: optionalText(pick(input, ['contacts', kind, 'phone'])),
  });
  const lei = optionalText(pick(input, ['lei']));
  const ncaId = optionalText(pick(input, ['ncaId']));
  return {
    legalName: text(pick(input, ['legalName'])),
    country: text(pick(input, ['country'])).toUpperCase(),
    registrationNumber: text(pick(input, ['registrationNumber'])),
    lei: lei === null ? null : lei.replace(/\s+/g, '').toUpperCase(),
    ncaId: ncaId === null ? null : ncaId.toUpperCase(),
    authorisationNumber: optionalText(pick(input, ['authorisationNumber'])),
    track: text(pick(input, ['track'])),
    requestedRoles: [...new Set(list(pick(input, ['requestedRoles']), /[\s,]+/))],
    redirectUris: [...new Set(list(pick(input, ['redirectUris']), /\r?\n|\r/))],
    contacts: { business: contact('business'), technical: contact('technical'), security: contact('security') },
  };
}

/** Validates the raw form into a profile; InputError (with `fields`) on any problem. */
export function parseProfile(raw: unknown): OrganisationProfile {
  const candidate = candidateOf(raw);
  const parsed = profileSchema.safeParse(candidate);
  const fields = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  // One message per field: a schema message wins over a cross-field one on the same path.
  for (const issue of crossFieldIssues(candidate)) {
    if (!fields.some((f) => f.path === issue.path)) fields.push(issue);
  }
  if (!parsed.success || fields.length > 0) throw new InputError('Some fields of the profile need attention.', fields);
  const p = parsed.data;
  // Keep the declared role order stable for display and comparisons.
  const roles = REQUESTED_ROLES.filter((r) => p.requestedRoles.includes(r));
  return { ...p, requestedRoles: roles };
}

/** The profile's top-level fields, in form order: one list for the form, change-request targets and checks. */
export const PROFILE_KEYS = [
  'legalName',
  'country',
  'registrationNumber',
  'lei',
  'ncaId',
  'authorisationNumber',
  'track',
  'requestedRoles',
  'redirectUris',
] as const;
