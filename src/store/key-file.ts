/**
 * Key files under DATA_DIR: the one place that reads, creates and rewrites the portal's private key files
 * (`oauth/keys.json`, `directory/keys.json`, `evidence/keys.json`, `notifications/webhook-keys.json`).
 *
 * Two layers. `keyFile` is any JSON file of secrets: directory 0700, file 0600, validated on every read, and
 * a damaged file is an error naming it, never silently replaced (the keys in it sign things others hold).
 * `loadOrCreateJwks` is the list of signing keys most areas keep: `{ version: 1, keys: [{ jwk, createdAt }] }`,
 * newest first (it signs), kid = RFC 7638 thumbprint, each key checked to load and to match its kid.
 *
 * Writes never leave a half-written file: the content goes to a temporary file (0600 from the start) that is
 * then linked into place when creating (so that two processes starting at once agree on one key: the second
 * link fails and that process reads the winner's file) or renamed over the old file when replacing.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, importJWK, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';

/** The file exists but is not what it must be. The message names the file, says why, and what to do. */
export class DamagedKeyFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    advice: string,
  ) {
    super(`${file} is damaged (${reason}): ${advice}`);
    this.name = 'DamagedKeyFileError';
  }
}

export interface KeyFileSpec<T> {
  dataDir: string;
  /** Directory under DATA_DIR (made 0700) and the file's name in it. */
  dir: string;
  name: string;
  /** The file's JSON shape. */
  schema: z.ZodType<T>;
  /** Checks beyond the shape (e.g. that each key loads): why the content is wrong, or null when it is fine. */
  check?: (data: T) => Promise<string | null>;
  /** Ends the damaged-file error: what the operator should do, and what deleting the file would cost. */
  whenDamaged: string;
}

export interface KeyFile<T> {
  /** Absolute path of the file. */
  readonly file: string;
  /** The validated content, or null when there is no file yet. */
  read(): Promise<T | null>;
  /** The validated content; when there is no file, `create()`'s result written exclusively (a concurrent creator's file wins). */
  loadOrCreate(create: () => Promise<T>): Promise<T>;
  /** Replaces the content atomically (temporary file + rename), mode 0600. */
  write(data: T): void;
}

/** Nothing touches the disk until a method is called (some areas load their keys on first use only). */
export function keyFile<T>(spec: KeyFileSpec<T>): KeyFile<T> {
  const dir = path.join(spec.dataDir, spec.dir);
  const file = path.join(dir, spec.name);

  function ensureDir(): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode does not apply to a directory that already exists, nor past the umask.
    chmodSync(dir, 0o700);
  }

  function damaged(reason: string): DamagedKeyFileError {
    return new DamagedKeyFileError(file, reason, spec.whenDamaged);
  }

  /** A private temporary file beside the target (same filesystem, so link and rename are atomic). */
  function writeTemp(data: T): string {
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600); // the umask may have narrowed it further; make it exactly 0600
    return tmp;
  }

  /** True when this call created the file, false when somebody else already had. */
  function createExclusive(data: T): boolean {
    const tmp = writeTemp(data);
    try {
      linkSync(tmp, file);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    } finally {
      unlinkSync(tmp);
    }
  }

  async function read(): Promise<T | null> {
    ensureDir();
    if (!existsSync(file)) return null;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw damaged(e instanceof SyntaxError ? 'not JSON' : String(e));
    }
    const parsed = spec.schema.safeParse(json);
    if (!parsed.success) throw damaged(parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; '));
    const wrong = spec.check ? await spec.check(parsed.data) : null;
    if (wrong !== null) throw damaged(wrong);
    return parsed.data;
  }

  return {
    file,
    read,
    async loadOrCreate(create) {
      const found = await read();
      if (found !== null) return found;
      const fresh = await create();
      if (createExclusive(fresh)) return fresh;
      // Lost the race while generating: use the file that won, validated like any other.
      const winner = await read();
      if (winner === null) throw new Error(`${file} vanished while it was being created`);
      return winner;
    },
    write(data) {
      ensureDir();
      const tmp = writeTemp(data);
      try {
        renameSync(tmp, file);
      } catch (e) {
        unlinkSync(tmp);
        throw e;
      }
    },
  };
}

/** A private JWK as the key lists keep it: kid is its RFC 7638 thumbprint. */
export type PrivateJwk = JWK & { kid: string };

export interface StoredJwk<J extends PrivateJwk> {
  jwk: J;
  createdAt: string;
}

/** The format on disk; existing data directories depend on it, so it does not change. */
export interface JwkList<J extends PrivateJwk> {
  version: 1;
  keys: StoredJwk<J>[];
}

export interface JwkListSpec<J extends PrivateJwk> extends Omit<KeyFileSpec<JwkList<J>>, 'schema' | 'check'> {
  alg: string;
  /** Shape of one stored private key, alg and `use: 'sig'` included: a key of any other type is damage. */
  jwk: z.ZodType<J>;
  /** Makes a new private key (extractable) for the first entry when there is no file. */
  generate: () => Promise<CryptoKey>;
  now: () => Date;
}

export interface LoadedJwks<J extends PrivateJwk> {
  file: string;
  /** Newest first. */
  keys: StoredJwk<J>[];
  /** The newest key, imported for `alg`: the one that signs. */
  signingKey: CryptoKey;
}

/** Bounds a hand-edited or runaway file: rotation keeps a few keys, never hundreds. */
const MAX_KEYS = 20;

/** The key list's file, validated on every read (shape, each key loads, kid = thumbprint). */
function jwkListFile<J extends PrivateJwk>(spec: JwkListSpec<J>): KeyFile<JwkList<J>> {
  const schema: z.ZodType<JwkList<J>> = z.object({
    version: z.literal(1),
    keys: z.array(z.object({ jwk: spec.jwk, createdAt: z.iso.datetime() })).min(1).max(MAX_KEYS),
  });
  const kf = keyFile<JwkList<J>>({
    ...spec,
    schema,
    // The kid is the thumbprint and the key must load: anything else means the file was edited or cut.
    async check(data) {
      for (const k of data.keys) {
        let thumbprint: string;
        try {
          await importJWK(k.jwk, spec.alg);
          thumbprint = await calculateJwkThumbprint(k.jwk);
        } catch (e) {
          return `key ${k.jwk.kid} does not load: ${e instanceof Error ? e.message : String(e)}`;
        }
        if (thumbprint !== k.jwk.kid) return `key ${k.jwk.kid} does not match its thumbprint`;
      }
      return null;
    },
  });
  return kf;
}

async function generatedEntry<J extends PrivateJwk>(spec: JwkListSpec<J>): Promise<StoredJwk<J>> {
  const jwk = await exportJWK(await spec.generate());
  const kid = await calculateJwkThumbprint(jwk);
  return { jwk: spec.jwk.parse({ ...jwk, kid, alg: spec.alg, use: 'sig' }), createdAt: spec.now().toISOString() };
}

/** Loads `DATA_DIR/<dir>/<name>`, creating it with one generated key when there is no file. */
export async function loadOrCreateJwks<J extends PrivateJwk>(spec: JwkListSpec<J>): Promise<LoadedJwks<J>> {
  const kf = jwkListFile(spec);
  const data = await kf.loadOrCreate(async () => ({ version: 1, keys: [await generatedEntry(spec)] }));
  const signingKey = (await importJWK(data.keys[0]!.jwk, spec.alg)) as CryptoKey;
  return { file: kf.file, keys: data.keys, signingKey };
}

/** Too many keys to add another: the operator removes ones nothing depends on any more, by hand. */
export class KeyListFullError extends Error {
  constructor(readonly file: string) {
    super(`${file} already holds ${MAX_KEYS} keys: remove the oldest ones nothing signed with them still depends on, then rotate again.`);
    this.name = 'KeyListFullError';
  }
}

/**
 * Rotation: a new key in front (it signs from the next start), every existing key kept and still published,
 * because what the old keys signed (software statements, evidence packs, webhook retries) is held by others.
 * No file yet: creates it with its first key. Returns the new kid and the published kids, newest first.
 */
export async function rotateJwks<J extends PrivateJwk>(spec: JwkListSpec<J>): Promise<{ file: string; added: string; published: string[] }> {
  const kf = jwkListFile(spec);
  const current = await kf.read();
  if (current === null) {
    const created = await loadOrCreateJwks(spec);
    return { file: kf.file, added: created.keys[0]!.jwk.kid, published: created.keys.map((k) => k.jwk.kid) };
  }
  if (current.keys.length >= MAX_KEYS) throw new KeyListFullError(kf.file);
  const fresh = await generatedEntry(spec);
  const next: JwkList<J> = { version: 1, keys: [fresh, ...current.keys] };
  kf.write(next);
  return { file: kf.file, added: fresh.jwk.kid, published: next.keys.map((k) => k.jwk.kid) };
}

const b64url = z.string().min(1).regex(/^[A-Za-z0-9_-]+$/);

/** A stored P-256 private key for `alg` (the webhook and evidence keys): every member required, nothing else kept. */
export function ecP256Jwk<A extends string>(alg: A) {
  return z.object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    kid: b64url,
    alg: z.literal(alg),
    use: z.literal('sig'),
    x: b64url,
    y: b64url,
    d: b64url,
  });
}

/** A stored RSA private key for `alg` with its CRT members (the directory key). */
export function rsaJwk<A extends string>(alg: A) {
  return z.object({
    kty: z.literal('RSA'),
    kid: b64url,
    alg: z.literal(alg),
    use: z.literal('sig'),
    n: b64url,
    e: b64url,
    d: b64url,
    p: b64url,
    q: b64url,
    dp: b64url,
    dq: b64url,
    qi: b64url,
  });
}

/** Only the listed members, in that order: an allow-list, so that no private member can slip into a JWKS. */
export function publicMembers<J extends PrivateJwk>(jwk: J, members: readonly (keyof J & string)[]): JWK {
  const out: Record<string, unknown> = {};
  for (const m of members) out[m] = jwk[m];
  return out as JWK;
}
