/**
 * The officers' monitor page: recent passes, what they did, open alerts, review tasks, and partners the system
 * suspended with the four-eyes reinstatement (one officer proposes, a different approver approves).
 *
 * Reading needs a staff role (reviewer or more); each action's role and four-eyes rules are enforced by the
 * service. Same POST pattern as the other staff pages: zod, service, 303 + flash; input errors re-render the
 * page with the form's input and errors (400); other refusals go to the error page with their code.
 */
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { actorFrom, requireStaff } from '../http/middleware/auth.js';
import { setFlash } from '../http/middleware/session.js';
import { body, fieldErrors, inputErrorFrom, noStore, param } from '../partners/routes.js';
import type { PartnersService } from '../partners/types.js';
import type { MonitorService } from './types.js';
import { monitorPage } from './view-models.js';
import { policy } from '../ops/policy.js';

const TEXT_MAX = 2000;
const textSchema = z.object({
  text: z.string({ error: 'Enter a text.' }).trim().min(1, 'Enter a text.').max(TEXT_MAX, `At most ${TEXT_MAX} characters.`),
});

const FORMS = {
  propose: { flash: 'Reinstatement proposed: a different approver must now approve it.' },
  approve: { flash: 'Reinstatement approved: the partner is active again.' },
  decline: { flash: 'Reinstatement declined.' },
  resolve: { flash: 'Task marked as reviewed.' },
} as const;
type FormName = keyof typeof FORMS;

export interface MonitorFormState {
  name: FormName;
  /** The partner, proposal or task the form belongs to. */
  target: string;
  values: Record<string, string>;
  errors: Record<string, string>;
}

export function monitorRouter(deps: { monitor: MonitorService; partners: Pick<PartnersService, 'listPartners'> }): Router {
  const { monitor, partners } = deps;
  const router = Router();
  router.use('/staff/monitor', requireStaff('reviewer', 'approver', 'admin'), noStore);

  const render = async (req: Request, res: Response, form: MonitorFormState | null = null, status = 200) => {
    const actor = actorFrom(req);
    const [overview, list] = await Promise.all([monitor.overview(actor), partners.listPartners(actor)]);
    res.status(status).render('staff/monitor', {
      title: 'Lifecycle monitor',
      page: monitorPage(overview),
      applications: Object.fromEntries(list.map((p) => [p.id, p.applicationId])),
      me: actor.id,
      canPropose: actor.roles.includes('reviewer') || actor.roles.includes('approver'),
      canApprove: actor.roles.includes('approver'),
      form,
    });
  };

  router.get('/staff/monitor', policy({ auth: 'session:staff', roles: ['reviewer', 'approver', 'admin'], returns: "the monitor's runs, actions, open alerts, tasks and reinstatement proposals" }), async (req, res) => {
    await render(req, res);
  });

  function post(path: string, name: FormName, act: (actor: ReturnType<typeof actorFrom>, id: string, text: string) => Promise<unknown>, anchor: (id: string) => string) {
    router.post(path, policy({ auth: 'session:staff', roles: ['reviewer', 'approver', 'admin'], returns: `${name}: ${FORMS[name].flash.replace(/\.$/, '')}; redirect (four eyes checked by the service)` }), async (req, res) => {
      const id = param(req, 'id');
      try {
        const parsed = textSchema.safeParse(body(req));
        if (!parsed.success) throw inputErrorFrom('Some fields need your attention.', parsed.error);
        await act(actorFrom(req), id, parsed.data.text);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        const raw = body(req).text;
        await render(req, res, { name, target: id, values: { text: typeof raw === 'string' ? raw : '' }, errors: fieldErrors(err, ['text']) }, 400);
        return;
      }
      setFlash(req, 'ok', FORMS[name].flash);
      res.redirect(303, `/staff/monitor#${anchor(id)}`);
    });
  }

  post('/staff/monitor/partners/:id/propose', 'propose', (a, id, text) => monitor.proposeReinstatement(a, id, { text }), (id) => `suspended-${id}`);
  post('/staff/monitor/proposals/:id/approve', 'approve', (a, id, text) => monitor.approveReinstatement(a, id, { text }), () => 'suspended');
  post('/staff/monitor/proposals/:id/decline', 'decline', (a, id, text) => monitor.declineReinstatement(a, id, { text }), () => 'suspended');
  post('/staff/monitor/tasks/:id/resolve', 'resolve', (a, id, text) => monitor.resolveTask(a, id, { text }), (id) => `task-${id}`);

  return router;
}
