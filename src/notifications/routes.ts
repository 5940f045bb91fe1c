/**
 * The notifications area's routes: the partner's webhook page (register or remove its URL, see the delivery
 * history) and the public keys that verify webhook signatures.
 *
 * Thin, and shaped like the software page (src/registration/routes.ts): applicant only, the application
 * loaded through `partners.getForApplicant` (another applicant's application is "not found", exactly as on
 * the partners pages), CSRF by the global check, input errors re-rendered next to the field with the input
 * kept, refusals that do not depend on the input (409) re-rendered with the reason.
 */
import { type Request, type Response, Router } from 'express';
import { AppError, InputError, NotFoundError } from '../errors.js';
import { actorFrom, requireApplicant, requireStaff } from '../http/middleware/auth.js';
import { setFlash } from '../http/middleware/session.js';
import { body, fieldErrors, noStore, param } from '../partners/routes.js';
import type { PartnersService } from '../partners/types.js';
import { fieldAnchor, formatDate, partnerBadge, stateBadge } from '../partners/view-models.js';
import type { WebhookKeys } from './keys.js';
import { NOTIFICATION_LIMITS, WEBHOOK_FIELDS, type NotificationsService } from './service.js';
import type { DeliveryStatus, DeliveryView } from './types.js';
import { policy } from '../ops/policy.js';

export const WEBHOOK_JWKS_PATH = '/notifications/jwks.json';

/** `GET /notifications/jwks.json`: the public keys that verify `X-Portal-Signature` (public listener). */
export function webhookKeysRouter(keys: Pick<WebhookKeys, 'publicJwks'>): Router {
  const router = Router();
  router.get(WEBHOOK_JWKS_PATH, policy({ auth: 'none', returns: 'the public keys that verify webhook signatures (JWK Set)' }), (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.setHeader('Content-Type', 'application/jwk-set+json');
    // A Buffer, so that Express adds no charset parameter to the JWK Set media type.
    res.send(Buffer.from(JSON.stringify(keys.publicJwks())));
  });
  return router;
}

const STATUS_BADGE: Record<DeliveryStatus, { cls: string; text: string }> = {
  pending: { cls: 'badge badge-info', text: 'Pending' },
  failed: { cls: 'badge badge-warning', text: 'Retrying' },
  delivered: { cls: 'badge badge-pass', text: 'Delivered' },
  dead: { cls: 'badge badge-fail', text: 'Given up' },
};

function deliveryRows(list: DeliveryView[]) {
  return list.map((d) => ({
    id: d.id,
    event: d.event,
    channel: d.channel === 'webhook' ? 'Webhook' : 'E-mail',
    target: d.target,
    badge: STATUS_BADGE[d.status],
    status: d.status,
    attempts: d.attempts,
    lastError: d.lastError,
    lastStatus: d.lastStatus,
    excerpt: d.responseExcerpt,
    createdAt: formatDate(d.createdAt),
    lastAttemptAt: d.lastAttemptAt ? formatDate(d.lastAttemptAt) : null,
    nextAttemptAt: d.status === 'pending' || d.status === 'failed' ? formatDate(d.nextAttemptAt) : null,
    deliveredAt: d.deliveredAt ? formatDate(d.deliveredAt) : null,
  }));
}

export function webhooksRouter(deps: {
  notifications: Pick<NotificationsService, 'overview' | 'registerWebhook' | 'removeWebhook' | 'sendTestEvent'>;
  partners: Pick<PartnersService, 'getForApplicant'>;
  jwksPath?: string;
}): Router {
  const { notifications, partners } = deps;
  const jwksPath = deps.jwksPath ?? WEBHOOK_JWKS_PATH;
  const router = Router();
  router.use('/applications/:id/webhooks', requireApplicant, noStore);

  const render = async (
    req: Request,
    res: Response,
    id: string,
    opts: { form?: { url: string }; errors?: Record<string, string>; error?: { code: string; message: string } | null; status?: number } = {},
  ) => {
    const view = await partners.getForApplicant(actorFrom(req), id);
    const base = `/applications/${view.id}`;
    const app = { id: view.id, base, name: view.profile?.legalName || view.partner?.legalName || 'Application', state: view.state, badge: stateBadge(view.state) };
    let overview: Awaited<ReturnType<NotificationsService['overview']>> | null = null;
    let refusal: { code: string; message: string } | null = null;
    try {
      overview = await notifications.overview(view);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      refusal = { code: err.code, message: err.message };
    }
    res.status(opts.status ?? 200).render('notifications/webhooks', {
      title: 'Webhooks and notifications',
      app,
      refusal,
      partner: overview ? { badge: partnerBadge(overview.partner.status), id: overview.partner.id } : null,
      endpoint: overview?.endpoint
        ? { ...overview.endpoint, createdAt: formatDate(overview.endpoint.createdAt), remove: `${base}/webhooks/${encodeURIComponent(overview.endpoint.id)}/remove` }
        : null,
      deliveries: overview ? deliveryRows(overview.deliveries) : [],
      historyShown: NOTIFICATION_LIMITS.historyShown,
      form: opts.form ?? { url: '' },
      errors: opts.errors ?? {},
      error: opts.error ?? null,
      anchor: fieldAnchor,
      limits: NOTIFICATION_LIMITS,
      jwksPath,
    });
  };

  router.get('/applications/:id/webhooks', policy({ auth: 'session:applicant', returns: "the partner's webhook endpoints and their delivery history" }), async (req, res) => {
    await render(req, res, param(req, 'id'));
  });

  router.post('/applications/:id/webhooks', policy({ auth: 'session:applicant', returns: 'registers a webhook URL; redirect (or the form with its errors)' }), async (req, res) => {
    const id = param(req, 'id');
    const raw = body(req).url;
    const form = { url: typeof raw === 'string' ? raw : '' };
    const view = await partners.getForApplicant(actorFrom(req), id);
    try {
      const e = await notifications.registerWebhook(actorFrom(req), view, form);
      setFlash(req, 'ok', `Webhook URL registered: ${e.url}. Every event from now on is signed and sent there.`);
      res.redirect(303, `/applications/${id}/webhooks`);
    } catch (err) {
      if (err instanceof InputError) {
        await render(req, res, id, { form, errors: fieldErrors(err, WEBHOOK_FIELDS), status: 400 });
        return;
      }
      if (err instanceof AppError && err.status === 409) {
        await render(req, res, id, { form, error: { code: err.code, message: err.message }, status: 409 });
        return;
      }
      throw err;
    }
  });

  router.post('/applications/:id/webhooks/test', policy({ auth: 'session:applicant', returns: 'queues a signed webhook.test event to the registered URL (one a minute); redirect' }), async (req, res) => {
    const id = param(req, 'id');
    const view = await partners.getForApplicant(actorFrom(req), id);
    try {
      const e = await notifications.sendTestEvent(actorFrom(req), view);
      setFlash(req, 'ok', `Test event queued for ${e.url}: its delivery appears in the history below.`);
    } catch (err) {
      if (!(err instanceof AppError) || (err.status !== 409 && err.status !== 429)) throw err;
      await render(req, res, id, { error: { code: err.code, message: err.message }, status: err.status });
      return;
    }
    res.redirect(303, `/applications/${id}/webhooks`);
  });

  router.post('/applications/:id/webhooks/:endpointId/remove', policy({ auth: 'session:applicant', returns: 'removes a webhook endpoint; redirect' }), async (req, res) => {
    const id = param(req, 'id');
    const view = await partners.getForApplicant(actorFrom(req), id);
    try {
      const e = await notifications.removeWebhook(actorFrom(req), view, param(req, 'endpointId'));
      setFlash(req, 'ok', `Webhook URL removed: ${e.url}. Deliveries still queued for it are dropped.`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      await render(req, res, id, { error: { code: err.code, message: err.message }, status: 409 });
      return;
    }
    res.redirect(303, `/applications/${id}/webhooks`);
  });

  return router;
}

/**
 * `GET /staff/partners/:id/notifications`: the partner's deliveries (webhooks and e-mail) for officers, read
 * only, the same rows the partner sees. Unknown partner: 404.
 */
export function staffDeliveriesRouter(deps: {
  notifications: Pick<NotificationsService, 'deliveriesForPartner'>;
  partners: Pick<PartnersService, 'getPartner'>;
}): Router {
  const router = Router();
  router.get(
    '/staff/partners/:id/notifications',
    policy({ auth: 'session:staff', roles: ['reviewer', 'approver', 'admin'], returns: "a partner's webhook and e-mail deliveries: event, target, status, attempts, last error" }),
    requireStaff('reviewer', 'approver', 'admin'),
    noStore,
    async (req, res) => {
      const partner = await deps.partners.getPartner(param(req, 'id'));
      if (!partner) throw new NotFoundError('No such partner.');
      res.render('staff/partners/notifications', {
        title: `Notifications to ${partner.legalName}`,
        partner: { id: partner.id, status: partner.status },
        deliveries: deliveryRows(await deps.notifications.deliveriesForPartner(partner.id)),
        historyShown: NOTIFICATION_LIMITS.historyShown,
      });
    },
  );
  return router;
}
