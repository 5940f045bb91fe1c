/**
 * The lifecycle monitor's public contract: what a run reports, what officers see, and the notification
 * request it hands to the notifications area (injected: `notify`).
 */
import type { ActorRef } from '../partners/types.js';

export const MONITOR_TRIGGERS = ['scheduler', 'cli', 'manual'] as const;
export type MonitorTrigger = (typeof MONITOR_TRIGGERS)[number];

export const ACTION_KINDS = ['suspend', 'narrow_roles', 'expiry_notice', 'register_import', 'task'] as const;
export type MonitorActionKind = (typeof ACTION_KINDS)[number];

export const ALERT_KINDS = [
  /** An OCSP responder or CRL could not be reached or answered unusably: the status is unknown, nobody is suspended. */
  'revocation_unavailable',
  /** Revocation checking is off (REVOCATION_POLICY=off): the monitor cannot see revocations. */
  'revocation_not_checked',
  /** An approved certificate fails validation for another reason (chain, trust list): for officers to judge. */
  'certificate_invalid',
  /** The register source cannot be read or parsed: the previous register is kept, nobody is suspended. */
  'register_source',
  /** No register snapshot is loaded at all: register changes cannot be seen. */
  'register_empty',
  /** An action the monitor decided on failed (it is retried on the next run). */
  'action_failed',
  /** A whole run failed. */
  'run_failed',
] as const;
export type MonitorAlertKind = (typeof ALERT_KINDS)[number];

export const TASK_KINDS = [
  'register_name_change',
  'register_entry_missing',
  'register_withdrawn',
  'reinstatement_offer',
  'certificate_problem',
] as const;
export type MonitorTaskKind = (typeof TASK_KINDS)[number];

/** Days before notAfter at which a partner is told its certificate expires; each is sent once per certificate. */
export const EXPIRY_THRESHOLDS_DAYS = [60, 30, 14, 7, 1] as const;

/**
 * The notifications area's entry point (src/notifications), called inside the monitor's transaction so that
 * the outbox row commits with the action. `dedupeKey` makes a repeated request a no-op.
 */
export interface NotifyRequest {
  event: 'certificate.expiring' | 'client.suspended' | 'partner.roles_narrowed';
  partnerId: string | null;
  email?: { to: string[]; subject: string; text: string };
  data: Record<string, unknown>;
  dedupeKey?: string;
}
export type Notify = (req: NotifyRequest) => Promise<{ queued: boolean }>;

export interface MonitorActionView {
  id: string;
  runId: string;
  at: string;
  kind: MonitorActionKind;
  partnerId: string | null;
  reasonCode: string | null;
  summary: string;
  evidence: Record<string, unknown>;
}

export interface MonitorAlertView {
  id: string;
  kind: MonitorAlertKind;
  key: string;
  partnerId: string | null;
  detail: string;
  firstSeen: string;
  lastSeen: string;
  seenCount: number;
  state: 'open' | 'closed';
  closedAt: string | null;
}

export interface MonitorTaskView {
  id: string;
  kind: MonitorTaskKind;
  partnerId: string;
  title: string;
  detail: string;
  evidence: Record<string, unknown>;
  createdAt: string;
  state: 'open' | 'done';
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolution: string | null;
}

export interface MonitorRunSummary {
  partnersChecked: number;
  certificatesChecked: number;
  /** The register step: where from, whether a new snapshot was imported, and why not when it failed. */
  register: { source: string | null; imported: boolean; snapshotId: string | null; error: string | null };
  actions: Partial<Record<MonitorActionKind, number>>;
  alertsOpened: number;
  alertsOpen: number;
  alertsClosed: number;
}

export interface MonitorRunView {
  id: string;
  trigger: MonitorTrigger;
  startedAt: string;
  finishedAt: string | null;
  status: 'running' | 'ok' | 'failed' | 'abandoned';
  summary: MonitorRunSummary | null;
  error: string | null;
}

/** What `runOnce` returns: the run row, its actions and the alerts it raised or saw again. */
export interface MonitorRunReport extends MonitorRunView {
  actions: MonitorActionView[];
  alerts: MonitorAlertView[];
}

export interface ReinstatementView {
  id: string;
  partnerId: string;
  state: 'proposed' | 'approved' | 'declined';
  proposedBy: { id: string; label: string };
  proposedAt: string;
  proposal: string;
  decidedBy: { id: string; label: string } | null;
  decidedAt: string | null;
  decisionText: string | null;
}

/** A partner the system suspended, with its pending reinstatement proposal if any (the page's four-eyes list). */
export interface AutomaticSuspensionView {
  partnerId: string;
  legalName: string;
  reasonCode: string | null;
  reason: string | null;
  suspendedBy: string;
  suspendedAt: string;
  proposal: ReinstatementView | null;
}

export interface MonitorOverview {
  runs: MonitorRunView[];
  actions: MonitorActionView[];
  alerts: MonitorAlertView[];
  tasks: MonitorTaskView[];
  suspended: AutomaticSuspensionView[];
  /** Names of the partners the rows point at. */
  partnerNames: Record<string, string>;
}

export interface MonitorService {
  /** One pass (see docs/monitor.md). Coalesces with a pass already running in this process. */
  runOnce(opts?: { trigger?: MonitorTrigger }): Promise<MonitorRunReport>;
  /** Runs a pass soon, then every `intervalMs` after each pass ends (never overlapping); unref'd timers. */
  start(intervalMs: number): void;
  /** Stops the schedule and waits for a pass in progress. */
  stop(): Promise<void>;

  // --- officers (staff with the reviewer role or more) ---
  overview(staff: ActorRef): Promise<MonitorOverview>;
  proposeReinstatement(staff: ActorRef, partnerId: string, input: { text: string }): Promise<ReinstatementView>;
  /** The second officer: approver role, not the proposer. Reinstates through the partners service. */
  approveReinstatement(staff: ActorRef, proposalId: string, input: { text: string }): Promise<ReinstatementView>;
  declineReinstatement(staff: ActorRef, proposalId: string, input: { text: string }): Promise<ReinstatementView>;
  resolveTask(staff: ActorRef, taskId: string, input: { text: string }): Promise<MonitorTaskView>;
}
