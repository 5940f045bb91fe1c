/**
 * Reader for the EBA PSD2 register JSON download (docs/register.md has the shape and the rules).
 *
 * The document is `[[{disclaimer}], [entities...]]`; we look for the block that holds entities instead of
 * indexing, because more blocks may appear. An entity that does not fit the shape is skipped with a reason
 * and counted, so one bad record does not lose the register; a file without any entity array is refused.
 *
 * The file is read whole and parsed with JSON.parse: memory is bounded by MAX_REGISTER_BYTES (the real
 * download is about 220 MB). A streaming parser is future work.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RegisterImportError } from './errors.js';
import type { AuthorisationStatus, ParentStatus, RegisterEntityRecord } from './repository.js';

/** Files above this are refused before parsing (the 2026 download is about 218 MB). */
export const MAX_REGISTER_BYTES = 300 * 1024 * 1024;
/**
 * Entities above this are refused. The August 2026 download holds 329,149 records (322,494 of them agents),
 * so the cap leaves room for growth while still bounding a hostile file.
 */
export const MAX_REGISTER_ENTITIES = 500_000;

export const INSTITUTION_TYPES: ReadonlySet<string> = new Set(['PSD_PI', 'PSD_EPI', 'PSD_EMI', 'PSD_EEMI', 'PSD_AISP']);
/** Excluded from PSD2 scope (PSD_EXC) and entitled under national law (PSD_ENL): not authorisations. */
export const NOT_AUTHORISATION_TYPES: ReadonlySet<string> = new Set(['PSD_EXC', 'PSD_ENL']);
/** Agents and branches act under their parent's authorisation. */
export const DEPENDENT_TYPES: ReadonlySet<string> = new Set(['PSD_AG', 'PSD_BR']);

export const ENTITY_TYPE_LABELS: Record<string, string> = {
  PSD_PI: 'payment institution',
  PSD_EPI: 'exempted payment institution',
  PSD_EMI: 'electronic money institution',
  PSD_EEMI: 'exempted electronic money institution',
  PSD_AISP: 'account information service provider',
  PSD_EXC: 'entity excluded from the scope of PSD2',
  PSD_ENL: 'entity entitled under national law',
  PSD_AG: 'agent',
  PSD_BR: 'branch',
};

const LIMITS = { string: 2_000, listItems: 500, properties: 200, services: 100, codes: 100 };
const PROPERTY_KEY = /^[A-Z][A-Z0-9_]{0,63}$/;
const COUNTRY = /^[A-Z]{2}$/;
const SERVICE_CODE = /^[A-Z0-9_]{1,16}$/;
const DATE = /^(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]+Z?)?$/;
const CA_OWNER = /^[A-Z]{2}_[A-Z0-9]{1,20}$/;

const entitySchema = z.object({
  CA_OwnerID: z.string().regex(CA_OWNER, 'CA_OwnerID is not of the form CC_AUTHORITY'),
  EntityCode: z
    .string()
    .min(1)
    .max(200)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u001f]+$/, 'EntityCode holds control characters'),
  EntityType: z.string().regex(/^[A-Z][A-Z0-9_]{1,19}$/, 'EntityType is not a register code'),
  Properties: z.array(z.unknown()).max(LIMITS.properties).optional(),
  Services: z.array(z.unknown()).max(LIMITS.services).optional(),
});
/** A property value: a string or a list of strings, bounded. (A plain check: it runs millions of times.) */
function isValue(v: unknown, maxItems: number): v is string | string[] {
  if (typeof v === 'string') return v.length <= LIMITS.string;
  return Array.isArray(v) && v.length <= maxItems && v.every((x) => typeof x === 'string' && x.length <= LIMITS.string);
}

export interface SkippedEntity {
  /** Position in the entity array. */
  index: number;
  entityCode: string | null;
  reason: string;
}

export interface ParsedRegister {
  entities: RegisterEntityRecord[];
  /** Every skipped entity's reason, counted. */
  skippedByReason: Record<string, number>;
  skippedCount: number;
  /** The first skipped entities (at most 100), for display. */
  skippedExamples: SkippedEntity[];
  sha256: string;
  bytes: number;
}

export interface ParseLimits {
  maxBytes?: number;
  maxEntities?: number;
}

/** `DE_BAFIN` (EBA CA_OwnerID) → `DE-BAFIN` (NCA id in PSD2 certificates, ETSI TS 119 495). */
export function ncaIdFromOwner(caOwnerId: string): string {
  return caOwnerId.replace('_', '-');
}

/** `DE-BAFIN` → `DE_BAFIN`; null when it is not an NCA id. `_` is accepted in place of `-`. */
export function ownerFromNcaId(ncaId: string): string | null {
  const m = /^([A-Z]{2})[-_]([A-Z0-9]{1,20})$/.exec(ncaId.trim().toUpperCase());
  return m ? `${m[1]}_${m[2]}` : null;
}

export interface Authorisation {
  status: AuthorisationStatus;
  since: string | null;
  withdrawnOn: string | null;
  dates: string[];
}

/**
 * The ENT_AUT parity rule (EBA JSON data specification): dates in chronological order, odd positions are
 * authorisations, even positions withdrawals. Odd length → authorised since the last date; even length →
 * withdrawn on the last date. PSD_EXC/PSD_ENL are not authorisations; agents and branches take their
 * parent's status (DER_CHI_ENT_AUT).
 */
export function authorisationOf(entityType: string, dates: readonly string[], parentStatus: ParentStatus | null): Authorisation {
  const list = [...dates];
  if (NOT_AUTHORISATION_TYPES.has(entityType)) return { status: 'not_applicable', since: null, withdrawnOn: null, dates: list };
  if (DEPENDENT_TYPES.has(entityType)) {
    const status = parentStatus === 'Active' ? 'authorised' : parentStatus === 'Inactive' ? 'withdrawn' : 'unknown';
    return { status, since: null, withdrawnOn: null, dates: list };
  }
  if (!INSTITUTION_TYPES.has(entityType) || list.length === 0) {
    return { status: 'unknown', since: null, withdrawnOn: null, dates: list };
  }
  const last = list[list.length - 1]!;
  return list.length % 2 === 1
    ? { status: 'authorised', since: last, withdrawnOn: null, dates: list }
    : { status: 'withdrawn', since: null, withdrawnOn: last, dates: list };
}

class SkipEntity extends Error {}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function looksLikeEntity(v: unknown): boolean {
  return isPlainObject(v) && (Object.hasOwn(v, 'EntityCode') || Object.hasOwn(v, 'CA_OwnerID'));
}

function asList(v: string | string[]): string[] {
  return typeof v === 'string' ? [v] : v;
}

function readProperties(list: readonly unknown[]): Record<string, string | string[]> {
  // A null-prototype object: keys come from the file and must never reach Object.prototype.
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const item of list) {
    if (!isPlainObject(item)) throw new SkipEntity('Properties holds an item that is not an object');
    for (const [key, raw] of Object.entries(item)) {
      if (!PROPERTY_KEY.test(key)) throw new SkipEntity('Properties holds a key that is not a register property code');
      if (!isValue(raw, LIMITS.listItems)) throw new SkipEntity(`property ${key} is not a string or a list of strings (or is too long)`);
      const value = typeof raw === 'string' ? raw : [...raw];
      const before = out[key];
      // Keys should not repeat; if they do, keep every value rather than silently dropping one.
      out[key] = before === undefined ? value : [...asList(before), ...asList(value)];
    }
  }
  // Plain objects for callers (fromEntries defines own properties; keys were checked above anyway).
  return Object.fromEntries(Object.entries(out));
}

function readServices(list: readonly unknown[]): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>;
  for (const item of list) {
    if (!isPlainObject(item)) throw new SkipEntity('Services holds an item that is not an object');
    for (const [country, raw] of Object.entries(item)) {
      if (!COUNTRY.test(country)) throw new SkipEntity('Services holds a key that is not a country code');
      if (!isValue(raw, LIMITS.codes)) throw new SkipEntity('Services holds codes that are not a string or a list of strings');
      const codes = asList(raw).map((c) => c.trim());
      if (!codes.every((c) => SERVICE_CODE.test(c))) throw new SkipEntity('Services holds a value that is not a service code');
      out[country] = [...new Set([...(out[country] ?? []), ...codes])].sort();
    }
  }
  return Object.fromEntries(Object.entries(out));
}

function readDates(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const dates = asList(value).map((d) => {
    const m = DATE.exec(d.trim());
    if (!m || Number.isNaN(Date.parse(`${m[1]}T00:00:00Z`))) throw new SkipEntity('ENT_AUT holds a value that is not a date');
    return m[1]!;
  });
  // The specification lists them in chronological order; sorting makes "last" mean latest either way.
  return dates.sort();
}

function first(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  const v = asList(value)[0]?.trim();
  return v ? v : null;
}

function readEntity(raw: unknown): RegisterEntityRecord {
  if (!isPlainObject(raw)) throw new SkipEntity('entity is not an object');
  const parsed = entitySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? 'entity');
    throw new SkipEntity(raw[field] === undefined ? `${field} missing` : `${field}: ${issue.message}`);
  }
  const e = parsed.data;
  const properties = readProperties(e.Properties ?? []);
  const services = readServices(e.Services ?? []);
  const names = [
    ...new Set([...asList(properties.ENT_NAM ?? []), ...asList(properties.ENT_NAM_COM ?? [])].map((n) => n.trim()).filter(Boolean)),
  ];
  const country = first(properties.ENT_COU_RES)?.toUpperCase() ?? null;
  if (country !== null && !COUNTRY.test(country)) throw new SkipEntity('ENT_COU_RES is not a country code');
  const nationalRef = first(properties.ENT_NAT_REF_COD) ?? e.EntityCode.split('!').pop()!.trim();
  if (!nationalRef) throw new SkipEntity('no national reference (ENT_NAT_REF_COD)');
  const parentStatusRaw = first(properties.DER_CHI_ENT_AUT);
  if (parentStatusRaw !== null && parentStatusRaw !== 'Active' && parentStatusRaw !== 'Inactive') {
    throw new SkipEntity('DER_CHI_ENT_AUT is neither Active nor Inactive');
  }
  const autDates = readDates(properties.ENT_AUT);
  return {
    entityCode: e.EntityCode,
    caOwnerId: e.CA_OwnerID,
    nationalRef,
    entityType: e.EntityType,
    names,
    country,
    autDates,
    status: 'unknown',
    services,
    parentCode: first(properties.ENT_COD_PAR_ENT),
    parentStatus: parentStatusRaw,
    properties,
  };
}

function findEntityArray(doc: unknown): unknown[] {
  if (!Array.isArray(doc)) {
    throw new RegisterImportError('register.bad_shape', 'The file is not an EBA register document: its top level is not an array.');
  }
  const blocks = doc.filter((b): b is unknown[] => Array.isArray(b) && b.some(looksLikeEntity));
  if (blocks.length > 0) return blocks.length === 1 ? blocks[0]! : blocks.flat();
  // Tolerated variant: the entity array itself at the top level.
  if (doc.some(looksLikeEntity)) return doc;
  throw new RegisterImportError(
    'register.bad_shape',
    'The file is not an EBA register document: it holds no array of entities (objects with EntityCode and CA_OwnerID).',
  );
}

/** Parses and validates a register download. Throws RegisterImportError when the file as a whole is unusable. */
export function parseEbaRegister(content: Buffer | string, limits: ParseLimits = {}): ParsedRegister {
  const maxBytes = limits.maxBytes ?? MAX_REGISTER_BYTES;
  const maxEntities = limits.maxEntities ?? MAX_REGISTER_ENTITIES;
  const bytes = typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.length;
  if (bytes > maxBytes) {
    throw new RegisterImportError(
      'register.file_too_large',
      `The file is ${(bytes / 1048576).toFixed(1)} MB; the import accepts at most ${Math.floor(maxBytes / 1048576)} MB.`,
    );
  }
  const sha256 = createHash('sha256').update(content).digest('hex');
  let doc: unknown;
  try {
    const text = typeof content === 'string' ? content : content.toString('utf8');
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new RegisterImportError('register.not_json', 'The file is not valid JSON.', (err as Error).message.slice(0, 200));
  }
  const list = findEntityArray(doc);
  if (list.length > maxEntities) {
    throw new RegisterImportError(
      'register.too_many_entities',
      `The file holds ${list.length} entities; the import accepts at most ${maxEntities}.`,
    );
  }

  const entities: RegisterEntityRecord[] = [];
  const byCode = new Map<string, RegisterEntityRecord>();
  const skippedByReason = Object.create(null) as Record<string, number>;
  const skippedExamples: SkippedEntity[] = [];
  let skippedCount = 0;
  list.forEach((raw, index) => {
    let entity: RegisterEntityRecord;
    try {
      entity = readEntity(raw);
      if (byCode.has(entity.entityCode)) throw new SkipEntity('duplicate EntityCode');
    } catch (err) {
      if (!(err instanceof SkipEntity)) throw err;
      skippedCount += 1;
      skippedByReason[err.message] = (skippedByReason[err.message] ?? 0) + 1;
      if (skippedExamples.length < 100) {
        const code = isPlainObject(raw) && typeof raw.EntityCode === 'string' ? raw.EntityCode.slice(0, 200) : null;
        skippedExamples.push({ index, entityCode: code, reason: err.message });
      }
      return;
    }
    byCode.set(entity.entityCode, entity);
    entities.push(entity);
  });
  if (entities.length === 0) {
    throw new RegisterImportError(
      'register.no_valid_entities',
      `None of the ${list.length} entities in the file could be read; the register was left as it was.`,
    );
  }

  for (const e of entities) {
    // Agents and branches normally carry DER_CHI_ENT_AUT; when one does not, use its parent in this file.
    if (DEPENDENT_TYPES.has(e.entityType) && e.parentStatus === null && e.parentCode !== null) {
      const parent = byCode.get(e.parentCode);
      if (parent) {
        const s = authorisationOf(parent.entityType, parent.autDates, parent.parentStatus).status;
        e.parentStatus = s === 'authorised' ? 'Active' : s === 'withdrawn' ? 'Inactive' : null;
      }
    }
    e.status = authorisationOf(e.entityType, e.autDates, e.parentStatus).status;
  }
  return { entities, skippedByReason: { ...skippedByReason }, skippedCount, skippedExamples, sha256, bytes };
}
