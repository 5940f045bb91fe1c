/**
 * The bank's APIs on the mutual-TLS listener, each behind `requireBoundToken`. For now one: a partner's server
 * can see what the bank knows of its connection (client, organisation, scopes, the certificate the token is
 * bound to). The account, balance, transaction and payment APIs come with customer consent.
 */
import { Router, type RequestHandler } from 'express';
import { boundToken } from '../oauth/guard.js';
import type { PartnersService } from '../partners/types.js';

export function bankingRouter(deps: {
  requireBoundToken: (opts?: { scopes?: readonly string[] }) => RequestHandler;
  partners: Pick<PartnersService, 'getPartner'>;
}): Router {
  const router = Router();
  router.get('/api/v1/connection', deps.requireBoundToken(), (_req, res) => {
    const t = boundToken(res);
    const partner = t.partner;
    res.set('Cache-Control', 'no-store').json({
      client_id: t.clientId,
      org_id: t.orgId,
      partner: partner ? { name: partner.legalName, status: partner.status, allowed_roles: partner.allowedRoles } : null,
      scope: t.scopes.join(' '),
      token_format: t.format,
      certificate_thumbprint: t.thumbprint,
    });
  });
  return router;
}
