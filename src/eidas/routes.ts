/**
 * eIDAS routes on the mutual-TLS listener. `GET /mtls/certificate` validates the certificate the client
 * presented in the handshake as a QWAC and returns the report: a partner can check its setup before
 * registering a client. It grants nothing.
 */
import { Router } from 'express';
import { AppError } from '../errors.js';
import { presentedCertificates, toPemBundle } from '../http/middleware/client-cert.js';
import type { EidasService } from './service.js';
import { policy } from '../ops/policy.js';

export function mtlsCertificateRouter(eidas: EidasService): Router {
  const router = Router();
  router.get('/mtls/certificate', policy({ auth: 'none', binding: 'none: reads the client certificate of the TLS handshake', returns: 'the eIDAS validation report of the presented client certificate, as a QWAC; grants nothing' }), async (req, res) => {
    const ders = presentedCertificates(req);
    if (ders.length === 0) {
      throw new AppError('certificate.missing', 401, 'No client certificate was presented in the TLS handshake.');
    }
    const report = await eidas.validate(toPemBundle(ders), { expect: 'qwac' });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ report });
  });
  return router;
}
