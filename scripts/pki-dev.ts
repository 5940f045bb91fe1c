/**
 * npm run pki:dev [-- --out DIR] [-- --force] — generates the dev PKI (see certs/README.md).
 * The responder URL written into the certificates comes from PKI_RESPONDER_URL (default
 * http://127.0.0.1:8089); `npm run pki:responder` serves it.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DEV_PKI_DIR, DEFAULT_RESPONDER_URL, generateDevPki, writeDevPki } from '../src/devpki/index.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: DEFAULT_DEV_PKI_DIR },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npm run pki:dev -- [--out DIR] [--force]\n  env PKI_RESPONDER_URL (default http://127.0.0.1:8089)');
    return 0;
  }
  const dir = path.resolve(values.out);
  if (existsSync(dir)) {
    if (!values.force) {
      console.error(`${dir} already exists; not overwriting the dev PKI. Use --force to replace it (all keys change).`);
      return 1;
    }
    // Only ever delete something that is a dev PKI (or empty): --out may point anywhere.
    if (!existsSync(path.join(dir, 'pki.json')) && (await readdir(dir)).length > 0) {
      console.error(`${dir} is not empty and holds no pki.json; refusing to delete it.`);
      return 1;
    }
    await rm(dir, { recursive: true, force: true });
  }
  const responderBaseUrl = process.env.PKI_RESPONDER_URL ?? DEFAULT_RESPONDER_URL;
  let parsed: URL;
  try {
    parsed = new URL(responderBaseUrl);
  } catch {
    console.error(`PKI_RESPONDER_URL is not a URL: ${responderBaseUrl}`);
    return 1;
  }
  if (parsed.protocol !== 'http:') {
    console.error('PKI_RESPONDER_URL must be an http:// URL (CRL and OCSP are served over plain HTTP, RFC 5280 §4.2.1.13)');
    return 1;
  }
  const started = Date.now();
  const pki = await generateDevPki({ responderBaseUrl });
  await writeDevPki(pki, dir);
  console.log(
    `dev PKI written to ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
      `4 CAs, server certificate, ${pki.partners.length} partners, ${pki.bad.length} bad certificates.`,
  );
  console.log(`CRL/OCSP URLs point at ${pki.responderBaseUrl}; serve them with: npm run pki:responder`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
