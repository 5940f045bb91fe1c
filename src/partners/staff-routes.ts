/**
 * The risk officers' pages: the review queue, one application with everything the checks found, the
 * decision forms, and the partners list with suspend / reinstate.
 *
 * Reading needs any staff role; each decision's role and four-eyes rules are enforced by the service (the
 * pages only hide forms the reader cannot use). Same POST pattern as the applicant pages: zod, service,
 * 303 + flash; input errors re-render the page with the form's input and errors (400).
 */
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { actorFrom, requireStaff } from '../http/middleware/auth.js';
import { setFlash } from '../http/middleware/session.js';
import { REJECTION_REASONS, SUSPENSION_REASONS } from './reasons.js';
import { body, fieldErrors, inputErrorFrom, noStore, param, sendEvidence } from './routes.js';
import {
  APPLICATION_STATES,
  type ApplicationView,
  type ChangeTargetType,
  type PartnersService,
  REQUESTED_ROLES,
  type RequestedRole,
  RISK_TIERS,
  type StaffRole,
  TRACKS,
} from './types.js';
import {
  STATE_LABELS,
  applicationPage,
  listRows,
  partnerRows,
  formatDate,
  questionnairePage,
  registerView,
  staffActions,
  targetOptions,
  trackText,
} from './view-models.js';
import { policy } from '../ops/policy.js';

/** Rows of the request-changes form and of remediation items on approve-with-conditions. */
export const CHANGE_ROWS = 10;
export const REMEDIATION_ROWS = 5;

const text = (max: number) => z.string({ error: 'Enter text here.' }).max(max, `At most ${max} characters.`);
const optionalText = (max: number) =>
  text(max)
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? null : s.trim()));
const requiredText = (max: number, missing: string) => text(max).trim().min(1, missing);

// --- queue filter ------------------------------------------------------------------------------------

/** Empty select values mean "any"; unknown keys, repeated keys and objects (`state[$ne]=`) are refused. */
const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);
const queueQuerySchema = z.strictObject({
  state: z.preprocess(blankToUndefined, z.enum(APPLICATION_STATES).optional()),
  track: z.preprocess(blankToUndefined, z.enum(TRACKS).optional()),
  riskTier: z.preprocess(blankToUndefined, z.enum(RISK_TIERS).optional()),
  minAgeDays: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d{1,4}$/, 'Enter a whole number of days.')
      .transform(Number)
      .optional(),
  ),
});

// --- decision forms ----------------------------------------------------------------------------------

const TARGET = /^(question|certificate|profile|evidence):([A-Za-z0-9_.-]{1,100})$/;

const requestChangesSchema = z
  .object({
    text: optionalText(4000),
    ...Object.fromEntries(
      Array.from({ length: CHANGE_ROWS }, (_, i) => [
        [`target_${i + 1}`, text(200).optional()],
        [`message_${i + 1}`, text(2000).optional()],
      ]).flat(),
    ),
  })
  .transform((f, ctx) => {
    const raw = f as Record<string, string | null | undefined>;
    const note = raw.text ?? null;
    const items: { target: { type: ChangeTargetType; id: string }; message: string }[] = [];
    for (let i = 1; i <= CHANGE_ROWS; i++) {
      const target = (raw[`target_${i}`] ?? '').trim();
      const message = (raw[`message_${i}`] ?? '').trim();
      if (!target && !message) continue; // empty rows are ignored
      const m = TARGET.exec(target);
      if (!m) {
        ctx.addIssue({ code: 'custom', path: [`target_${i}`], message: 'Choose what this item is about.' });
        continue;
      }
      if (!message) {
        ctx.addIssue({ code: 'custom', path: [`message_${i}`], message: 'Say what the applicant should change.' });
        continue;
      }
      items.push({ target: { type: m[1] as ChangeTargetType, id: m[2]! }, message });
    }
    if (items.length === 0 && ctx.issues.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['items'], message: 'Add at least one item: what to change and why.' });
    }
    return { items, text: note };
  });

const textOnlySchema = z.object({ text: optionalText(4000) });

const roleList = z
  .union([z.enum(REQUESTED_ROLES), z.array(z.enum(REQUESTED_ROLES)).max(REQUESTED_ROLES.length)], { error: 'Choose among the listed roles.' })
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? [...new Set(v)] : [v]));

const conditionsSchema = z
  .object({
    text: optionalText(4000),
    allowedRoles: roleList,
    ...Object.fromEntries(
      Array.from({ length: REMEDIATION_ROWS }, (_, i) => [
        [`remediation_text_${i + 1}`, text(1000).optional()],
        [`remediation_due_${i + 1}`, text(20).optional()],
      ]).flat(),
    ),
  })
  .transform((f, ctx) => {
    const raw = f as Record<string, unknown>;
    const allowedRoles = raw.allowedRoles as RequestedRole[];
    const note = (raw.text as string | null | undefined) ?? null;
    const remediation: { text: string; dueDate: string }[] = [];
    for (let i = 1; i <= REMEDIATION_ROWS; i++) {
      const t = String(raw[`remediation_text_${i}`] ?? '').trim();
      const due = String(raw[`remediation_due_${i}`] ?? '').trim();
      if (!t && !due) continue;
      if (!t) ctx.addIssue({ code: 'custom', path: [`remediation_text_${i}`], message: 'Describe what must be fixed.' });
      if (!/^\d{4}-\d{2}-\d{2}$/.test(due) || Number.isNaN(Date.parse(`${due}T00:00:00Z`))) {
        ctx.addIssue({ code: 'custom', path: [`remediation_due_${i}`], message: 'Give a due date as YYYY-MM-DD.' });
      }
      if (t && due) remediation.push({ text: t, dueDate: due });
    }
    if (allowedRoles.length === 0) ctx.addIssue({ code: 'custom', path: ['allowedRoles'], message: 'Allow at least one role.' });
    return { allowedRoles, remediation, text: note };
  });

const rejectSchema = z.object({
  reasonCode: z.enum(REJECTION_REASONS.map((r) => r.code) as [string, ...string[]], { error: 'Choose a reason.' }),
  text: requiredText(4000, 'Explain the decision to the applicant.'),
});

const suspendSchema = z.object({
  reasonCode: z.enum(SUSPENSION_REASONS.map((r) => r.code) as [string, ...string[]], { error: 'Choose a reason.' }),
  text: requiredText(4000, 'Explain the suspension.'),
});

const reinstateSchema = z.object({ text: requiredText(4000, 'Explain why the partner is reinstated.') });

/** The names of every field a decision form has, so errors land next to the right input. */
const FORM_FIELDS: Record<string, string[]> = {
  'request-changes': ['text', 'items', ...Array.from({ length: CHANGE_ROWS }, (_, i) => [`target_${i + 1}`, `message_${i + 1}`]).flat()],
  approve: ['text'],
  'approve-with-conditions': [
    'text',
    'allowedRoles',
    'remediation',
    ...Array.from({ length: REMEDIATION_ROWS }, (_, i) => [`remediation_text_${i + 1}`, `remediation_due_${i + 1}`]).flat(),
  ],
  'second-approval': ['text'],
  reject: ['reasonCode', 'text'],
  suspend: ['reasonCode', 'text'],
  reinstate: ['text'],
};

/** The raw form kept for re-rendering: strings, and arrays for checkboxes. */
function keptInput(req: Request): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(body(req))) {
    if (k === '_csrf') continue;
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
  }
  return out;
}

export interface FormState {
  name: string;
  values: Record<string, string | string[]>;
  errors: Record<string, string>;
}

export function staffApplicationsRouter(deps: { partners: PartnersService }): Router {
  const { partners } = deps;
  const router = Router();
  const staffOnly = requireStaff('reviewer', 'approver', 'admin');
  const STAFF_PAGE_ROLES = ['reviewer', 'approver', 'admin'];
  router.use(['/staff/applications', '/staff/partners'], staffOnly, noStore);

  // --- queue ---
  router.get('/staff/applications', policy({ auth: 'session:staff', roles: STAFF_PAGE_ROLES, returns: 'the review queue with filters' }), async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const parsed = queueQuerySchema.safeParse(query);
    const values: Record<string, string> = {};
    for (const k of ['state', 'track', 'riskTier', 'minAgeDays']) {
      const v = query[k];
      values[k] = typeof v === 'string' ? v : '';
    }
    const options = {
      states: APPLICATION_STATES.map((s) => ({ value: s, label: STATE_LABELS[s] })),
      tracks: TRACKS.map((t) => ({ value: t, label: trackText(t) })),
      tiers: RISK_TIERS.map((t) => ({ value: t, label: `${t[0]!.toUpperCase()}${t.slice(1)}` })),
    };
    if (!parsed.success) {
      const err = inputErrorFrom('The filter could not be used.', parsed.error);
      res.status(400).render('staff/applications/queue', {
        title: 'Review queue',
        rows: [],
        values,
        options,
        errors: fieldErrors(err, ['state', 'track', 'riskTier', 'minAgeDays']),
        error: { code: err.code, message: err.message },
      });
      return;
    }
    const filter = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
    const items = await partners.queue(actorFrom(req), filter);
    res.render('staff/applications/queue', { title: 'Review queue', rows: listRows(items, 'staff'), values, options, errors: {}, error: null });
  });

  // --- one application ---
  const renderApplication = (req: Request, res: Response, view: ApplicationView, form: FormState | null = null, status = 200) => {
    const actor = actorFrom(req);
    const page = applicationPage(view, 'staff');
    res.status(status).render('staff/applications/show', {
      title: page.name,
      app: page,
      profile: view.profile,
      register: registerView(view.register),
      q: questionnairePage(view, { base: page.base, errors: {}, input: null, staff: true }),
      actions: staffActions(view, { id: actor.id, roles: actor.roles as StaffRole[] }),
      targets: targetOptions(view),
      rejectionReasons: REJECTION_REASONS,
      requestedRoles: view.profile?.requestedRoles ?? [...REQUESTED_ROLES],
      allRoles: REQUESTED_ROLES,
      changeRows: CHANGE_ROWS,
      remediationRows: REMEDIATION_ROWS,
      form,
      formatDate,
    });
  };

  router.get('/staff/applications/:id', policy({ auth: 'session:staff', roles: STAFF_PAGE_ROLES, returns: 'one application for review: profile, certificates, answers, score, decisions' }), async (req, res) => {
    renderApplication(req, res, await partners.getForStaff(actorFrom(req), param(req, 'id')));
  });

  router.get('/staff/applications/:id/evidence/:evidenceId', policy({ auth: 'session:staff', roles: STAFF_PAGE_ROLES, returns: 'an evidence file of the application (download)' }), async (req, res) => {
    const file = await partners.evidenceFile(actorFrom(req), param(req, 'id'), param(req, 'evidenceId'));
    await sendEvidence(res, file);
  });

  router.post('/staff/applications/:id/evidence/:evidenceId/verify', policy({ auth: 'session:staff', roles: STAFF_PAGE_ROLES, returns: 'marks evidence as checked and rescores; redirect' }), async (req, res) => {
    const id = param(req, 'id');
    const evidenceId = param(req, 'evidenceId');
    await partners.verifyEvidence(actorFrom(req), id, evidenceId);
    setFlash(req, 'ok', 'Evidence marked as checked; the score was recomputed.');
    res.redirect(303, `/staff/applications/${id}#evidence-${evidenceId}`);
  });

  /** One decision route: parse, call, redirect; input errors re-render the page with this form filled. */
  function decision<S extends z.ZodType>(
    name: string,
    schema: S,
    act: (actor: ReturnType<typeof actorFrom>, id: string, input: z.output<S>) => Promise<ApplicationView>,
    flash: (view: ApplicationView) => string,
  ) {
    router.post(`/staff/applications/:id/${name}`, policy({ auth: 'session:staff', roles: STAFF_PAGE_ROLES, returns: `the ${name} decision on an application; redirect (the service checks the officer's role)` }), async (req, res) => {
      const id = param(req, 'id');
      const actor = actorFrom(req);
      let view: ApplicationView;
      try {
        const parsed = schema.safeParse(body(req));
        if (!parsed.success) throw inputErrorFrom('Some fields need your attention.', parsed.error);
        view = await act(actor, id, parsed.data);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        const current = await partners.getForStaff(actor, id);
        const errors = fieldErrors(err, FORM_FIELDS[name] ?? []);
        if (errors._form === undefined && Object.keys(errors).length === 0) errors._form = err.message;
        renderApplication(req, res, current, { name, values: keptInput(req), errors }, 400);
        return;
      }
      setFlash(req, 'ok', flash(view));
      res.redirect(303, `/staff/applications/${id}`);
    });
  }

  decision('review', z.object({}), (a, id) => partners.startReview(a, id), () => 'Review started: you are the reviewer.');
  decision('request-changes', requestChangesSchema, (a, id, input) => partners.requestChanges(a, id, input), () => 'Changes requested: the applicant has been asked.');
  decision('approve', textOnlySchema, (a, id, input) => partners.approve(a, id, input), (v) =>
    v.state === 'awaiting_second_approval' ? 'Approved: a second approver must now confirm.' : 'Application approved.',
  );
  decision('approve-with-conditions', conditionsSchema, (a, id, input) => partners.approveWithConditions(a, id, input), (v) =>
    v.state === 'awaiting_second_approval' ? 'Approved with conditions: a second approver must now confirm.' : 'Application approved with conditions.',
  );
  decision('second-approval', textOnlySchema, (a, id, input) => partners.secondApprove(a, id, input), (v) =>
    v.state === 'conditionally_approved' ? 'Second approval given: approved with conditions.' : 'Second approval given: application approved.',
  );
  decision('reject', rejectSchema, (a, id, input) => partners.reject(a, id, input), () => 'Application rejected.');

  // --- partners ---
  const renderPartners = async (req: Request, res: Response, form: (FormState & { partnerId: string }) | null = null, status = 200) => {
    const actor = actorFrom(req);
    const list = await partners.listPartners(actor);
    const canAct = actor.roles.includes('approver');
    res.status(status).render('staff/partners/list', {
      title: 'Partners',
      partners: partnerRows(list),
      canAct,
      suspensionReasons: SUSPENSION_REASONS,
      form,
    });
  };

  router.get('/staff/partners', policy({ auth: 'session:staff', roles: STAFF_PAGE_ROLES, returns: 'partners with status, roles and actions' }), async (req, res) => {
    await renderPartners(req, res);
  });

  function partnerAction<S extends z.ZodType>(
    name: string,
    schema: S,
    act: (actor: ReturnType<typeof actorFrom>, id: string, input: z.output<S>) => Promise<unknown>,
    flash: string,
  ) {
    router.post(`/staff/partners/:id/${name}`, policy({ auth: 'session:staff', roles: STAFF_PAGE_ROLES, returns: `${name}s a partner; redirect (approvers only, checked by the service)` }), async (req, res) => {
      const id = param(req, 'id');
      try {
        const parsed = schema.safeParse(body(req));
        if (!parsed.success) throw inputErrorFrom('Some fields need your attention.', parsed.error);
        await act(actorFrom(req), id, parsed.data);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        const errors = fieldErrors(err, FORM_FIELDS[name] ?? []);
        await renderPartners(req, res, { name, partnerId: id, values: keptInput(req), errors }, 400);
        return;
      }
      setFlash(req, 'ok', flash);
      res.redirect(303, `/staff/partners#partner-${id}`);
    });
  }

  partnerAction('suspend', suspendSchema, (a, id, input) => partners.suspendPartner(a, id, input), 'Partner suspended: its clients stop working.');
  partnerAction('reinstate', reinstateSchema, (a, id, input) => partners.reinstatePartner(a, id, input), 'Partner reinstated.');

  return router;
}
