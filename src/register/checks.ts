/**
 * The register check as a list of small named checks. Each reads the context (what the applicant declared,
 * the register entry found, its parent for agents and branches) and returns findings; `check()` in
 * service.ts runs them in order and derives the status. docs/register.md lists every code.
 */
import { DEPENDENT_TYPES, ENTITY_TYPE_LABELS, INSTITUTION_TYPES, NOT_AUTHORISATION_TYPES } from './eba.js';
import type { RegisterEntry, RegisterFinding, RegisterSnapshotInfo } from './service.js';

type Role = 'AIS' | 'PIS' | 'CBPII';

/** Every finding code the check can produce, with its severity. */
export const REGISTER_FINDING_CODES = {
  'register.unavailable': 'warning',
  'register.identifier_invalid': 'error',
  'register.not_found': 'error',
  'register.nca_code_differs': 'warning',
  'register.not_authorisation': 'error',
  'register.type_unknown': 'warning',
  'register.withdrawn': 'error',
  'register.status_unknown': 'error',
  'register.reauthorised': 'info',
  'register.parent_inactive': 'error',
  'register.parent_not_found': 'error',
  'register.name_mismatch': 'warning',
  'register.country_mismatch': 'error',
  'register.service_missing': 'error',
  'register.cbpii_no_service_code': 'info',
} as const satisfies Record<string, RegisterFinding['severity']>;
export type RegisterFindingCode = keyof typeof REGISTER_FINDING_CODES;

export function finding(code: RegisterFindingCode, message: string, fix: string): RegisterFinding {
  return { code, severity: REGISTER_FINDING_CODES[code], message, fix };
}

/** What the applicant declared, cleaned up (see normaliseInput in service.ts). */
export interface CheckedIdentity {
  ncaId: string;
  caOwnerId: string;
  authorisationNumber: string;
  legalName: string;
  country: string;
  roles: Role[];
}

export interface CheckContext {
  input: CheckedIdentity;
  snapshot: RegisterSnapshotInfo;
  entry: RegisterEntry | null;
  /** How the entry was found: by the NCA and number, or by the number under another authority of the country. */
  matchedBy: 'nca' | 'country' | null;
  /** The parent institution of an agent or branch, when it is in the snapshot. */
  parent: RegisterEntry | null;
}

export interface NamedCheck {
  name: string;
  run(ctx: CheckContext): RegisterFinding[];
}

const SERVICE_FOR_ROLE: Record<Exclude<Role, 'CBPII'>, { code: string; label: string }> = {
  AIS: { code: 'PS_080', label: 'account information services (PS_080)' },
  PIS: { code: 'PS_070', label: 'payment initiation services (PS_070)' },
};

const q = (s: string) => `"${s}"`;
const day = (iso: string) => iso.slice(0, 10);
const nameOf = (e: RegisterEntry) => e.names[0] ?? e.entityCode;
const typeLabel = (t: string) => ENTITY_TYPE_LABELS[t] ?? 'entity of an unrecognised type';

/** Greece is GR in ISO 3166 (certificates, the register) and EL in EU usage; the UK is GB. */
export function normaliseCountry(c: string): string {
  const u = c.trim().toUpperCase();
  return u === 'EL' ? 'GR' : u === 'UK' ? 'GB' : u;
}

export function homeCountry(e: RegisterEntry): string {
  return normaliseCountry(e.country ?? e.caOwnerId.slice(0, 2));
}

// Legal forms dropped before comparing names, after dots are removed ("G.m.b.H." → "gmbh").
const LEGAL_FORMS = new Set(
  (
    'gmbh mbh ag kg kgaa ohg ug ek ev se ab publ as asa aps oy oyj ltd limited plc llp lp llc inc incorporated corp ' +
    'corporation co company sa sas sasu sarl eurl snc sl slu srl sro spa sapa scarl bv nv vof cv lda ead ood eood ad doo dd ' +
    'zrt nyrt kft bt uab sia ou ehf hf dac ulc uc ske ike ae epe oe and the'
  ).split(' '),
);

/** Case-, accent-, punctuation- and legal-form-insensitive key of a company name. */
export function nameKey(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[.'’]/g, '')
    .replace(/\bsp\s*z\s*o\s*o\b/g, ' ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  const tokens = base.split(' ').filter(Boolean);
  // "S A" (from "S. A.") is one legal form: join runs of single characters before dropping forms.
  const joined: string[] = [];
  let run = false;
  for (const t of tokens) {
    if (t.length === 1 && run) joined[joined.length - 1] += t;
    else joined.push(t);
    run = t.length === 1;
  }
  const kept = joined.filter((t) => !LEGAL_FORMS.has(t));
  return (kept.length ? kept : joined).join('');
}

export function namesMatch(declared: string, registered: readonly string[]): boolean {
  const key = nameKey(declared);
  return key !== '' && registered.some((n) => nameKey(n) === key);
}

const entryFound: NamedCheck = {
  name: 'entry found',
  run({ input, entry, matchedBy, snapshot }) {
    if (!entry) {
      return [
        finding(
          'register.not_found',
          `No entity with authorisation number ${q(input.authorisationNumber)} under ${input.ncaId} is in the EBA register ` +
            `snapshot imported on ${day(snapshot.importedAt)}. Credit institutions (banks) are not in the PSD2 register at all.`,
          `Check the NCA id and authorisation number: they must be those of your certificate's organizationIdentifier ` +
            `(PSD${input.ncaId.slice(0, 2)}-${input.ncaId.slice(3)}-${input.authorisationNumber}) and of your entry in your authority's register. ` +
            'If you are a bank, say so: a reviewer will check the Credit Institutions Register instead.',
        ),
      ];
    }
    if (matchedBy === 'country') {
      return [
        finding(
          'register.nca_code_differs',
          `The register lists number ${q(entry.nationalRef)} under authority ${entry.ncaId}, not ${input.ncaId}.`,
          'Check the NCA id in your application and certificate; if your authority is known by both codes, a reviewer will confirm it.',
        ),
      ];
    }
    return [];
  },
};

const entityTypeIsAuthorisation: NamedCheck = {
  name: 'entity type is an authorisation',
  run({ entry }) {
    if (!entry) return [];
    if (NOT_AUTHORISATION_TYPES.has(entry.entityType)) {
      return [
        finding(
          'register.not_authorisation',
          `${nameOf(entry)} is registered as an ${typeLabel(entry.entityType)} (${entry.entityType}), which is not a PSD2 ` +
            'authorisation: it does not allow account information or payment initiation services.',
          'Apply on the partner track, or first obtain an authorisation as a payment institution, e-money institution or account information service provider.',
        ),
      ];
    }
    if (!INSTITUTION_TYPES.has(entry.entityType) && !DEPENDENT_TYPES.has(entry.entityType)) {
      return [
        finding(
          'register.type_unknown',
          `The register entry has the entity type ${q(entry.entityType)}, which this portal does not know.`,
          'A reviewer will check the entry by hand; nothing to do for the applicant.',
        ),
      ];
    }
    return [];
  },
};

const authorised: NamedCheck = {
  name: 'authorised',
  run({ entry, parent }) {
    if (!entry || NOT_AUTHORISATION_TYPES.has(entry.entityType)) return [];
    const a = entry.authorisation;
    if (DEPENDENT_TYPES.has(entry.entityType)) {
      const parentName = parent ? `${nameOf(parent)} (${parent.entityCode})` : (entry.parent?.entityCode ?? 'an unnamed institution');
      const inactive = a.status === 'withdrawn' || parent?.authorisation.status === 'withdrawn';
      if (inactive) {
        return [
          finding(
            'register.parent_inactive',
            `${nameOf(entry)} is registered as an ${typeLabel(entry.entityType)} of ${parentName}, whose authorisation is ` +
              `inactive${parent?.authorisation.withdrawnOn ? ` (withdrawn on ${parent.authorisation.withdrawnOn})` : ''}. ` +
              'An agent or branch cannot act without an authorised institution behind it.',
            'Access cannot be granted while the parent institution is not authorised. Apply as the authorised institution itself, or ask it to restore its authorisation.',
          ),
        ];
      }
      if (!parent && a.status !== 'authorised') {
        return [
          finding(
            'register.parent_not_found',
            `${nameOf(entry)} is an ${typeLabel(entry.entityType)} of ${parentName}, which is not in the register snapshot, so its authorisation cannot be confirmed.`,
            'Give the NCA id and authorisation number of the authorised institution you act for; a reviewer will check the parent by hand.',
          ),
        ];
      }
      return [];
    }
    if (a.status === 'withdrawn') {
      return [
        finding(
          'register.withdrawn',
          `The register shows the authorisation of ${nameOf(entry)} as withdrawn on ${a.withdrawnOn}` +
            `${a.dates.length > 1 ? ` (authorised on ${a.dates[a.dates.length - 2]})` : ''}. The entry stays in the register with its old services.`,
          'Access cannot be granted while the authorisation is withdrawn. If your authority has restored it, the next register import will show a new authorisation date; ask the authority to report it to the EBA.',
        ),
      ];
    }
    if (a.status === 'unknown') {
      return [
        finding(
          'register.status_unknown',
          `The register entry of ${nameOf(entry)} gives no authorisation dates (ENT_AUT), so its authorisation status cannot be established.`,
          'A reviewer will check your authority\'s national register by hand; you may ask the authority to correct the EBA entry.',
        ),
      ];
    }
    if (a.dates.length >= 3) {
      return [
        finding(
          'register.reauthorised',
          `${nameOf(entry)} was authorised again on ${a.since} after a withdrawal on ${a.dates[a.dates.length - 2]}.`,
          'Nothing to do for the applicant; a reviewer may ask about the earlier withdrawal.',
        ),
      ];
    }
    return [];
  },
};

const legalNameMatches: NamedCheck = {
  name: 'legal name matches',
  run({ input, entry }) {
    if (!entry || namesMatch(input.legalName, entry.names)) return [];
    const registered = entry.names.length ? entry.names.map(q).join(', ') : '(no name)';
    return [
      finding(
        'register.name_mismatch',
        input.legalName.trim()
          ? `The legal name you gave, ${q(input.legalName.trim())}, does not match the name in the register: ${registered}.`
          : `No legal name was given to compare with the register's ${registered}.`,
        'Use your legal name exactly as registered with your authority (case, punctuation and legal forms such as "GmbH" or "Ltd" are ignored). If your name has changed, ask the authority to update the register.',
      ),
    ];
  },
};

const countryMatches: NamedCheck = {
  name: 'country matches',
  run({ input, entry }) {
    if (!entry || !input.country) return [];
    const home = homeCountry(entry);
    if (normaliseCountry(input.country) === home) return [];
    return [
      finding(
        'register.country_mismatch',
        `You gave ${input.country.toUpperCase()} as your country; the register has ${home} for ${nameOf(entry)}.`,
        'Give the country of your registered office, where your authority granted the authorisation (your home Member State). Countries you serve by passporting come from the register.',
      ),
    ];
  },
};

const servicesCoverRoles: NamedCheck = {
  name: 'services cover the requested roles',
  run({ input, entry, parent }) {
    if (!entry || NOT_AUTHORISATION_TYPES.has(entry.entityType)) return [];
    const out: RegisterFinding[] = [];
    if (input.roles.includes('CBPII')) {
      out.push(
        finding(
          'register.cbpii_no_service_code',
          'The PSD2 register has no service code for issuing card-based payment instruments (CBPII), so this role cannot be confirmed from the register.',
          'A reviewer will confirm the CBPII activity from your authorisation documents; keep them ready.',
        ),
      );
    }
    // Agents and branches provide their parent's services.
    const holder = DEPENDENT_TYPES.has(entry.entityType) ? parent : entry;
    if (!holder) return out;
    const home = homeCountry(holder);
    for (const role of [...new Set(input.roles)]) {
      if (role === 'CBPII') continue;
      const { code, label } = SERVICE_FOR_ROLE[role];
      if (holder.services[home]?.includes(code)) continue;
      const hosts = Object.keys(holder.services).filter((c) => holder.services[c]!.includes(code));
      const covered = (['AIS', 'PIS'] as const).filter((r) => holder.services[home]?.includes(SERVICE_FOR_ROLE[r].code));
      out.push(
        finding(
          'register.service_missing',
          `You asked for ${role}, but the register does not list ${label} for ${nameOf(holder)} in its home country ${home}` +
            (hosts.length ? ` (only in ${hosts.join(', ')})` : '') +
            (holder.entityType === 'PSD_AISP' && role === 'PIS'
              ? '. An account information service provider (PSD_AISP) is registered for account information only.'
              : '.'),
          `Request only the roles your authorisation covers (${covered.length ? covered.join(', ') : 'none of AIS, PIS'}), or ask your authority to add ${code} in ${home} to the register first.`,
        ),
      );
    }
    return out;
  },
};

/** In order; each check is skipped (returns nothing) when what it needs is missing. */
export const REGISTER_CHECKS: readonly NamedCheck[] = [
  entryFound,
  entityTypeIsAuthorisation,
  authorised,
  legalNameMatches,
  countryMatches,
  servicesCoverRoles,
];
