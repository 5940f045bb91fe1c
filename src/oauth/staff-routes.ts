/**
 * Officers see what each partner registered: `GET /staff/partners/:id/clients` lists its OAuth clients
 * (software, authentication, scopes, redirect URIs, pinned CA keys). Read only; suspension is on the partners page.
 */
import { Router } from 'express';
import { requireStaff } from '../http/middleware/auth.js';
import { NotFoundError } from '../errors.js';
import type { PartnersService } from '../partners/types.js';
import type { OAuthService } from './service.js';
import { policy } from '../ops/policy.js';

export function staffClientsRouter(deps: { oauth: Pick<OAuthService, 'clientsOfPartner'>; partners: Pick<PartnersService, 'getPartner'> }): Router {
  const router = Router();
  router.get('/staff/partners/:id/clients', policy({ auth: 'session:staff', roles: ['reviewer', 'approver', 'admin'], returns: "a partner's OAuth clients: software, authentication, scopes, redirect URIs, pinned CA keys" }), requireStaff('reviewer', 'approver', 'admin'), async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const partner = await deps.partners.getPartner(String(req.params.id ?? ''));
    if (!partner) throw new NotFoundError('No such partner.');
    const clients = await deps.oauth.clientsOfPartner(partner.id);
    res.render('staff/partners/clients', {
      title: `OAuth clients of ${partner.legalName}`,
      partner: { id: partner.id, legalName: partner.legalName, status: partner.status, orgId: partner.organizationIdentifier ?? '—' },
      clients: clients.map((c) => ({
        clientId: c.clientId,
        name: c.clientName ?? '—',
        softwareId: c.softwareId ?? '—',
        authMethod: c.tokenEndpointAuthMethod,
        scope: c.scope || '—',
        redirectUris: c.redirectUris,
        issuerKeys: c.issuerKeys,
        createdAt: c.createdAt ? c.createdAt.replace('T', ' ').slice(0, 16) + ' UTC' : '—',
      })),
    });
  });
  return router;
}
