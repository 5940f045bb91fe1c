/**
 * Offline verification of an evidence pack: no database, no network. Each check is named; the first one that
 * fails is the pack's verdict, and the checks after a failed signature or manifest are skipped (nothing they
 * would read can be trusted any more).
 *
 *   format          the file is one JSON document of the pack format
 *   key             the embedded public key is an ES256 key whose RFC 7638 thumbprint is the stated one and
 *                   the JWS's kid
 *   key-pinned      with a pinned JWK Set (--jwks): the key is in it. Without one: skipped, and the pack only
 *                   proves it was not changed since someone holding the embedded key signed it
 *   signature       the JWS verifies over the manifest's exact bytes
 *   manifest        the manifest is well-formed and names the embedded key
 *   parts           the parts are exactly those the manifest lists, each with its size and SHA-256
 *   evidence-files  every included evidence file hashes to the SHA-256 recorded when it was uploaded
 *   audit-chain     every audit event's hash is recomputed from its content and its prevHash; events adjacent in
 *                   the full log (seq n, n+1) link; the counts, seq range and head match the manifest
 */
import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { eventHash, GENESIS_HASH, type AuditEvent } from '../audit/service.js';
import type { JsonValue } from '../audit/canonical.js';
import {
  auditPartSchema,
  evidenceEntrySchema,
  type Manifest,
  manifestSchema,
  MANIFEST_TYP,
  type PackDocument,
  packDocumentSchema,
  PART,
  partBytes,
} from './format.js';
import { sha256Hex } from './pack.js';

export const CHECKS = ['format', 'key', 'key-pinned', 'signature', 'manifest', 'parts', 'evidence-files', 'audit-chain'] as const;
export type CheckId = (typeof CHECKS)[number];

export interface CheckResult {
  id: CheckId;
  status: 'pass' | 'fail' | 'skip';
  detail: string;
}

export interface PackVerification {
  ok: boolean;
  /** The first check that failed; null when valid. */
  failed: CheckId | null;
  checks: CheckResult[];
  /** The signed manifest, once its signature held. */
  manifest: Manifest | null;
}

/** A pack larger than this is refused before parsing (a pack with every evidence file is far smaller). */
export const MAX_PACK_BYTES = 512 * 1024 * 1024;

class CheckFailed extends Error {}

/** The verdict on a file too large to be a pack, without reading it. */
export function tooLarge(size: number): PackVerification {
  const checks: CheckResult[] = CHECKS.map((id) =>
    id === 'format'
      ? { id, status: 'fail', detail: `the file has ${size} bytes, more than a pack may (${MAX_PACK_BYTES})` }
      : { id, status: 'skip', detail: 'not checked: an earlier check failed' },
  );
  return { ok: false, failed: 'format', checks, manifest: null };
}

function fail(detail: string): never {
  throw new CheckFailed(detail);
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

export async function verifyPack(input: Uint8Array | string, opts: { jwks?: { keys: JWK[] } } = {}): Promise<PackVerification> {
  const results = new Map<CheckId, CheckResult>();
  let doc: PackDocument | null = null;
  let manifest: Manifest | null = null;
  let stopped = false;

  async function run(id: CheckId, fn: () => Promise<string> | string, opts: { skipWhen?: string | null; stops?: boolean } = {}) {
    if (stopped) {
      results.set(id, { id, status: 'skip', detail: 'not checked: an earlier check failed' });
      return;
    }
    if (opts.skipWhen) {
      results.set(id, { id, status: 'skip', detail: opts.skipWhen });
      return;
    }
    try {
      results.set(id, { id, status: 'pass', detail: await fn() });
    } catch (e) {
      const detail = e instanceof CheckFailed ? e.message : `unexpected: ${e instanceof Error ? e.message : String(e)}`;
      results.set(id, { id, status: 'fail', detail });
      if (opts.stops !== false) stopped = true;
    }
  }

  await run('format', () => {
    const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
    if (size > MAX_PACK_BYTES) fail(`the file has ${size} bytes, more than a pack may (${MAX_PACK_BYTES})`);
    let json: unknown;
    try {
      json = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch {
      fail('the file is not JSON');
    }
    const parsed = packDocumentSchema.safeParse(json);
    if (!parsed.success) fail(`not an evidence pack: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'document'}: ${i.message}`).join('; ')}`);
    for (const p of parsed.data.parts) {
      // Node's base64 decoder skips junk; only canonical base64 is accepted, so what was hashed is unambiguous.
      if (p.encoding === 'base64' && Buffer.from(p.content, 'base64').toString('base64') !== p.content) fail(`part ${p.name}: content is not canonical base64`);
    }
    doc = parsed.data;
    return `${parsed.data.parts.length} parts`;
  });

  let header: { kid?: unknown; typ?: unknown; alg?: unknown } = {};
  await run('key', async () => {
    const d = doc!;
    const jwk = d.key.jwk as JWK;
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') fail('the embedded key is not a P-256 (ES256) public key');
    if ('d' in jwk) fail('the embedded key contains private key material');
    let thumbprint: string;
    try {
      thumbprint = await calculateJwkThumbprint(jwk);
    } catch {
      fail('the embedded key cannot be read');
    }
    if (thumbprint !== d.key.thumbprint) fail(`the embedded key's thumbprint is ${thumbprint}, the pack says ${d.key.thumbprint}`);
    try {
      header = decodeProtectedHeader(d.signature);
    } catch {
      fail('the signature header cannot be read');
    }
    if (header.kid !== thumbprint) fail(`the signature names key ${String(header.kid)}, the embedded key is ${thumbprint}`);
    return `ES256 key ${thumbprint}`;
  });

  await run(
    'key-pinned',
    async () => {
      const d = doc!;
      for (const k of opts.jwks!.keys) {
        // The kid of a published key is not trusted on its own: the key material must give the same thumbprint.
        const t = await calculateJwkThumbprint(k).catch(() => null);
        if (t === d.key.thumbprint) return `key ${t} is in the pinned JWK Set`;
      }
      fail(`key ${d.key.thumbprint} is not in the pinned JWK Set (${opts.jwks!.keys.length} keys): someone else signed this pack`);
    },
    {
      skipWhen: opts.jwks
        ? null
        : 'no pinned key set given (--jwks): the signature is checked with the key the pack carries, which proves integrity but not who signed',
    },
  );

  await run('signature', async () => {
    const d = doc!;
    if (header.alg !== 'ES256') fail(`the signature algorithm is ${String(header.alg)}, not ES256`);
    if (header.typ !== MANIFEST_TYP) fail(`the signature's typ is ${String(header.typ)}, not ${MANIFEST_TYP}`);
    const [h, s] = d.signature.split('..') as [string, string];
    const key = await importJWK(d.key.jwk as JWK, 'ES256');
    try {
      await compactVerify(`${h}.${b64url(Buffer.from(d.manifest, 'utf8'))}.${s}`, key, { algorithms: ['ES256'] });
    } catch {
      fail('the signature does not verify over the manifest: the manifest was changed, or the signature or key was swapped');
    }
    return 'the manifest is signed by the embedded key';
  });

  await run('manifest', () => {
    const d = doc!;
    let json: unknown;
    try {
      json = JSON.parse(d.manifest);
    } catch {
      fail('the manifest is not JSON');
    }
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) fail(`malformed manifest: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    if (parsed.data.key.thumbprint !== d.key.thumbprint) fail('the manifest names another key than the one that signed it');
    const names = parsed.data.parts.map((p) => p.name);
    if (new Set(names).size !== names.length) fail('the manifest lists a part twice');
    manifest = parsed.data;
    return `pack ${parsed.data.packId} of partner ${parsed.data.subject.partnerId}, made ${parsed.data.createdAt} by ${parsed.data.createdBy.label}`;
  });

  // From here on every check runs (a changed part may break several); the verdict is the first failure.
  await run(
    'parts',
    () => {
      const d = doc!;
      const m = manifest!;
      const listed = new Map(m.parts.map((p) => [p.name, p]));
      const present = new Set<string>();
      for (const p of d.parts) {
        if (present.has(p.name)) fail(`part ${p.name} appears twice`);
        present.add(p.name);
        const want = listed.get(p.name);
        if (!want) fail(`part ${p.name} is not in the manifest`);
        const bytes = partBytes(p);
        if (bytes.length !== want.size) fail(`part ${p.name}: ${bytes.length} bytes, the manifest says ${want.size}`);
        const got = sha256Hex(bytes);
        if (got !== want.sha256) fail(`part ${p.name}: SHA-256 ${got}, the manifest says ${want.sha256}`);
        if (p.mediaType !== want.mediaType) fail(`part ${p.name}: media type ${p.mediaType}, the manifest says ${want.mediaType}`);
      }
      for (const name of listed.keys()) if (!present.has(name)) fail(`part ${name} is listed in the manifest but missing`);
      return `${d.parts.length} parts match the manifest`;
    },
    { stops: false },
  );

  const partText = (name: string): string => {
    const p = doc!.parts.find((x) => x.name === name);
    if (!p) fail(`part ${name} is missing`);
    return partBytes(p).toString('utf8');
  };

  await run(
    'evidence-files',
    () => {
      let json: unknown;
      try {
        json = JSON.parse(partText(PART.evidence));
      } catch (e) {
        if (e instanceof CheckFailed) throw e;
        fail(`${PART.evidence} is not JSON`);
      }
      const list = Array.isArray((json as { files?: unknown })?.files) ? ((json as { files: unknown[] }).files) : fail(`${PART.evidence} has no files list`);
      let included = 0;
      for (const raw of list) {
        const e = evidenceEntrySchema.safeParse(raw);
        if (!e.success) fail(`${PART.evidence}: malformed entry`);
        if (!e.data.file.included) continue;
        const partName = e.data.file.part;
        const p = doc!.parts.find((x) => x.name === partName);
        if (!p) fail(`evidence ${e.data.id}: its file part ${partName} is missing`);
        const bytes = partBytes(p);
        const got = sha256Hex(bytes);
        if (got !== e.data.sha256 || bytes.length !== e.data.size) {
          fail(`evidence ${e.data.id}: the file hashes to ${got} (${bytes.length} bytes), the upload recorded ${e.data.sha256} (${e.data.size} bytes)`);
        }
        included++;
      }
      return `${included} included files match their upload hashes; ${list.length - included} recorded by hash only`;
    },
    { stops: false },
  );

  await run(
    'audit-chain',
    () => {
      const m = manifest!;
      let json: unknown;
      try {
        json = JSON.parse(partText(PART.audit));
      } catch (e) {
        if (e instanceof CheckFailed) throw e;
        fail(`${PART.audit} is not JSON`);
      }
      const parsed = auditPartSchema.safeParse(json);
      if (!parsed.success) fail(`${PART.audit}: malformed event ${parsed.error.issues[0]?.path.join('.') ?? ''}`);
      const events = parsed.data.events;
      let segments = 0;
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        const prev = i > 0 ? events[i - 1]! : null;
        if (prev && e.seq <= prev.seq) fail(`event ${e.seq} comes after event ${prev.seq}: events are out of order or repeated`);
        if (e.seq === 1 && e.prevHash !== GENESIS_HASH) fail('event 1 does not start from the genesis hash');
        const recomputed = eventHash(e.prevHash, { ...e, data: e.data as Record<string, JsonValue> } as AuditEvent);
        if (recomputed !== e.hash) fail(`event ${e.seq} (${e.action}): its hash does not match its content (the event was changed)`);
        if (prev && e.seq === prev.seq + 1) {
          if (e.prevHash !== prev.hash) fail(`events ${prev.seq} and ${e.seq} are adjacent in the log but do not link (an event was changed or replaced)`);
        } else {
          segments++;
        }
      }
      const first = events[0]?.seq ?? null;
      const last = events.at(-1)?.seq ?? null;
      const a = m.audit;
      if (a.events !== events.length) fail(`${events.length} events in the pack, the manifest says ${a.events} (an event was removed or added)`);
      if (a.firstSeq !== first || a.lastSeq !== last) fail(`events span ${first}..${last}, the manifest says ${a.firstSeq}..${a.lastSeq}`);
      if (a.segments !== segments) fail(`${segments} runs of consecutive events, the manifest says ${a.segments}`);
      if (last !== null && last > a.chainHead.seq) fail(`event ${last} is newer than the chain head ${a.chainHead.seq} the manifest records`);
      if (last !== null && last === a.chainHead.seq && events.at(-1)!.hash !== a.chainHead.hash) fail('the newest event is the chain head but its hash differs from the recorded head');
      return `${events.length} events in ${segments} segment(s), each hash recomputed; head at export ${a.chainHead.seq} (${a.fullChainAtExport.ok ? 'full chain intact at export' : `full chain NOT intact at export: ${a.fullChainAtExport.problem}`})`;
    },
    { stops: false },
  );

  const checks = CHECKS.map((id) => results.get(id)!);
  const failed = checks.find((c) => c.status === 'fail')?.id ?? null;
  return { ok: failed === null, failed, checks, manifest };
}
