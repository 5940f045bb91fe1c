/**
 * npm run --silent evidence:verify -- FILE [--jwks URL_OR_FILE] [--json]
 *
 * Checks an evidence pack offline: the signature over the manifest, every part against the manifest, the
 * evidence files against their upload hashes, and the audit events' hash chain recomputed (see
 * docs/evidence.md for what a partial chain proves). With --jwks the signing key must be in that JWK Set (the
 * bank's /evidence/jwks.json, saved or fetched): without it the pack proves integrity, not who signed it.
 * Exit 0 valid, 1 invalid (the failed check is named), 2 usage error or unreadable input.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { MAX_PACK_BYTES, tooLarge, verifyPack, type PackVerification } from '../src/evidence/verify.js';

const USAGE = `Usage: npm run --silent evidence:verify -- FILE [--jwks URL_OR_FILE] [--json]

Verifies an evidence pack offline.
  --jwks URL_OR_FILE  the bank's evidence JWK Set to pin the signing key (a saved /evidence/jwks.json, or its
                      https URL; http only on loopback)
  --json              print the result as JSON

Exit status: 0 valid, 1 invalid (the failed check is named), 2 usage error or unreadable input.`;

const MAX_JWKS_BYTES = 1024 * 1024;

class UsageError extends Error {}

function jwksFrom(json: unknown, where: string): { keys: JWK[] } {
  const keys = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.some((k) => !k || typeof k !== 'object')) throw new UsageError(`${where} is not a JWK Set`);
  return { keys: keys as JWK[] };
}

async function loadJwks(src: string): Promise<{ keys: JWK[] }> {
  if (/^https?:\/\//i.test(src)) {
    let url: URL;
    try {
      url = new URL(src);
    } catch {
      throw new UsageError(`--jwks: ${src} is not a URL`);
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (url.protocol !== 'https:' && !loopback) throw new UsageError('--jwks: use https (http only on loopback)');
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
    } catch (err) {
      throw new UsageError(`--jwks: ${src} could not be fetched (${(err as Error).message})`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    if (!res.ok) throw new UsageError(`--jwks: ${src} answered ${res.status}`);
    if (body.length > MAX_JWKS_BYTES) throw new UsageError(`--jwks: ${src} is larger than ${MAX_JWKS_BYTES} bytes`);
    try {
      return jwksFrom(JSON.parse(body.toString('utf8')), src);
    } catch (err) {
      throw err instanceof UsageError ? err : new UsageError(`--jwks: ${src} is not JSON`);
    }
  }
  let text: string;
  try {
    if (statSync(src).size > MAX_JWKS_BYTES) throw new UsageError(`--jwks: ${src} is larger than ${MAX_JWKS_BYTES} bytes`);
    text = readFileSync(src, 'utf8');
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError(`--jwks: cannot read ${src}`);
  }
  try {
    return jwksFrom(JSON.parse(text), src);
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError(`--jwks: ${src} is not JSON`);
  }
}

function print(result: PackVerification, file: string): void {
  for (const c of result.checks) {
    const mark = c.status === 'pass' ? 'ok  ' : c.status === 'fail' ? 'FAIL' : 'skip';
    process.stdout.write(`${mark}  ${c.id.padEnd(15)} ${c.detail}\n`);
  }
  if (result.ok) {
    const m = result.manifest!;
    const pinned = result.checks.find((c) => c.id === 'key-pinned')!.status === 'pass';
    process.stdout.write(`VALID: ${file}: pack ${m.packId} of ${m.subject.legalName}${pinned ? '' : ' (key not pinned: give --jwks to prove who signed)'}\n`);
  } else {
    const c = result.checks.find((x) => x.id === result.failed)!;
    process.stdout.write(`INVALID: ${file}: check ${c.id} failed: ${c.detail}\n`);
  }
}

async function run(argv: string[]): Promise<number> {
  let values: { jwks?: string; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { jwks: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError('give exactly one pack file');
  const file = positionals[0];
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
  const jwks = values.jwks ? await loadJwks(values.jwks) : undefined;
  // Too large to be a pack: refused as invalid without reading it into memory.
  const result = size > MAX_PACK_BYTES ? tooLarge(size) : await verifyPack(readFileSync(file), jwks ? { jwks } : {});
  if (values.json) process.stdout.write(`${JSON.stringify({ file, ok: result.ok, failed: result.failed, checks: result.checks })}\n`);
  else print(result, file);
  return result.ok ? 0 : 1;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`evidence:verify: ${err.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`evidence:verify: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
