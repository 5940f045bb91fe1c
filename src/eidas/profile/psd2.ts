/**
 * The PSD2 QCStatement of ETSI TS 119 495 §5.1 (statementId 0.4.0.19495.2).
 *
 * The statement is first decoded with the PSD2QcType schema (src/eidas/asn1/psd2.ts) and must re-encode to
 * the same bytes (DER, no extra components). When it does not, a lenient asn1js walk reads what it can and
 * says what is wrong (a PrintableString name, roles flattened into one SEQUENCE, missing components...).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { PSD2QcType } from '../asn1/psd2.js';
import { errorText } from '../certificate.js';
import { findNca, NCA_TABLE_VERSION } from '../data/nca.js';
import { PSD2_COUNTRIES } from '../data/countries.js';
import {
  id_psd2_role_psp_ai,
  id_psd2_role_psp_as,
  id_psd2_role_psp_cb,
  id_psd2_role_psp_ic,
  id_psd2_role_psp_pa,
  id_psd2_role_psp_pi,
} from '../oids.js';
import type { Finding, Psd2RoleName } from '../types.js';
import {
  aTypeName,
  childrenOf,
  decodeOne,
  isSequence,
  isUtf8String,
  oidValue,
  stringValue,
  WALK_LIMITS,
} from './asn1-walk.js';
import type { ProfileCheck, Psd2Analysis, Psd2RoleRead, QcAnalysis } from './context.js';
import { quote, report } from './context.js';

export interface Psd2RoleSpec {
  oid: string;
  name: Psd2RoleName;
  /** A PSD2 third-party-provider (or ASPSP) role; false for the v1.8.1 non-PSD2 roles. */
  psd2: boolean;
  since: string;
}

/** TS 119 495 §5.2.2 role table; PSP_CB and PSP_PA were added in v1.8.1 as roles outside PSD2. */
export const PSD2_ROLES: readonly Psd2RoleSpec[] = [
  { oid: id_psd2_role_psp_as, name: 'PSP_AS', psd2: true, since: 'V1.1.1' },
  { oid: id_psd2_role_psp_pi, name: 'PSP_PI', psd2: true, since: 'V1.1.1' },
  { oid: id_psd2_role_psp_ai, name: 'PSP_AI', psd2: true, since: 'V1.1.1' },
  { oid: id_psd2_role_psp_ic, name: 'PSP_IC', psd2: true, since: 'V1.1.1' },
  { oid: id_psd2_role_psp_cb, name: 'PSP_CB', psd2: false, since: 'V1.8.1' },
  { oid: id_psd2_role_psp_pa, name: 'PSP_PA', psd2: false, since: 'V1.8.1' },
];
const ROLE_BY_OID = new Map(PSD2_ROLES.map((r) => [r.oid, r]));

const MAX_ROLES = 32;
const MAX_STRING = 256; // TS 119 495 §5.1: SIZE (1..256)

interface WalkResult {
  problems: string[];
  roles: Psd2RoleRead[];
  rolesRead: boolean;
  ncaName: string | null;
  ncaId: string | null;
}

export function analysePsd2(qc: QcAnalysis): Psd2Analysis {
  const info = qc.psd2StatementInfo;
  const empty = { problems: [], roles: [], ncaName: null, ncaId: null, info: null, rolesRead: false };
  if (info === undefined) return { present: false, ...empty };
  if (info === null) {
    return { present: true, ...empty, problems: ['the PSD2 statement has no statementInfo (PSD2QcType)'] };
  }

  const walked = walk(info);
  const problems = walked.problems;
  const strictError = strictDecode(info);
  if (strictError !== null && problems.length === 0) problems.push(`it does not match the TS 119 495 schema (${strictError})`);

  const sizes: [string, string | null][] = [
    ['nCAName', walked.ncaName],
    ['nCAId', walked.ncaId],
    ...walked.roles.map((r, i): [string, string | null] => [`the name of role ${i + 1}`, r.name]),
  ];
  for (const [what, value] of sizes) {
    if (value === null) continue;
    if (value.length === 0) problems.push(`${what} is empty (SIZE (1..256))`);
    else if (value.length > MAX_STRING) problems.push(`${what} is ${value.length} characters long (SIZE (1..256))`);
  }

  const known: Psd2RoleName[] = [];
  for (const r of walked.roles) {
    const spec = ROLE_BY_OID.get(r.oid);
    if (spec && !known.includes(spec.name)) known.push(spec.name);
  }
  const readable = walked.roles.length > 0 || walked.ncaName !== null || walked.ncaId !== null;
  return {
    present: true,
    problems,
    roles: walked.roles,
    ncaName: walked.ncaName,
    ncaId: walked.ncaId,
    rolesRead: walked.rolesRead,
    info: readable ? { roles: known, ncaName: walked.ncaName ?? '', ncaId: walked.ncaId ?? '' } : null,
  };
}

/** null when the statement decodes with the schema and re-encodes to the same DER. */
function strictDecode(info: Uint8Array): string | null {
  try {
    const parsed = AsnConvert.parse(info, PSD2QcType, { berOptions: WALK_LIMITS });
    const again = new Uint8Array(AsnConvert.serialize(parsed));
    return Buffer.from(again).equals(Buffer.from(info)) ? null : 'it is not the DER encoding of PSD2QcType';
  } catch (e) {
    return errorText(e);
  }
}

function walk(info: Uint8Array): WalkResult {
  const out: WalkResult = { problems: [], roles: [], rolesRead: false, ncaName: null, ncaId: null };
  const decoded = decodeOne(info);
  if (!decoded.ok) {
    out.problems.push(`PSD2QcType is not valid DER (${decoded.error})`);
    return out;
  }
  const top = decoded.node;
  if (!isSequence(top)) {
    out.problems.push(`PSD2QcType is ${aTypeName(top)}, not a SEQUENCE`);
    return out;
  }
  const parts = childrenOf(top);
  if (parts.length !== 3) {
    out.problems.push(`PSD2QcType has ${parts.length} components; TS 119 495 defines 3 (rolesOfPSP, nCAName, nCAId)`);
  }
  const [rolesNode, nameNode, idNode] = parts;

  if (!isSequence(rolesNode)) {
    out.problems.push(`rolesOfPSP is ${rolesNode ? aTypeName(rolesNode) : 'missing'}, not a SEQUENCE OF RoleOfPSP`);
  } else {
    out.rolesRead = true;
    readRoles(childrenOf(rolesNode), out);
  }

  const readString = (node: typeof nameNode, what: 'nCAName' | 'nCAId'): string | null => {
    if (node === undefined) {
      out.problems.push(`${what} is missing`);
      return null;
    }
    const value = stringValue(node);
    if (value === null) {
      out.problems.push(`${what} is ${aTypeName(node)}, not a UTF8String`);
      return null;
    }
    if (!isUtf8String(node)) out.problems.push(`${what} ${quote(value)} is ${aTypeName(node)}, not a UTF8String`);
    return value;
  };
  out.ncaName = readString(nameNode, 'nCAName');
  out.ncaId = readString(idNode, 'nCAId');
  return out;
}

function readRoles(entries: ReturnType<typeof childrenOf>, out: WalkResult): void {
  const pushRole = (oid: string, nameNode: (typeof entries)[number] | undefined, where: string) => {
    if (out.roles.length >= MAX_ROLES) return;
    let name: string | null = null;
    if (nameNode !== undefined) {
      name = stringValue(nameNode);
      if (name === null) out.problems.push(`${where}: the role name is ${aTypeName(nameNode)}, not a UTF8String`);
      else if (!isUtf8String(nameNode)) {
        out.problems.push(`${where}: the role name ${quote(name)} is ${aTypeName(nameNode)}, not a UTF8String`);
      }
    } else {
      out.problems.push(`${where}: the role ${oid} has no roleOfPspName`);
    }
    out.roles.push({ oid, name });
  };

  for (const [i, entry] of entries.entries()) {
    if (i >= MAX_ROLES) {
      out.problems.push(`more than ${MAX_ROLES} roles; the rest were ignored`);
      return;
    }
    const where = `RoleOfPSP ${i + 1}`;
    const directOid = oidValue(entry);
    if (directOid !== null) {
      // OIDs and names listed straight inside RolesOfPSP, without a RoleOfPSP SEQUENCE per role.
      out.problems.push(`${where} is a bare OBJECT IDENTIFIER, not a SEQUENCE { roleOfPspOid, roleOfPspName }`);
      const next = entries[i + 1];
      if (next !== undefined && stringValue(next) !== null) pushRole(directOid, next, where);
      else pushRole(directOid, undefined, where);
      continue;
    }
    if (!isSequence(entry)) {
      if (stringValue(entry) === null) out.problems.push(`${where} is ${aTypeName(entry)}, not a SEQUENCE`);
      continue; // a string here was consumed as the name of the bare OID before it
    }
    const items = childrenOf(entry);
    const pairs: [string, (typeof items)[number] | undefined][] = [];
    let shapeOk = items.length >= 2 && items.length % 2 === 0;
    for (let k = 0; k < items.length; k += 2) {
      const oid = oidValue(items[k]);
      if (oid === null) {
        shapeOk = false;
        continue;
      }
      pairs.push([oid, items[k + 1]]);
    }
    if (items.length === 2 && shapeOk) {
      // the expected shape
    } else if (shapeOk) {
      out.problems.push(
        `${where} holds ${items.length / 2} roles flattened into one SEQUENCE; each role must be its own SEQUENCE { roleOfPspOid, roleOfPspName }`,
      );
    } else {
      out.problems.push(`${where} is not SEQUENCE { roleOfPspOid OBJECT IDENTIFIER, roleOfPspName UTF8String } (it has ${items.length} component(s))`);
    }
    for (const [oid, nameNode] of pairs) pushRole(oid, nameNode, where);
  }
}

// ---- checks --------------------------------------------------------------------------------------------

/** TS 119 495 GEN-5.1-1 (presence) and §5.1 (ASN.1). */
export const psd2Statement: ProfileCheck = (_cert, ctx) => {
  if (!ctx.psd2.present) {
    if (ctx.qc.encoding === 'unreadable') return [];
    return [
      report(
        ctx,
        'psd2.missing',
        ctx.qc.encoding === 'absent'
          ? 'The certificate has no qcStatements extension, so it carries no PSD2 statement (roles and NCA).'
          : 'The qcStatements extension has no PSD2 statement (0.4.0.19495.2) naming the PSP roles and the NCA.',
      ),
    ];
  }
  if (ctx.psd2.problems.length === 0) return [];
  return [report(ctx, 'psd2.malformed', `The PSD2 statement is malformed: ${ctx.psd2.problems.join('; ')}.`)];
};

/** TS 119 495 §5.2.2: at least one role; OID from the table; the registered name next to it. */
export const psd2Roles: ProfileCheck = (_cert, ctx) => {
  const psd2 = ctx.psd2;
  if (!psd2.present) return [];
  const out: Finding[] = [];
  if (psd2.roles.length === 0 && psd2.rolesRead) {
    out.push(report(ctx, 'psd2.roles-empty', 'The PSD2 statement lists no role (rolesOfPSP is empty).'));
  }
  const unknown = psd2.roles.filter((r) => !ROLE_BY_OID.has(r.oid));
  if (unknown.length > 0) {
    const list = unknown.map((r) => (r.name === null ? r.oid : `${r.oid} (${quote(r.name, 40)})`)).join(', ');
    const note = unknown.some((r) => r.oid === '0.4.0.19495.1.0') ? '; 0.4.0.19495.1.0 means "unspecified" and is not a role' : '';
    out.push(report(ctx, 'psd2.role-unknown', `The PSD2 statement names role OID(s) that TS 119 495 does not define: ${list}${note}.`));
  }
  const mismatched = psd2.roles.filter((r) => {
    const spec = ROLE_BY_OID.get(r.oid);
    return spec !== undefined && r.name !== spec.name;
  });
  if (mismatched.length > 0) {
    const list = mismatched
      .map((r) => `${r.oid} is named ${r.name === null ? 'nothing' : quote(r.name, 40)} instead of "${ROLE_BY_OID.get(r.oid)?.name}"`)
      .join('; ');
    out.push(report(ctx, 'psd2.role-name-mismatch', `PSD2 role names do not match their OIDs: ${list}.`));
  }
  const notTpp = [...new Set(psd2.roles.map((r) => ROLE_BY_OID.get(r.oid)).filter((s) => s !== undefined && !s.psd2))];
  if (notTpp.length > 0) {
    const list = notTpp.map((s) => `${s?.name} (${s?.oid})`).join(', ');
    out.push(report(ctx, 'psd2.role-not-tpp', `The role(s) ${list} of TS 119 495 V1.8.1 are recognised but are not PSD2 roles; they give no access to PSD2 APIs.`));
  }
  return out;
};

/** Every role is one of the V1.8.1 non-PSD2 roles (which may carry NCAName/NCAId "NA"). */
export function psd2RolesOnlyNonPsd2(roles: Psd2RoleRead[]): boolean {
  return roles.length > 0 && roles.every((r) => ROLE_BY_OID.get(r.oid)?.psd2 === false);
}

const NCA_ID = /^([A-Z]{2})-([A-Z]{2,8})$/;

/** TS 119 495 §5.2.3 GEN-5.2.3-1/-2 and Annex D. */
export const psd2Nca: ProfileCheck = (_cert, ctx) => {
  const psd2 = ctx.psd2;
  if (!psd2.present) return [];
  const out: Finding[] = [];
  const id = psd2.ncaId;
  if (id !== null) {
    const m = NCA_ID.exec(id);
    if (id === 'NA') {
      if (!psd2RolesOnlyNonPsd2(psd2.roles)) {
        out.push(report(ctx, 'psd2.nca-id-invalid', 'The NCA identifier is "NA", which TS 119 495 V1.8.1 allows only when every role is a non-PSD2 role (PSP_CB, PSP_PA).'));
      }
    } else if (!m) {
      out.push(report(ctx, 'psd2.nca-id-invalid', `The NCA identifier ${quote(id)} is not a two-letter country code, a hyphen and 2-8 capital letters (e.g. DE-BAFIN).`));
    } else if (!PSD2_COUNTRIES.has(m[1] ?? '')) {
      out.push(report(ctx, 'psd2.nca-id-invalid', `The NCA identifier ${quote(id)} starts with ${quote(m[1] ?? '')}, which is not the ISO 3166 code of an EEA country.`));
    } else if (!findNca(id)) {
      out.push(report(ctx, 'psd2.nca-unknown', `The NCA identifier ${quote(id)} is well formed but not in the list of competent authorities known to this portal (${NCA_TABLE_VERSION}).`));
    }
  }
  const name = psd2.ncaName;
  if (name !== null) {
    if (name.trim() === '') {
      out.push(report(ctx, 'psd2.nca-name-invalid', 'The NCA name is empty.'));
    } else if (!isLatinText(name)) {
      out.push(report(ctx, 'psd2.nca-name-invalid', `The NCA name ${quote(name)} is not written in Latin characters.`));
    }
  }
  return out;
};

/** Latin letters (with diacritics, e.g. "Banco de España"), digits, spaces and punctuation; no control characters. */
function isLatinText(text: string): boolean {
  return /^[\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}]+$/u.test(text) && !/\p{Cc}/u.test(text);
}
