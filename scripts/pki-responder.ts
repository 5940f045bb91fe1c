/**
 * npm run pki:responder [-- --dir DIR] — serves the dev PKI's CRLs, OCSP and CA certificates on loopback.
 * Port: PKI_RESPONDER_PORT, else the port of the responder URL in pki.json.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DEV_PKI_DIR, loadDevPki, startResponder } from '../src/devpki/index.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string', default: DEFAULT_DEV_PKI_DIR } } });
  const dir = path.resolve(values.dir);
  const pki = await loadDevPki(dir).catch((err: unknown) => {
    throw new Error(
      `cannot load the dev PKI from ${dir} (${err instanceof Error ? err.message : String(err)}); run npm run pki:dev first`,
    );
  });
  const manifestUrl = new URL(pki.responderBaseUrl);
  const port = Number(process.env.PKI_RESPONDER_PORT ?? (manifestUrl.port || 80));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid PKI_RESPONDER_PORT: ${port}`);

  const responder = await startResponder({ pki, port });
  console.log(`dev PKI responder listening on ${responder.url} (certificates point at ${pki.responderBaseUrl})`);
  if (responder.port !== Number(manifestUrl.port || 80)) {
    console.warn('warning: this port differs from the one in the certificates; revocation lookups will not reach it');
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    responder.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
