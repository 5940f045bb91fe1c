/**
 * Storage contract of the monitor area. Async so that a PostgreSQL implementation fits later; the SQLite one is
 * src/store/sqlite/monitor.ts (tables in migrations/0014_monitor.sql). Writes are called inside `tx.run`.
 */
import type { RegisterEntry } from '../register/service.js';
import type {
  MonitorActionView,
  MonitorAlertKind,
  MonitorAlertView,
  MonitorRunSummary,
  MonitorRunView,
  MonitorTaskView,
  MonitorTrigger,
  ReinstatementView,
} from './types.js';

export type ActionRecord = MonitorActionView;
export type AlertRecord = MonitorAlertView & { firstRunId: string | null; lastRunId: string | null };
export type TaskRecord = MonitorTaskView & { dedupeKey: string; runId: string | null };
export type RunRecord = MonitorRunView;
export type ReinstatementRecord = ReinstatementView & { proposedByRoles: string[] };

export interface BaselineRecord {
  partnerId: string;
  /** null: the partner's organisation was not in the register. */
  entry: RegisterEntry | null;
  snapshotId: string | null;
  seenAt: string;
}

export interface MonitorRepository {
  insertRun(run: { id: string; trigger: MonitorTrigger; startedAt: string }): Promise<void>;
  finishRun(id: string, f: { finishedAt: string; status: 'ok' | 'failed'; summary: MonitorRunSummary; error: string | null }): Promise<void>;
  /** Runs still marked running; the caller decides which are stale. */
  runningRuns(): Promise<RunRecord[]>;
  abandonRun(id: string, at: string, error: string): Promise<void>;
  getRun(id: string): Promise<RunRecord | null>;
  recentRuns(limit: number): Promise<RunRecord[]>;

  insertAction(a: ActionRecord): Promise<void>;
  actionsOfRun(runId: string): Promise<ActionRecord[]>;
  recentActions(limit: number): Promise<ActionRecord[]>;

  openAlert(kind: MonitorAlertKind, key: string): Promise<AlertRecord | null>;
  insertAlert(a: AlertRecord): Promise<void>;
  touchAlert(id: string, f: { lastSeen: string; lastRunId: string; detail: string }): Promise<void>;
  /** Closes every open alert whose last sighting was not in this run; returns how many. */
  closeAlertsNotSeenIn(runId: string, at: string): Promise<number>;
  alertsSeenIn(runId: string): Promise<AlertRecord[]>;
  openAlerts(): Promise<AlertRecord[]>;
  countOpenAlerts(): Promise<number>;

  /** Inserts unless a task with the same dedupe key exists (open or done); true when inserted. */
  insertTaskOnce(t: TaskRecord): Promise<boolean>;
  getTask(id: string): Promise<TaskRecord | null>;
  resolveTask(id: string, f: { at: string; by: { id: string; label: string }; text: string }): Promise<void>;
  /** Open tasks, then those done recently (newest first), at most `limit`. */
  tasks(limit: number): Promise<TaskRecord[]>;

  noticeSent(certificateSha256: string, thresholdDays: number): Promise<boolean>;
  /** The smallest threshold already sent for the certificate; null when none. */
  smallestNoticeSent(certificateSha256: string): Promise<number | null>;
  insertNotice(n: { certificateSha256: string; thresholdDays: number; partnerId: string; sentAt: string; runId: string; queued: boolean }): Promise<void>;

  baseline(partnerId: string): Promise<BaselineRecord | null>;
  saveBaseline(b: BaselineRecord): Promise<void>;

  insertReinstatement(r: ReinstatementRecord): Promise<void>;
  getReinstatement(id: string): Promise<ReinstatementRecord | null>;
  openReinstatement(partnerId: string): Promise<ReinstatementRecord | null>;
  decideReinstatement(
    id: string,
    f: { state: 'approved' | 'declined'; by: { id: string; label: string }; at: string; text: string },
  ): Promise<void>;
}
