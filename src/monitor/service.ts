/**
 * The lifecycle monitor (issue 6, docs/monitor.md): a pass re-reads the NCA register source, re-validates every
 * active partner's approved certificates with revocation, and acts: expiry notices at 60/30/14/7/1 days, automatic
 * suspension for a revoked or expired approved QWAC or a withdrawn authorisation, narrowed roles when a service
 * code is removed, review tasks for name changes, re-authorisations and missing entries. A responder, CRL or
 * register source that cannot be used raises an alert and never suspends anyone (UK guidance: do not cut TPPs
 * off because a directory is down).
 *
 * Each pass is a row of monitor_runs with its actions and the alerts it saw. Network work (OCSP, CRL, the register
 * download) happens first; then each partner's actions, their audit events with the evidence, the notifications
 * and the new register baseline are written in one transaction, so a failure leaves nothing half-done and the
 * next pass retries. Officers reinstate partners the system suspended with four eyes (propose, approve).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Actor, AuditService } from '../audit/service.js';
import type { EidasService } from '../eidas/service.js';
import type { CertificateReport } from '../eidas/types.js';
import { AppError, InputError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ActorRef, CertificateKind, MonitoredPartner, PartnersService, PartnerStatus, StaffRole } from '../partners/types.js';
import type { RegisterService } from '../register/service.js';
import type { Db } from '../store/database.js';
import { createSqliteMonitorRepository } from '../store/sqlite/monitor.js';
import type { Transactor } from '../store/transaction.js';
import {
  classifyReport,
  daysLeft,
  dueThreshold,
  entryEvidence,
  registerChanges,
  reportEvidence,
  type CertificateFinding,
  type RegisterChange,
} from './checks.js';
import {
  fourEyesMonitor,
  monitorBusy,
  monitorRoleRequired,
  notSuspendedAutomatically,
  proposalClosed,
  proposalExists,
  taskClosed,
} from './errors.js';
import type { AlertRecord, MonitorRepository, ReinstatementRecord, TaskRecord } from './repository.js';
import { createRegisterSourceReader, RegisterSourceError, type RegisterSourceReader } from './source.js';
import {
  certificateSuspensionText,
  expiryNotice,
  kindWord,
  narrowedNotice,
  serviceRemovedText,
  suspensionNotice,
  withdrawalText,
} from './texts.js';
import type {
  AutomaticSuspensionView,
  MonitorActionKind,
  MonitorAlertKind,
  MonitorRunReport,
  MonitorRunSummary,
  MonitorService,
  MonitorTaskKind,
  MonitorTaskView,
  MonitorTrigger,
  Notify,
  NotifyRequest,
  ReinstatementView,
} from './types.js';

export interface MonitorDeps {
  db: Db;
  tx: Transactor;
  audit: AuditService;
  eidas: Pick<EidasService, 'validate'>;
  partners: Pick<
    PartnersService,
    'monitoredPartners' | 'getPartner' | 'suspendPartnerAutomatically' | 'narrowAllowedRoles' | 'reinstateWithSecondApproval'
  >;
  register: Pick<RegisterService, 'importSnapshot' | 'lookup' | 'status'>;
  notify: Notify;
  /** REGISTER_SOURCE: a file path or an https URL; null: no re-read, changes are diffed against the last import. */
  source: string | null;
  logger: Logger;
  now?: () => Date;
  readSource?: RegisterSourceReader;
  repository?: MonitorRepository;
  /** A run still marked running after this long is taken for dead (its process crashed). Default 30 minutes. */
  leaseMs?: number;
  /** Delay of the scheduler's first pass after `start`, so that start-up finishes first. Default 30 s. */
  firstRunDelayMs?: number;
}

/** Who the monitor is in audit events, decisions and the partner's status. */
export const MONITOR_SOURCE = 'lifecycle monitor';
const SYSTEM: Actor = { type: 'system', id: null, label: MONITOR_SOURCE };
const TEXT_MAX = 2000;
const RECENT_RUNS = 20;
const RECENT_ACTIONS = 100;
const TASKS_SHOWN = 100;

const READER_ROLES: readonly StaffRole[] = ['reviewer', 'approver', 'admin'];

interface RunContext {
  runId: string;
  actions: Partial<Record<MonitorActionKind, number>>;
  alertsOpened: number;
}

interface CheckedCertificate {
  kind: CertificateKind;
  sha256: string;
  report: CertificateReport;
  finding: CertificateFinding;
}

export function createMonitor(deps: MonitorDeps): MonitorService {
  const { tx, audit, eidas, partners, register, notify, logger } = deps;
  const repo = deps.repository ?? createSqliteMonitorRepository(deps.db);
  const now = deps.now ?? (() => new Date());
  const iso = () => now().toISOString();
  const readSource = deps.readSource ?? createRegisterSourceReader();
  const leaseMs = deps.leaseMs ?? 30 * 60_000;
  const firstRunDelayMs = deps.firstRunDelayMs ?? 30_000;

  let inFlight: Promise<MonitorRunReport> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let scheduled = false;

  // --- recording ---------------------------------------------------------------------------------------

  async function action(
    ctx: RunContext,
    kind: MonitorActionKind,
    partnerId: string | null,
    reasonCode: string | null,
    summary: string,
    evidence: Record<string, unknown>,
  ): Promise<void> {
    const rec = { id: randomUUID(), runId: ctx.runId, at: iso(), kind, partnerId, reasonCode, summary, evidence: jsonSafe(evidence) };
    await repo.insertAction(rec);
    await audit.record({
      actor: SYSTEM,
      action: `monitor.${kind}`,
      subject: partnerId ? { type: 'partner', id: partnerId } : { type: 'monitor_run', id: ctx.runId },
      data: { runId: ctx.runId, actionId: rec.id, reasonCode, summary, evidence: rec.evidence },
    });
    ctx.actions[kind] = (ctx.actions[kind] ?? 0) + 1;
  }

  /** Opens the alert, or records that this run saw it again. Call inside tx.run. */
  async function alert(ctx: RunContext, kind: MonitorAlertKind, key: string, partnerId: string | null, detail: string): Promise<void> {
    const at = iso();
    const open = await repo.openAlert(kind, key);
    if (open) {
      // seen_count counts passes: a second sighting in the same pass (two certificates, one cause) is not another.
      if (open.lastRunId !== ctx.runId) await repo.touchAlert(open.id, { lastSeen: at, lastRunId: ctx.runId, detail });
      return;
    }
    const rec: AlertRecord = {
      id: randomUUID(),
      kind,
      key,
      partnerId,
      detail,
      firstSeen: at,
      lastSeen: at,
      seenCount: 1,
      firstRunId: ctx.runId,
      lastRunId: ctx.runId,
      state: 'open',
      closedAt: null,
    };
    await repo.insertAlert(rec);
    await audit.record({
      actor: SYSTEM,
      action: 'monitor.alert.opened',
      subject: { type: 'monitor_alert', id: rec.id },
      data: { runId: ctx.runId, kind, key, partnerId, detail },
    });
    ctx.alertsOpened++;
  }

  async function task(
    ctx: RunContext,
    kind: MonitorTaskKind,
    partnerId: string,
    dedupeKey: string,
    title: string,
    detail: string,
    evidence: Record<string, unknown>,
  ): Promise<void> {
    const rec: TaskRecord = {
      id: randomUUID(),
      kind,
      partnerId,
      dedupeKey,
      title,
      detail,
      evidence: jsonSafe(evidence),
      runId: ctx.runId,
      createdAt: iso(),
      state: 'open',
      resolvedAt: null,
      resolvedBy: null,
      resolution: null,
    };
    if (await repo.insertTaskOnce(rec)) await action(ctx, 'task', partnerId, null, `${title}: ${detail}`, { taskId: rec.id, taskKind: kind, ...evidence });
  }

  /**
   * Hands a notification to the outbox in a savepoint of the caller's transaction: the outbox row commits with
   * the action, and a failing outbox never undoes a suspension (it raises an alert instead).
   */
  async function tell(ctx: RunContext, req: NotifyRequest): Promise<boolean> {
    try {
      return (await tx.run(() => notify(req))).queued;
    } catch (err) {
      logger.error({ err, event: req.event, partnerId: req.partnerId }, 'monitor: notification could not be queued');
      await alert(ctx, 'action_failed', `notify:${req.dedupeKey ?? req.event}:${req.partnerId ?? ''}`, req.partnerId, `The ${req.event} notification could not be queued: ${messageOf(err)}.`);
      return false;
    }
  }

  function recipients(mp: MonitoredPartner, which: ('business' | 'technical' | 'security')[]): string[] {
    return [...new Set(which.map((w) => mp.contacts[w]).filter((e): e is string => typeof e === 'string' && e.length > 0))];
  }

  function email(mp: MonitoredPartner, which: ('business' | 'technical' | 'security')[], m: { subject: string; text: string }) {
    const to = recipients(mp, which);
    return to.length ? { email: { to, ...m } } : {};
  }

  // --- the pass ----------------------------------------------------------------------------------------

  async function pass(trigger: MonitorTrigger): Promise<MonitorRunReport> {
    const runId = randomUUID();
    const startedAt = iso();
    await tx.run(async () => {
      for (const r of await repo.runningRuns()) {
        if (now().getTime() - Date.parse(r.startedAt) < leaseMs) throw monitorBusy(r.startedAt);
        await repo.abandonRun(r.id, startedAt, 'The process running this pass stopped before it finished.');
      }
      await repo.insertRun({ id: runId, trigger, startedAt });
    });
    const ctx: RunContext = { runId, actions: {}, alertsOpened: 0 };
    let stage = 'register';
    try {
      const reg = await registerStep(ctx);
      stage = 'partners';
      const list = await partners.monitoredPartners();
      let partnersChecked = 0;
      let certificatesChecked = 0;
      for (const mp of list) {
        stage = `partner ${mp.partner.id}`;
        try {
          const n = await checkPartner(ctx, mp, reg.usable ? reg.snapshot : null);
          partnersChecked++;
          certificatesChecked += n;
        } catch (err) {
          // One partner's failure must not stop the others; the next pass retries it.
          logger.error({ err, runId, partnerId: mp.partner.id }, 'monitor: checking a partner failed');
          await tx.run(() =>
            alert(ctx, 'action_failed', `partner:${mp.partner.id}`, mp.partner.id, `Checking ${mp.partner.legalName} failed: ${messageOf(err)}. It is retried on the next pass.`),
          );
        }
      }
      stage = 'finish';
      const summary = await tx.run(async () => {
        const closed = await repo.closeAlertsNotSeenIn(runId, iso());
        const s: MonitorRunSummary = {
          partnersChecked,
          certificatesChecked,
          register: reg.summary,
          actions: ctx.actions,
          alertsOpened: ctx.alertsOpened,
          alertsOpen: await repo.countOpenAlerts(),
          alertsClosed: closed,
        };
        await repo.finishRun(runId, { finishedAt: iso(), status: 'ok', summary: s, error: null });
        await audit.record({ actor: SYSTEM, action: 'monitor.run.completed', subject: { type: 'monitor_run', id: runId }, data: { trigger, ...s } });
        return s;
      });
      logger.info({ runId, ...summary }, 'monitor pass completed');
    } catch (err) {
      logger.error({ err, runId, stage }, 'monitor pass failed');
      const error = `Failed during ${stage}: ${messageOf(err)}`;
      try {
        await tx.run(async () => {
          await alert(ctx, 'run_failed', 'run', null, `A monitor pass failed (${error}). Nothing it had not finished was applied; the next pass retries.`);
          await repo.finishRun(runId, {
            finishedAt: iso(),
            status: 'failed',
            summary: {
              partnersChecked: 0,
              certificatesChecked: 0,
              register: { source: deps.source, imported: false, snapshotId: null, error: null },
              actions: ctx.actions,
              alertsOpened: ctx.alertsOpened,
              alertsOpen: await repo.countOpenAlerts(),
              alertsClosed: 0,
            },
            error,
          });
          await audit.record({ actor: SYSTEM, action: 'monitor.run.failed', subject: { type: 'monitor_run', id: runId }, data: { trigger, error } });
        });
      } catch (recordErr) {
        logger.error({ err: recordErr, runId }, 'monitor: the failed pass could not be recorded');
      }
    }
    return runReport(runId);
  }

  async function runReport(runId: string): Promise<MonitorRunReport> {
    const run = await repo.getRun(runId);
    if (!run) throw new NotFoundError('No such monitor run.');
    const alerts = (await repo.alertsSeenIn(runId)).map(alertView);
    return { ...run, actions: await repo.actionsOfRun(runId), alerts };
  }

  /** Re-reads and imports the register source. `usable` is false when its changes must not be acted on. */
  async function registerStep(
    ctx: RunContext,
  ): Promise<{ usable: boolean; snapshot: { id: string; label: string } | null; summary: MonitorRunSummary['register'] }> {
    const summary: MonitorRunSummary['register'] = { source: deps.source, imported: false, snapshotId: null, error: null };
    if (deps.source) {
      try {
        const bytes = await readSource(deps.source);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const current = (await register.status()).snapshot;
        if (current?.sha256 !== sha256) {
          const r = await register.importSnapshot(bytes, { source: `${MONITOR_SOURCE}: ${deps.source}`, actor: SYSTEM });
          summary.imported = true;
          await tx.run(() =>
            action(ctx, 'register_import', null, null, `Register imported from ${deps.source}: ${r.entityCount} entities (${r.skippedCount} skipped).`, {
              source: deps.source,
              snapshotId: r.id,
              sha256: r.sha256,
              entityCount: r.entityCount,
              skippedCount: r.skippedCount,
              previousSnapshotId: current?.id ?? null,
            }),
          );
        }
      } catch (err) {
        const known = err instanceof RegisterSourceError || err instanceof AppError;
        if (!known) logger.error({ err }, 'monitor: register source failed unexpectedly');
        summary.error = known ? err.message : 'unexpected error (see the log)';
        await tx.run(() =>
          alert(
            ctx,
            'register_source',
            deps.source!,
            null,
            `The register source could not be used: ${summary.error} The previous register is kept and no partner was suspended because of it.`,
          ),
        );
      }
    }
    const snapshot = (await register.status()).snapshot;
    if (!snapshot) {
      await tx.run(() => alert(ctx, 'register_empty', 'register', null, 'No NCA register is loaded, so register changes cannot be seen. Configure REGISTER_SOURCE or run `npm run register:import`.'));
      return { usable: false, snapshot: null, summary };
    }
    summary.snapshotId = snapshot.id;
    const label = `snapshot of ${snapshot.importedAt.slice(0, 10)}, ${snapshot.source}`;
    return { usable: summary.error === null, snapshot: { id: snapshot.id, label }, summary };
  }

  /** One partner: network first (certificates), then one transaction for everything it leads to. */
  async function checkPartner(ctx: RunContext, mp: MonitoredPartner, registerSnapshot: { id: string; label: string } | null): Promise<number> {
    const p = mp.partner;
    const approved = mp.applicationState === 'approved' || mp.applicationState === 'conditionally_approved';
    const checked: CheckedCertificate[] = [];
    if (p.status === 'active' && approved) {
      for (const c of mp.certificates) {
        const at = now();
        const report = await eidas.validate(Buffer.concat(c.ders.map((d) => Buffer.from(d))), { expect: c.kind, at });
        checked.push({ kind: c.kind, sha256: c.sha256, report, finding: classifyReport(report, at) });
      }
    }
    let reg: { before: MonitoredPartner['registerAtApproval']; after: MonitoredPartner['registerAtApproval']; changes: RegisterChange[] } | null = null;
    if (registerSnapshot !== null && mp.registerKey) {
      const base = await repo.baseline(p.id);
      const before = base ? base.entry : mp.registerAtApproval;
      const after = await register.lookup(mp.registerKey.ncaId, mp.registerKey.authorisationNumber);
      reg = { before, after, changes: registerChanges(before, after) };
    }

    await tx.run(async () => {
      // Read again inside the transaction: an officer may have acted since the list was read.
      const fresh = (await partners.getPartner(p.id)) ?? p;
      let status: PartnerStatus = fresh.status;
      const suspend = async (reasonCode: string, text: string, evidence: Record<string, unknown>) => {
        await partners.suspendPartnerAutomatically(p.id, { reasonCode, text, source: MONITOR_SOURCE });
        status = 'suspended';
        await action(ctx, 'suspend', p.id, reasonCode, `${p.legalName} suspended (${reasonCode}): ${text}`, evidence);
        await tell(ctx, {
          event: 'client.suspended',
          partnerId: p.id,
          ...email(mp, ['business', 'technical', 'security'], suspensionNotice(p.legalName, reasonCode, text)),
          data: { reasonCode, reason: text, source: MONITOR_SOURCE },
          dedupeKey: `client.suspended:${p.id}:${ctx.runId}`,
        });
      };

      for (const c of checked) {
        const f = c.finding;
        const evidence = { certificate: { kind: c.kind, ...reportEvidence(c.report) } };
        if (f.kind === 'revoked' || f.kind === 'expired') {
          const reasonCode = f.kind === 'revoked' ? 'CERTIFICATE_REVOKED' : 'CERTIFICATE_EXPIRED';
          const text = certificateSuspensionText(c.kind, c.report, f, now());
          if (c.kind === 'qwac' && status === 'active') await suspend(reasonCode, text, evidence);
          else {
            await task(ctx, 'certificate_problem', p.id, `certificate:${c.sha256}:${f.kind}`, `${kindWord(c.kind)} ${f.kind}`, text, evidence);
          }
          continue;
        }
        if (f.kind === 'revocation_unavailable') {
          await alert(
            ctx,
            'revocation_unavailable',
            c.sha256,
            p.id,
            `The revocation status of ${p.legalName}'s ${kindWord(c.kind)} (serial ${c.report.serialNumber}) could not be obtained: ${f.detail} The partner stays active.`,
          );
        } else if (f.kind === 'revocation_not_checked') {
          await alert(ctx, 'revocation_not_checked', 'policy', null, 'Revocation checking is off (REVOCATION_POLICY=off): the monitor cannot see revoked certificates.');
        } else if (f.kind === 'invalid') {
          await alert(
            ctx,
            'certificate_invalid',
            c.sha256,
            p.id,
            `${p.legalName}'s approved ${kindWord(c.kind)} (serial ${c.report.serialNumber}) no longer validates: ${f.codes.join(', ')}. Review it; the partner stays active.`,
          );
        }
        if (status === 'active') await expiryStep(ctx, mp, c);
      }

      if (reg) {
        const snapshot = registerSnapshot!.label;
        const key = mp.registerKey!;
        const evidence = { register: { before: entryEvidence(reg.before), after: entryEvidence(reg.after), snapshot } };
        const name = reg.after?.names[0] ?? p.legalName;
        for (const change of reg.changes) {
          switch (change.kind) {
            case 'withdrawn': {
              const text = withdrawalText({ legalName: name, ncaId: key.ncaId, number: key.authorisationNumber, withdrawnOn: change.withdrawnOn, snapshot });
              if (status === 'active') await suspend('REGISTER_WITHDRAWN', text, evidence);
              else {
                await task(ctx, 'register_withdrawn', p.id, `withdrawn:${p.id}:${change.withdrawnOn ?? 'unknown'}`, 'Authorisation withdrawn while suspended', `${text} Keep this in mind before reinstating.`, evidence);
              }
              break;
            }
            case 'service_removed': {
              if (!fresh.allowedRoles.includes(change.role)) break;
              const text = serviceRemovedText({ legalName: name, role: change.role, code: change.code, country: change.country, snapshot });
              const after = await partners.narrowAllowedRoles(p.id, { remove: [change.role], text, source: MONITOR_SOURCE, evidence: jsonSafe(evidence) });
              await action(ctx, 'narrow_roles', p.id, null, `${p.legalName}: ${change.role} removed from the allowed roles (now ${after.allowedRoles.join(', ') || 'none'}). ${text}`, {
                ...evidence,
                removed: [change.role],
                allowedRoles: after.allowedRoles,
              });
              await tell(ctx, {
                event: 'partner.roles_narrowed',
                partnerId: p.id,
                ...email(mp, ['business', 'technical'], narrowedNotice(p.legalName, [change.role], text)),
                data: { removed: [change.role], allowedRoles: after.allowedRoles, reason: text },
                dedupeKey: `partner.roles_narrowed:${p.id}:${change.role}:${ctx.runId}`,
              });
              break;
            }
            case 'name_changed':
              await task(
                ctx,
                'register_name_change',
                p.id,
                `name:${p.id}:${change.to}`,
                'Name changed in the register',
                `The register now names ${key.ncaId} ${key.authorisationNumber} "${change.to}" (was "${change.from}"). Check for a merger or a new owner; nothing was blocked.`,
                evidence,
              );
              break;
            case 'reauthorised':
              await task(
                ctx,
                'reinstatement_offer',
                p.id,
                `reauthorised:${p.id}:${change.since ?? 'unknown'}`,
                'Re-authorised in the register',
                `The register shows ${name} authorised again${change.since ? ` since ${change.since}` : ''}. ${status === 'suspended' ? 'Reinstatement may be proposed on this page (two officers).' : 'The partner is active.'}`,
                evidence,
              );
              break;
            case 'entry_missing':
              await task(
                ctx,
                'register_entry_missing',
                p.id,
                `missing:${p.id}:${reg.before?.entityCode ?? ''}`,
                'No longer found in the register',
                `${key.ncaId} ${key.authorisationNumber} is not in the register any more. Ask the partner for evidence of its authorisation; nothing was blocked.`,
                evidence,
              );
              break;
          }
        }
        await repo.saveBaseline({ partnerId: p.id, entry: reg.after, snapshotId: registerSnapshot!.id, seenAt: iso() });
      }
    });
    return checked.length;
  }

  async function expiryStep(ctx: RunContext, mp: MonitoredPartner, c: CheckedCertificate): Promise<void> {
    const threshold = dueThreshold(daysLeft(c.report.notAfter, now()), await repo.smallestNoticeSent(c.sha256));
    if (threshold === null) return;
    const p = mp.partner;
    const notice = expiryNotice({ legalName: p.legalName, kind: c.kind, report: c.report, threshold });
    const dedupeKey = `certificate.expiring:${c.sha256}:${threshold}`;
    const queued = await tell(ctx, {
      event: 'certificate.expiring',
      partnerId: p.id,
      ...email(mp, ['technical', 'security'], notice),
      data: { kind: c.kind, serialNumber: c.report.serialNumber, sha256: c.sha256, notAfter: c.report.notAfter, thresholdDays: threshold },
      dedupeKey,
    });
    await repo.insertNotice({ certificateSha256: c.sha256, thresholdDays: threshold, partnerId: p.id, sentAt: iso(), runId: ctx.runId, queued });
    await action(ctx, 'expiry_notice', p.id, null, `${p.legalName}: ${kindWord(c.kind)} expires on ${c.report.notAfter.slice(0, 10)}, ${threshold}-day notice${queued ? '' : ' (not queued)'}.`, {
      certificate: { kind: c.kind, ...reportEvidence(c.report) },
      thresholdDays: threshold,
      dedupeKey,
      queued,
    });
  }

  // --- officers ----------------------------------------------------------------------------------------

  function requireRoles(staff: ActorRef, roles: readonly StaffRole[], what: string): void {
    if (staff?.kind !== 'staff' || !roles.some((r) => staff.roles.includes(r))) {
      throw monitorRoleRequired(roles.filter((r) => r !== 'admin').join(' or '), what);
    }
  }

  function boundedText(value: unknown, field: string): string {
    const t = typeof value === 'string' ? value.trim() : '';
    if (!t) throw new InputError('Some fields need attention.', [{ path: field, message: 'Enter a text.' }]);
    if (t.length > TEXT_MAX) throw new InputError('Some fields need attention.', [{ path: field, message: `At most ${TEXT_MAX} characters.` }]);
    return t;
  }

  function reinstatementView(r: ReinstatementRecord): ReinstatementView {
    return {
      id: r.id,
      partnerId: r.partnerId,
      state: r.state,
      proposedBy: { ...r.proposedBy },
      proposedAt: r.proposedAt,
      proposal: r.proposal,
      decidedBy: r.decidedBy ? { ...r.decidedBy } : null,
      decidedAt: r.decidedAt,
      decisionText: r.decisionText,
    };
  }

  function taskView(t: TaskRecord): MonitorTaskView {
    const { dedupeKey: _k, runId: _r, ...view } = t;
    return view;
  }

  async function automaticSuspension(partnerId: unknown): Promise<MonitoredPartner> {
    if (typeof partnerId !== 'string' || partnerId.length === 0 || partnerId.length > 100) throw new NotFoundError('No such partner.');
    const mp = (await partners.monitoredPartners()).find((m) => m.partner.id === partnerId);
    if (!mp) throw new NotFoundError('No such partner.');
    if (mp.partner.status !== 'suspended' || !mp.suspension?.automatic) throw notSuspendedAutomatically();
    return mp;
  }

  async function loadProposal(id: unknown): Promise<ReinstatementRecord> {
    const r = typeof id === 'string' && id.length > 0 && id.length <= 100 ? await repo.getReinstatement(id) : null;
    if (!r) throw new NotFoundError('No such reinstatement proposal.');
    if (r.state !== 'proposed') throw proposalClosed();
    return r;
  }

  /** A second officer's decision on a proposal: recorded, audited, and the proposal as it now stands. */
  async function decide(r: ReinstatementRecord, staff: ActorRef, state: 'approved' | 'declined', text: string) {
    await repo.decideReinstatement(r.id, { state, by: { id: staff.id, label: staff.label }, at: iso(), text });
    await audit.record({
      actor: { type: 'staff', id: staff.id, label: staff.label },
      action: `monitor.reinstatement.${state}`,
      subject: { type: 'partner', id: r.partnerId },
      data: { proposalId: r.id, proposedBy: r.proposedBy, text },
      ip: staff.ip ?? null,
    });
    return reinstatementView((await repo.getReinstatement(r.id))!);
  }

  const service: MonitorService = {
    runOnce(opts = {}) {
      // In this process, a second caller shares the pass in progress rather than starting an overlapping one.
      inFlight ??= pass(opts.trigger ?? 'manual').finally(() => {
        inFlight = null;
      });
      return inFlight;
    },

    start(intervalMs) {
      if (!Number.isInteger(intervalMs) || intervalMs <= 0) throw new RangeError('the monitor interval must be a positive number of milliseconds');
      if (scheduled) return;
      scheduled = true;
      const schedule = (delay: number) => {
        timer = setTimeout(() => void tick(), delay);
        timer.unref();
      };
      const tick = async () => {
        timer = null;
        try {
          const r = await service.runOnce({ trigger: 'scheduler' });
          if (r.status === 'failed') logger.error({ runId: r.id, error: r.error }, 'scheduled monitor pass failed (recorded)');
        } catch (err) {
          // monitor.busy (another process holds the lease) or the store is unusable: logged, retried next time.
          logger.error({ err }, 'scheduled monitor pass did not run');
        }
        if (scheduled) schedule(intervalMs);
      };
      schedule(Math.min(firstRunDelayMs, intervalMs));
    },

    async stop() {
      scheduled = false;
      if (timer) clearTimeout(timer);
      timer = null;
      if (inFlight) await inFlight.catch(() => undefined);
    },

    async overview(staff) {
      requireRoles(staff, READER_ROLES, 'see the monitor');
      const [runs, actions, alerts, tasks, list] = await Promise.all([
        repo.recentRuns(RECENT_RUNS),
        repo.recentActions(RECENT_ACTIONS),
        repo.openAlerts(),
        repo.tasks(TASKS_SHOWN),
        partners.monitoredPartners(),
      ]);
      const suspended: AutomaticSuspensionView[] = [];
      for (const m of list) {
        if (m.partner.status !== 'suspended' || !m.suspension?.automatic) continue;
        const open = await repo.openReinstatement(m.partner.id);
        suspended.push({
          partnerId: m.partner.id,
          legalName: m.partner.legalName,
          reasonCode: m.suspension.reasonCode,
          reason: m.suspension.text,
          suspendedBy: m.suspension.by,
          suspendedAt: m.suspension.at,
          // A proposal made before the current suspension is stale (the partner came back and went again).
          proposal: open && open.proposedAt >= m.suspension.at ? reinstatementView(open) : null,
        });
      }
      return {
        runs,
        actions,
        alerts: alerts.map(alertView),
        tasks: tasks.map(taskView),
        suspended,
        partnerNames: Object.fromEntries(list.map((m) => [m.partner.id, m.partner.legalName])),
      };
    },

    async proposeReinstatement(staff, partnerId, input) {
      requireRoles(staff, ['reviewer', 'approver'], 'propose a reinstatement');
      const text = boundedText(input?.text, 'text');
      const mp = await automaticSuspension(partnerId);
      return tx.run(async () => {
        const at = iso();
        const open = await repo.openReinstatement(mp.partner.id);
        if (open) {
          if (open.proposedAt >= mp.suspension!.at) throw proposalExists();
          await repo.decideReinstatement(open.id, { state: 'declined', by: { id: 'system', label: MONITOR_SOURCE }, at, text: 'Superseded: the partner was suspended again after this proposal.' });
        }
        const rec: ReinstatementRecord = {
          id: randomUUID(),
          partnerId: mp.partner.id,
          state: 'proposed',
          proposedBy: { id: staff.id, label: staff.label },
          proposedByRoles: [...staff.roles],
          proposedAt: at,
          proposal: text,
          decidedBy: null,
          decidedAt: null,
          decisionText: null,
        };
        await repo.insertReinstatement(rec);
        await audit.record({
          actor: { type: 'staff', id: staff.id, label: staff.label },
          action: 'monitor.reinstatement.proposed',
          subject: { type: 'partner', id: mp.partner.id },
          data: { proposalId: rec.id, text, suspension: jsonSafe({ ...mp.suspension }) },
          ip: staff.ip ?? null,
        });
        return reinstatementView(rec);
      });
    },

    async approveReinstatement(staff, proposalId, input) {
      requireRoles(staff, ['approver'], 'approve a reinstatement');
      const text = boundedText(input?.text, 'text');
      return tx.run(async () => {
        const r = await loadProposal(proposalId);
        if (r.proposedBy.id === staff.id) throw fourEyesMonitor();
        await partners.reinstateWithSecondApproval(
          {
            by: { id: r.proposedBy.id, kind: 'staff', label: r.proposedBy.label, roles: r.proposedByRoles as StaffRole[] },
            text: r.proposal,
            at: r.proposedAt,
          },
          staff,
          r.partnerId,
          { text },
        );
        return decide(r, staff, 'approved', text);
      });
    },

    async declineReinstatement(staff, proposalId, input) {
      requireRoles(staff, ['approver'], 'decline a reinstatement');
      const text = boundedText(input?.text, 'text');
      return tx.run(async () => {
        const r = await loadProposal(proposalId);
        if (r.proposedBy.id === staff.id) throw fourEyesMonitor();
        return decide(r, staff, 'declined', text);
      });
    },

    async resolveTask(staff, taskId, input) {
      requireRoles(staff, ['reviewer', 'approver'], 'mark a task reviewed');
      const text = boundedText(input?.text, 'text');
      return tx.run(async () => {
        const t = typeof taskId === 'string' && taskId.length > 0 && taskId.length <= 100 ? await repo.getTask(taskId) : null;
        if (!t) throw new NotFoundError('No such task.');
        if (t.state !== 'open') throw taskClosed();
        await repo.resolveTask(t.id, { at: iso(), by: { id: staff.id, label: staff.label }, text });
        await audit.record({
          actor: { type: 'staff', id: staff.id, label: staff.label },
          action: 'monitor.task.resolved',
          subject: { type: 'partner', id: t.partnerId },
          data: { taskId: t.id, kind: t.kind, text },
          ip: staff.ip ?? null,
        });
        return taskView((await repo.getTask(t.id))!);
      });
    },
  };
  return service;
}

function alertView(a: AlertRecord) {
  const { firstRunId: _f, lastRunId: _l, ...view } = a;
  return view;
}

function messageOf(err: unknown): string {
  // Officers read alerts: an AppError's safe message, never its private detail.
  if (err instanceof AppError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** Evidence goes to JSON columns and the audit chain: drop undefined, keep plain data only. */
function jsonSafe(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
