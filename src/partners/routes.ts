/**
 * The applicant's pages: list and start applications, the overview with its timeline, the organisation
 * profile, certificates, the questionnaire with evidence, and the submit / change-request / withdraw steps.
 *
 * Every POST: zod at the edge, then the service (which checks ownership, state and everything else again),
 * then 303 with a flash. Input errors re-render the same form with the user's input; other errors go to the
 * error handler. Uploads: multer (memory, bounded) first, then the CSRF check, then the service.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { AppError, InputError, NotFoundError } from '../errors.js';
import { NCA_TABLE } from '../eidas/data/nca.js';
import { ISO_3166_ALPHA2 } from '../eidas/data/countries.js';
import { actorFrom, requireApplicant } from '../http/middleware/auth.js';
import { requireCsrf } from '../http/middleware/csrf.js';
import { setFlash } from '../http/middleware/session.js';
import { CertificateUnreadableError, RenewalRefusedError, uploadTooLarge } from './errors.js';
import { CERTIFICATE_MAX_BYTES, EVIDENCE_MAX_BYTES } from './uploads.js';
import { CONTACT_KINDS, PROFILE_KEYS } from './profile.js';
import type { ApplicationView, CertificateKind, OrganisationProfile, PartnersService } from './types.js';
import { REQUESTED_ROLES, TRACKS } from './types.js';
import {
  applicantActions,
  applicationPage,
  certificateView,
  type CertificateReportView,
  consistencyViews,
  evidenceViews,
  fieldAnchor,
  listRows,
  questionnairePage,
  registerView,
  reportView,
} from './view-models.js';
import { policy } from '../ops/policy.js';

// --- shared edge helpers (also used by the staff pages) -------------------------------------------


/** One file in field `file` (and a few text fields), kept in memory; multer errors become AppErrors. */
export function singleUpload(limit: number): RequestHandler {
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: limit, files: 1, fields: 20 } }).single('file');
  return (req, res, next) => {
    upload(req, res, (err: unknown) => {
      if (!err) return next();
      if (err instanceof multer.MulterError) {
        if (err.code === 'LIMIT_FILE_SIZE') {
          return next(uploadTooLarge(limit));
        }
        return next(new InputError('The upload could not be read: send one file in the field "file".', [{ path: 'file', message: err.message }], { cause: err }));
      }
      next(new InputError('The upload could not be read.', [], { cause: err }));
    });
  };
}

/** Route parameters are ids: anything else cannot exist, so it is "not found" (no existence leak either way). */
const idParam = z.string().min(1).max(100).regex(/^[A-Za-z0-9_.-]+$/);
export function param(req: Request, name: string): string {
  const r = idParam.safeParse(req.params[name]);
  if (!r.success) throw new NotFoundError();
  return r.data;
}

/** A urlencoded body as an object of strings / string arrays (the global parser has run). */
export function body(req: Request): Record<string, unknown> {
  const b: unknown = req.body;
  return b && typeof b === 'object' ? (b as Record<string, unknown>) : {};
}

/** zod issues → the InputError field list the pages print next to each field. */
export function inputErrorFrom(message: string, error: z.ZodError): InputError {
  return new InputError(
    message,
    error.issues.map((i) => ({ path: i.path.map(String).join('.') || '_form', message: i.message })),
  );
}

/** Field path → message, matched to the closest known form field (`redirectUris.2` → `redirectUris`). */
export function fieldErrors(err: InputError, known: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of err.fields) {
    const hit = known
      .filter((k) => f.path === k || f.path.startsWith(`${k}.`))
      .sort((a, b) => b.length - a.length)[0];
    const key = hit ?? '_form';
    out[key] = out[key] ? `${out[key]} ${f.message}` : f.message;
  }
  return out;
}

export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  next();
}

/**
 * Streams a recorded evidence file as a download: never rendered inline, never sniffed. The file is opened
 * before any header is set, so a missing file is a clean 404 page rather than a broken download.
 */
export async function sendEvidence(res: Response, file: { path: string; fileName: string; mediaType: string; size: number }): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(file.path, 'r');
  } catch (err) {
    throw new NotFoundError('The file is no longer available.', { detail: String(err), cause: err });
  }
  res.attachment(file.fileName);
  // After attachment(): it guesses the type from the name; the recorded (content-checked) type wins.
  res.setHeader('Content-Type', file.mediaType);
  res.setHeader('Content-Length', String(file.size));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
  res.setHeader('Cache-Control', 'no-store');
  const stream = handle.createReadStream();
  stream.on('error', (err) => res.destroy(err));
  stream.pipe(res);
}

const optionalText = (max: number) =>
  z
    .string()
    .max(max, `At most ${max} characters.`)
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? null : s.trim()));

// --- profile form ----------------------------------------------------------------------------------

const CONTACT_PARTS = ['name', 'email', 'phone'] as const;

export const PROFILE_FIELDS = [
  ...PROFILE_KEYS,
  ...CONTACT_KINDS.flatMap((k) => CONTACT_PARTS.map((p) => `contacts.${k}.${p}` as const)),
] as const;

const formString = z.string({ error: 'Enter text here.' }).max(4000, 'At most 4000 characters.').optional();
const profileFormSchema = z.object({
  ...Object.fromEntries(PROFILE_FIELDS.filter((f) => f !== 'requestedRoles').map((f) => [f, formString])),
  requestedRoles: z.union([z.string(), z.array(z.string()).max(REQUESTED_ROLES.length)]).optional(),
}) as z.ZodType<Record<string, string | string[] | undefined>>;

/** The values printed back into the form: strings per field plus the ticked roles. */
export interface ProfileForm {
  values: Record<string, string>;
  roles: string[];
}

export function profileFormFrom(p: OrganisationProfile | null): ProfileForm {
  if (!p) return { values: { track: '' }, roles: [] };
  const values: Record<string, string> = {
    legalName: p.legalName,
    country: p.country,
    registrationNumber: p.registrationNumber,
    lei: p.lei ?? '',
    ncaId: p.ncaId ?? '',
    authorisationNumber: p.authorisationNumber ?? '',
    track: p.track,
    redirectUris: p.redirectUris.join('\n'),
  };
  for (const k of CONTACT_KINDS) {
    values[`contacts.${k}.name`] = p.contacts[k].name;
    values[`contacts.${k}.email`] = p.contacts[k].email;
    values[`contacts.${k}.phone`] = p.contacts[k].phone ?? '';
  }
  return { values, roles: [...p.requestedRoles] };
}

/** What the user typed, printed back into the form (strings only; anything else shows as empty). */
function profileFormFromInput(raw: Record<string, unknown>): ProfileForm {
  const values: Record<string, string> = {};
  for (const k of PROFILE_FIELDS) {
    const v = raw[k];
    if (k !== 'requestedRoles') values[k] = typeof v === 'string' ? v : '';
  }
  const r = raw.requestedRoles;
  const roles = (Array.isArray(r) ? r : [r]).filter((x): x is string => typeof x === 'string');
  return { values, roles };
}

/**
 * The raw form type-checked (strings, and a list for the roles) for the service, which owns the rules and
 * reads the flat dotted names (`contacts.business.email`) as they come.
 */
function profileInput(raw: Record<string, unknown>): Record<string, unknown> {
  const parsed = profileFormSchema.safeParse(raw);
  if (!parsed.success) throw inputErrorFrom('Some fields could not be read.', parsed.error);
  const f = parsed.data;
  const roles = f.requestedRoles === undefined ? [] : Array.isArray(f.requestedRoles) ? f.requestedRoles : [f.requestedRoles];
  return { ...Object.fromEntries(PROFILE_FIELDS.filter((k) => k !== 'requestedRoles').map((k) => [k, f[k] ?? ''])), requestedRoles: roles };
}

const COUNTRY_OPTIONS = [...ISO_3166_ALPHA2, 'EL'].sort();
const NCA_OPTIONS = [...NCA_TABLE].sort((a, b) => a.id.localeCompare(b.id)).map((n) => ({ id: n.id, label: `${n.id} — ${n.name}` }));

// --- the router -------------------------------------------------------------------------------------

const CERT_KINDS = ['qwac', 'qseal'] as const;
/** Upload failures the certificate and questionnaire pages explain next to the form (nothing was stored). */
const UPLOAD_STATUSES = new Set([400, 413, 415, 422]);

export function applicantRouter(deps: { partners: PartnersService }): Router {
  const { partners } = deps;
  const router = Router();
  router.use('/applications', requireApplicant, noStore);

  const load = (req: Request, id: string) => partners.getForApplicant(actorFrom(req), id);

  // --- list and start ---
  router.get('/applications', policy({ auth: 'session:applicant', returns: "the applicant's applications" }), async (req, res) => {
    const actor = actorFrom(req);
    const items = await partners.listForApplicant(actor.id);
    res.render('applications/list', { title: 'Your applications', rows: listRows(items, 'applicant') });
  });

  router.post('/applications', policy({ auth: 'session:applicant', returns: 'starts an application; redirect' }), async (req, res) => {
    const view = await partners.createApplication(actorFrom(req));
    setFlash(req, 'ok', 'Application started. Begin with your organisation profile.');
    res.redirect(303, `/applications/${view.id}/profile`);
  });

  // --- overview ---
  const renderOverview = (
    res: Response,
    view: ApplicationView,
    extra: { status?: number; error?: { code: string; message: string } | null; changeErrors?: Record<string, string>; changeValues?: Record<string, string> } = {},
  ) => {
    const page = applicationPage(view, 'applicant');
    res.status(extra.status ?? 200).render('applications/show', {
      title: page.name,
      app: page,
      register: registerView(view.register),
      actions: applicantActions(view.state),
      error: extra.error ?? null,
      changeErrors: extra.changeErrors ?? {},
      changeValues: extra.changeValues ?? {},
    });
  };

  router.get('/applications/:id', policy({ auth: 'session:applicant', returns: 'one application: state, timeline, change requests, what is missing' }), async (req, res) => {
    renderOverview(res, await load(req, param(req, 'id')));
  });

  // --- profile ---
  const renderProfile = (res: Response, view: ApplicationView, form: ProfileForm, errors: Record<string, string>, status = 200) => {
    res.status(status).render('applications/profile', {
      title: 'Organisation profile',
      app: { id: view.id, base: `/applications/${view.id}`, name: view.profile?.legalName || 'New application', state: view.state },
      editable: applicantActions(view.state).edit,
      form,
      errors,
      anchor: fieldAnchor,
      countries: COUNTRY_OPTIONS,
      ncas: NCA_OPTIONS,
      tracks: TRACKS,
      roles: REQUESTED_ROLES,
    });
  };

  router.get('/applications/:id/profile', policy({ auth: 'session:applicant', returns: 'the organisation profile form' }), async (req, res) => {
    const view = await load(req, param(req, 'id'));
    renderProfile(res, view, profileFormFrom(view.profile), {});
  });

  router.post('/applications/:id/profile', policy({ auth: 'session:applicant', returns: 'saves the organisation profile; redirect (or the form with its errors)' }), async (req, res) => {
    const id = param(req, 'id');
    const actor = actorFrom(req);
    const raw = body(req);
    try {
      await partners.saveProfile(actor, id, profileInput(raw));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      renderProfile(res, await load(req, id), profileFormFromInput(raw), fieldErrors(err, PROFILE_FIELDS), 400);
      return;
    }
    setFlash(req, 'ok', 'Organisation profile saved.');
    res.redirect(303, `/applications/${id}`);
  });

  // --- certificates ---
  const renderCertificates = (
    res: Response,
    view: ApplicationView,
    error: { kind: CertificateKind; code: string; message: string; fix?: string | null; findings: CertificateReportView | null } | null,
    status = 200,
  ) => {
    const base = `/applications/${view.id}`;
    res.status(status).render('applications/certificates', {
      title: 'Certificates',
      app: { id: view.id, base, name: view.profile?.legalName || 'New application', state: view.state },
      editable: applicantActions(view.state).edit,
      renewable: view.state === 'approved' || view.state === 'conditionally_approved',
      certs: { qwac: certificateView('qwac', view.certificates.qwac), qseal: certificateView('qseal', view.certificates.qseal) },
      consistency: consistencyViews(base, view.consistency),
      error,
    });
  };

  router.get('/applications/:id/certificates', policy({ auth: 'session:applicant', returns: 'the uploaded QWAC and QSealC with their certificate reports' }), async (req, res) => {
    renderCertificates(res, await load(req, param(req, 'id')), null);
  });

  /** The certificate slot in the path, and the uploaded file with its optional PKCS#12 password. */
  const certificateUpload = (req: Request) => {
    const kind = z.enum(CERT_KINDS).safeParse(req.params.kind);
    if (!kind.success) throw new NotFoundError();
    return {
      kind: kind.data,
      file: () => {
        const fields = z.object({ password: z.string().max(1024).optional() }).safeParse(body(req));
        if (!fields.success) throw inputErrorFrom('The password could not be read.', fields.error);
        if (!req.file) throw new InputError('Choose a certificate file to upload.', [{ path: 'file', message: 'Choose a file.' }]);
        const password = fields.data.password ? fields.data.password : undefined;
        return {
          bytes: req.file.buffer,
          originalName: req.file.originalname,
          mediaType: req.file.mimetype,
          ...(password !== undefined ? { password } : {}),
        };
      },
    };
  };

  /** An upload refused with nothing stored is explained next to its form; anything else goes to the error handler. */
  const renderUploadRefusal = async (req: Request, res: Response, id: string, kind: CertificateKind, err: unknown) => {
    if (!(err instanceof AppError) || !UPLOAD_STATUSES.has(err.status)) throw err;
    const view = await load(req, id);
    // An unreadable file, or a refused renewal, comes with the engine's report: what is wrong and how to fix it.
    const report = err instanceof CertificateUnreadableError || err instanceof RenewalRefusedError ? err.report : null;
    renderCertificates(
      res,
      view,
      {
        kind,
        code: err.code,
        message: err.message,
        fix: err instanceof RenewalRefusedError ? err.fix : null,
        findings: report ? reportView(kind, report, null) : null,
      },
      err.status,
    );
  };

  router.post('/applications/:id/certificates/:kind', policy({ auth: 'session:applicant', returns: 'stores and validates an uploaded certificate; redirect to its report' }), singleUpload(CERTIFICATE_MAX_BYTES), requireCsrf, async (req, res) => {
    const id = param(req, 'id');
    const upload = certificateUpload(req);
    try {
      const view = await partners.uploadCertificate(actorFrom(req), id, upload.kind, upload.file());
      const c = view.certificates[upload.kind];
      const ok = c?.report.verdict === 'pass';
      setFlash(req, ok ? 'ok' : 'error', ok ? `Certificate uploaded and accepted.` : 'Certificate uploaded, but it does not pass: see what to fix below.');
      res.redirect(303, `/applications/${id}/certificates#cert-${upload.kind}`);
    } catch (err) {
      await renderUploadRefusal(req, res, id, upload.kind, err);
    }
  });

  router.post(
    '/applications/:id/certificates/:kind/renew',
    policy({ auth: 'session:applicant', returns: "an approved partner's renewed QWAC or QSealC replaces the approved one after the renewal checks; redirect (or the page with the refusal)" }),
    singleUpload(CERTIFICATE_MAX_BYTES),
    requireCsrf,
    async (req, res) => {
      const id = param(req, 'id');
      const upload = certificateUpload(req);
      try {
        const r = await partners.renewCertificate(actorFrom(req), id, upload.kind, upload.file());
        const what = r.kind === 'qwac' ? 'QWAC' : 'QSealC';
        setFlash(req, 'ok', `Renewed ${what} accepted (serial ${r.renewed.serialNumber}, valid until ${r.renewed.notAfter.slice(0, 10)}): it is now your approved ${what}.`);
        res.redirect(303, `/applications/${id}/certificates#cert-${upload.kind}`);
      } catch (err) {
        await renderUploadRefusal(req, res, id, upload.kind, err);
      }
    },
  );

  // --- questionnaire and evidence ---
  const renderQuestionnaire = (
    res: Response,
    view: ApplicationView,
    opts: { errors?: Record<string, string>; input?: Record<string, unknown> | null; upload?: { questionId: string; code: string; message: string } | null; status?: number },
  ) => {
    const base = `/applications/${view.id}`;
    res.status(opts.status ?? 200).render('applications/questionnaire', {
      title: 'Security questionnaire',
      app: { id: view.id, base, name: view.profile?.legalName || 'New application', state: view.state, track: view.track },
      editable: applicantActions(view.state).edit,
      q: questionnairePage(view, { base, errors: opts.errors ?? {}, input: opts.input ?? null }),
      evidence: evidenceViews(base, view.questionnaire.evidence),
      upload: opts.upload ?? null,
    });
  };

  router.get('/applications/:id/questionnaire', policy({ auth: 'session:applicant', returns: 'the security questionnaire with the answers and evidence so far' }), async (req, res) => {
    renderQuestionnaire(res, await load(req, param(req, 'id')), {});
  });

  router.post('/applications/:id/questionnaire', policy({ auth: 'session:applicant', returns: 'saves questionnaire answers; redirect' }), async (req, res) => {
    const id = param(req, 'id');
    const form = { ...body(req) };
    delete form._csrf;
    const { view, errors } = await partners.saveAnswers(actorFrom(req), id, form);
    if (Object.keys(errors).length > 0) {
      renderQuestionnaire(res, view, { errors, input: form, status: 400 });
      return;
    }
    setFlash(req, 'ok', 'Your answers are saved as a draft.');
    res.redirect(303, `/applications/${id}/questionnaire`);
  });

  router.post('/applications/:id/evidence/:questionId', policy({ auth: 'session:applicant', returns: 'stores an evidence file for a question; redirect' }), singleUpload(EVIDENCE_MAX_BYTES), requireCsrf, async (req, res) => {
    const id = param(req, 'id');
    const questionId = param(req, 'questionId');
    const actor = actorFrom(req);
    try {
      if (!req.file) throw new InputError('Choose a file to upload.', [{ path: 'file', message: 'Choose a file.' }]);
      await partners.uploadEvidence(actor, id, questionId, {
        bytes: req.file.buffer,
        originalName: req.file.originalname,
        mediaType: req.file.mimetype,
      });
    } catch (err) {
      if (!(err instanceof AppError) || !UPLOAD_STATUSES.has(err.status)) throw err;
      const view = await load(req, id);
      renderQuestionnaire(res, view, { upload: { questionId, code: err.code, message: err.message }, status: err.status });
      return;
    }
    setFlash(req, 'ok', 'Evidence uploaded.');
    res.redirect(303, `/applications/${id}/questionnaire#q-${questionId}`);
  });

  router.post('/applications/:id/evidence/:evidenceId/delete', policy({ auth: 'session:applicant', returns: 'removes an evidence file; redirect' }), async (req, res) => {
    const id = param(req, 'id');
    await partners.removeEvidence(actorFrom(req), id, param(req, 'evidenceId'));
    setFlash(req, 'ok', 'Evidence removed.');
    res.redirect(303, `/applications/${id}/questionnaire`);
  });

  router.get('/applications/:id/evidence/:evidenceId', policy({ auth: 'session:applicant', returns: 'an evidence file the applicant uploaded (download)' }), async (req, res) => {
    const file = await partners.evidenceFile(actorFrom(req), param(req, 'id'), param(req, 'evidenceId'));
    await sendEvidence(res, file);
  });

  // --- submit, change requests, resubmit, withdraw ---
  router.post('/applications/:id/submit', policy({ auth: 'session:applicant', returns: 'submits the application for vetting; redirect' }), async (req, res) => {
    const id = param(req, 'id');
    try {
      const view = await partners.submit(actorFrom(req), id);
      setFlash(req, 'ok', view.state === 'approved' ? 'Submitted and approved: all automatic checks passed.' : 'Application submitted. The bank will review it.');
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'partners.submission_blocked') throw err;
      renderOverview(res, await load(req, id), { status: err.status, error: { code: err.code, message: err.message } });
      return;
    }
    res.redirect(303, `/applications/${id}`);
  });

  const responseSchema = z.object({
    response: z.string({ error: 'Write your answer.' }).trim().min(1, 'Write your answer.').max(4000, 'At most 4000 characters.'),
  });

  router.post('/applications/:id/changes/:itemId', policy({ auth: 'session:applicant', returns: 'answers a change request item; redirect' }), async (req, res) => {
    const id = param(req, 'id');
    const itemId = param(req, 'itemId');
    const parsed = responseSchema.safeParse(body(req));
    try {
      if (!parsed.success) throw inputErrorFrom('Your answer could not be saved.', parsed.error);
      await partners.respondToChange(actorFrom(req), id, itemId, parsed.data.response);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      const raw = body(req).response;
      renderOverview(res, await load(req, id), {
        status: 400,
        changeErrors: { [itemId]: err.fields.map((f) => f.message).join(' ') || err.message },
        changeValues: { [itemId]: typeof raw === 'string' ? raw : '' },
      });
      return;
    }
    setFlash(req, 'ok', 'Answer saved. Resubmit when every item is answered.');
    res.redirect(303, `/applications/${id}#change-${itemId}`);
  });

  router.post('/applications/:id/resubmit', policy({ auth: 'session:applicant', returns: 'resubmits after change requests; redirect' }), async (req, res) => {
    const id = param(req, 'id');
    try {
      await partners.resubmit(actorFrom(req), id);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'partners.submission_blocked') throw err;
      renderOverview(res, await load(req, id), { status: err.status, error: { code: err.code, message: err.message } });
      return;
    }
    setFlash(req, 'ok', 'Application resubmitted. The bank will review your answers.');
    res.redirect(303, `/applications/${id}`);
  });

  const renderWithdraw = (res: Response, view: ApplicationView, values: { reason: string }, errors: Record<string, string>, status = 200) => {
    res.status(status).render('applications/withdraw', {
      title: 'Withdraw the application',
      app: applicationPage(view, 'applicant'),
      allowed: applicantActions(view.state).withdraw,
      values,
      errors,
    });
  };

  router.get('/applications/:id/withdraw', policy({ auth: 'session:applicant', returns: 'the withdrawal confirmation page' }), async (req, res) => {
    renderWithdraw(res, await load(req, param(req, 'id')), { reason: '' }, {});
  });

  router.post('/applications/:id/withdraw', policy({ auth: 'session:applicant', returns: 'withdraws the application; redirect' }), async (req, res) => {
    const id = param(req, 'id');
    const parsed = z.object({ reason: optionalText(2000) }).safeParse(body(req));
    try {
      if (!parsed.success) throw inputErrorFrom('The reason could not be read.', parsed.error);
      await partners.withdraw(actorFrom(req), id, parsed.data.reason);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      const raw = body(req).reason;
      renderWithdraw(res, await load(req, id), { reason: typeof raw === 'string' ? raw : '' }, fieldErrors(err, ['reason']), 400);
      return;
    }
    setFlash(req, 'ok', 'Application withdrawn.');
    res.redirect(303, `/applications/${id}`);
  });

  return router;
}
