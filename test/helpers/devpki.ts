/**
 * A dev PKI generated at test time with its OCSP/CRL responder on an ephemeral loopback port, and the
 * sandbox trust profile read from its trusted list, as `npm start` would use them.
 */
import { generateDevPki, type DevPki } from '../../src/devpki/generate.js';
import type { KeyAlgorithm } from '../../src/devpki/builder.js';
import { startResponder } from '../../src/devpki/responder.js';
import { parseTrustedList, type TrustProfile } from '../../src/eidas/trust/index.js';

export type Responder = Awaited<ReturnType<typeof startResponder>>;

/** A free loopback port: certificates carry the responder URL, so it must be known before issuing. */
export { freePort } from '../../src/demo/throwaway.js';
import { freePort } from '../../src/demo/throwaway.js';

export async function devPkiWithResponder(opts: { keyAlgorithm?: KeyAlgorithm } = {}): Promise<{
  pki: DevPki;
  responder: Responder;
  trust: TrustProfile;
}> {
  const port = await freePort();
  const pki = await generateDevPki({
    responderBaseUrl: `http://127.0.0.1:${port}`,
    keyAlgorithm: opts.keyAlgorithm ?? 'EC-P256',
  });
  const responder = await startResponder({ pki, port });
  return { pki, responder, trust: sandboxTrust(pki) };
}

export function sandboxTrust(pki: DevPki): TrustProfile {
  const tl = parseTrustedList(pki.trustedListXml, { at: pki.generatedAt });
  return { name: 'sandbox', anchors: tl.anchors.filter((a) => a.status === 'granted'), sources: ['dev trusted list'] };
}
