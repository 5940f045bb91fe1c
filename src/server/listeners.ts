/**
 * The HTTPS listeners. The public one serves pages; the mutual-TLS one asks every client for a
 * certificate but lets the handshake succeed without one (`rejectUnauthorized: false`): whether a
 * certificate is acceptable is decided by the application from the eIDAS report, not by the TLS stack.
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

export function readTlsMaterial(files: { certFile: string; keyFile: string }): TlsMaterial {
  return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
}

const HARDENING: https.ServerOptions = {
  minVersion: 'TLSv1.2',
  sessionTimeout: 300,
  headersTimeout: 20_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  maxHeaderSize: 16 * 1024,
};

export function createPublicServer(tls: TlsMaterial, app: RequestListener): https.Server {
  return https.createServer({ ...HARDENING, cert: tls.cert, key: tls.key }, app);
}

export function createMtlsServer(tls: TlsMaterial, app: RequestListener): https.Server {
  return https.createServer(
    {
      ...HARDENING,
      cert: tls.cert,
      key: tls.key,
      requestCert: true,
      rejectUnauthorized: false,
      // No session tickets: every connection presents its certificate in a full handshake.
      secureOptions: constants.SSL_OP_NO_TICKET | constants.SSL_OP_NO_RENEGOTIATION,
    },
    app,
  );
}

export function listen(server: https.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function close(server: https.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
