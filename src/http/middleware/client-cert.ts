/**
 * The client certificate of a mutual-TLS request, from the TLS socket only. (Reading it from a proxy
 * header is a separate, opt-in source for configured proxy addresses; it is not enabled here.)
 */
import type { TLSSocket } from 'node:tls';
import type { Request } from 'express';
import { x509 } from '../../eidas/x509.js';

/** DER certificates the client presented, its own first, then the chain it sent; [] when none. */
export function presentedCertificates(req: Request): Uint8Array[] {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return [];
  const peer = socket.getPeerCertificate(true);
  if (!peer?.raw) return [];
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  let current: typeof peer | undefined = peer;
  // The issuer links form a chain that ends on a self-reference; the bound guards against odd stacks.
  while (current?.raw && out.length < 10) {
    const fp = current.fingerprint256;
    if (seen.has(fp)) break;
    seen.add(fp);
    out.push(new Uint8Array(current.raw));
    current = current.issuerCertificate;
  }
  return out;
}

export function toPemBundle(ders: Uint8Array[]): string {
  return x509.PemConverter.encode(ders, 'CERTIFICATE');
}
