/** better-sqlite3 implementation of the monitor repository (tables in migrations/0014_monitor.sql). */
import type {
  ActionRecord,
  AlertRecord,
  BaselineRecord,
  MonitorRepository,
  ReinstatementRecord,
  RunRecord,
  TaskRecord,
} from '../../monitor/repository.js';
import type {
  MonitorActionKind,
  MonitorAlertKind,
  MonitorRunSummary,
  MonitorTaskKind,
  MonitorTrigger,
} from '../../monitor/types.js';
import type { RegisterEntry } from '../../register/service.js';
import type { Db } from '../database.js';

interface RunRow {
  id: string;
  trigger: string;
  started_at: string;
  finished_at: string | null;
  status: string;
  summary: string;
  error: string | null;
}

interface ActionRow {
  id: string;
  run_id: string;
  at: string;
  kind: string;
  partner_id: string | null;
  reason_code: string | null;
  summary: string;
  evidence: string;
}

interface AlertRow {
  id: string;
  kind: string;
  key: string;
  partner_id: string | null;
  detail: string;
  first_seen: string;
  last_seen: string;
  seen_count: number;
  first_run_id: string | null;
  last_run_id: string | null;
  state: string;
  closed_at: string | null;
}

interface TaskRow {
  id: string;
  kind: string;
  partner_id: string;
  dedupe_key: string;
  title: string;
  detail: string;
  evidence: string;
  run_id: string | null;
  created_at: string;
  state: string;
  resolved_at: string | null;
  resolved_by_id: string | null;
  resolved_by_label: string | null;
  resolution: string | null;
}

interface ReinstatementRow {
  id: string;
  partner_id: string;
  state: string;
  proposed_by_id: string;
  proposed_by_label: string;
  proposed_by_roles: string;
  proposed_at: string;
  proposal: string;
  decided_by_id: string | null;
  decided_by_label: string | null;
  decided_at: string | null;
  decision_text: string | null;
}

function toRun(r: RunRow): RunRecord {
  // A running pass has no summary yet ('{}').
  const summary = JSON.parse(r.summary) as Partial<MonitorRunSummary>;
  return {
    id: r.id,
    trigger: r.trigger as MonitorTrigger,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status as RunRecord['status'],
    summary: summary.register ? (summary as MonitorRunSummary) : null,
    error: r.error,
  };
}

function toAction(r: ActionRow): ActionRecord {
  return {
    id: r.id,
    runId: r.run_id,
    at: r.at,
    kind: r.kind as MonitorActionKind,
    partnerId: r.partner_id,
    reasonCode: r.reason_code,
    summary: r.summary,
    evidence: JSON.parse(r.evidence) as Record<string, unknown>,
  };
}

function toAlert(r: AlertRow): AlertRecord {
  return {
    id: r.id,
    kind: r.kind as MonitorAlertKind,
    key: r.key,
    partnerId: r.partner_id,
    detail: r.detail,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    seenCount: r.seen_count,
    firstRunId: r.first_run_id,
    lastRunId: r.last_run_id,
    state: r.state as AlertRecord['state'],
    closedAt: r.closed_at,
  };
}

function toTask(r: TaskRow): TaskRecord {
  return {
    id: r.id,
    kind: r.kind as MonitorTaskKind,
    partnerId: r.partner_id,
    dedupeKey: r.dedupe_key,
    title: r.title,
    detail: r.detail,
    evidence: JSON.parse(r.evidence) as Record<string, unknown>,
    runId: r.run_id,
    createdAt: r.created_at,
    state: r.state as TaskRecord['state'],
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by_label,
    resolution: r.resolution,
  };
}

function toReinstatement(r: ReinstatementRow): ReinstatementRecord {
  return {
    id: r.id,
    partnerId: r.partner_id,
    state: r.state as ReinstatementRecord['state'],
    proposedBy: { id: r.proposed_by_id, label: r.proposed_by_label },
    proposedByRoles: JSON.parse(r.proposed_by_roles) as string[],
    proposedAt: r.proposed_at,
    proposal: r.proposal,
    decidedBy: r.decided_by_id === null ? null : { id: r.decided_by_id, label: r.decided_by_label ?? '' },
    decidedAt: r.decided_at,
    decisionText: r.decision_text,
  };
}

export function createSqliteMonitorRepository(db: Db): MonitorRepository {
  const s = {
    insertRun: db.prepare(
      `INSERT INTO monitor_runs (id, trigger, started_at, finished_at, status, summary, error)
       VALUES (?, ?, ?, NULL, 'running', '{}', NULL)`,
    ),
    finishRun: db.prepare('UPDATE monitor_runs SET finished_at = ?, status = ?, summary = ?, error = ? WHERE id = ?'),
    runningRuns: db.prepare("SELECT * FROM monitor_runs WHERE status = 'running' ORDER BY started_at"),
    abandonRun: db.prepare("UPDATE monitor_runs SET status = 'abandoned', finished_at = ?, error = ? WHERE id = ? AND status = 'running'"),
    getRun: db.prepare('SELECT * FROM monitor_runs WHERE id = ?'),
    recentRuns: db.prepare('SELECT * FROM monitor_runs ORDER BY started_at DESC, rowid DESC LIMIT ?'),
    insertAction: db.prepare(
      `INSERT INTO monitor_actions (id, run_id, at, kind, partner_id, reason_code, summary, evidence)
       VALUES (@id, @run_id, @at, @kind, @partner_id, @reason_code, @summary, @evidence)`,
    ),
    actionsOfRun: db.prepare('SELECT * FROM monitor_actions WHERE run_id = ? ORDER BY rowid'),
    recentActions: db.prepare('SELECT * FROM monitor_actions ORDER BY at DESC, rowid DESC LIMIT ?'),
    openAlert: db.prepare("SELECT * FROM monitor_alerts WHERE kind = ? AND key = ? AND state = 'open'"),
    insertAlert: db.prepare(
      `INSERT INTO monitor_alerts (id, kind, key, partner_id, detail, first_seen, last_seen, seen_count, first_run_id,
         last_run_id, state, closed_at)
       VALUES (@id, @kind, @key, @partner_id, @detail, @first_seen, @last_seen, @seen_count, @first_run_id,
         @last_run_id, 'open', NULL)`,
    ),
    touchAlert: db.prepare(
      'UPDATE monitor_alerts SET last_seen = ?, last_run_id = ?, detail = ?, seen_count = seen_count + 1 WHERE id = ?',
    ),
    closeAlertsNotSeenIn: db.prepare(
      "UPDATE monitor_alerts SET state = 'closed', closed_at = ? WHERE state = 'open' AND (last_run_id IS NULL OR last_run_id <> ?)",
    ),
    alertsSeenIn: db.prepare('SELECT * FROM monitor_alerts WHERE last_run_id = ? ORDER BY first_seen, rowid'),
    openAlerts: db.prepare("SELECT * FROM monitor_alerts WHERE state = 'open' ORDER BY last_seen DESC, rowid DESC"),
    countOpenAlerts: db.prepare("SELECT count(*) AS n FROM monitor_alerts WHERE state = 'open'"),
    insertTask: db.prepare(
      `INSERT OR IGNORE INTO monitor_tasks (id, kind, partner_id, dedupe_key, title, detail, evidence, run_id, created_at,
         state, resolved_at, resolved_by_id, resolved_by_label, resolution)
       VALUES (@id, @kind, @partner_id, @dedupe_key, @title, @detail, @evidence, @run_id, @created_at, 'open', NULL, NULL,
         NULL, NULL)`,
    ),
    getTask: db.prepare('SELECT * FROM monitor_tasks WHERE id = ?'),
    resolveTask: db.prepare(
      "UPDATE monitor_tasks SET state = 'done', resolved_at = ?, resolved_by_id = ?, resolved_by_label = ?, resolution = ? WHERE id = ? AND state = 'open'",
    ),
    tasks: db.prepare(
      "SELECT * FROM monitor_tasks ORDER BY state = 'open' DESC, CASE WHEN state = 'open' THEN created_at END ASC, resolved_at DESC, rowid LIMIT ?",
    ),
    noticeSent: db.prepare('SELECT 1 FROM monitor_notices WHERE certificate_sha256 = ? AND threshold_days = ?'),
    smallestNotice: db.prepare('SELECT min(threshold_days) AS t FROM monitor_notices WHERE certificate_sha256 = ?'),
    insertNotice: db.prepare(
      `INSERT INTO monitor_notices (certificate_sha256, threshold_days, partner_id, sent_at, run_id, queued)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    baseline: db.prepare('SELECT * FROM monitor_register_baselines WHERE partner_id = ?'),
    saveBaseline: db.prepare(
      `INSERT INTO monitor_register_baselines (partner_id, entry, snapshot_id, seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (partner_id) DO UPDATE SET entry = excluded.entry, snapshot_id = excluded.snapshot_id, seen_at = excluded.seen_at`,
    ),
    insertReinstatement: db.prepare(
      `INSERT INTO monitor_reinstatements (id, partner_id, state, proposed_by_id, proposed_by_label, proposed_by_roles,
         proposed_at, proposal, decided_by_id, decided_by_label, decided_at, decision_text)
       VALUES (@id, @partner_id, 'proposed', @proposed_by_id, @proposed_by_label, @proposed_by_roles, @proposed_at,
         @proposal, NULL, NULL, NULL, NULL)`,
    ),
    getReinstatement: db.prepare('SELECT * FROM monitor_reinstatements WHERE id = ?'),
    openReinstatement: db.prepare("SELECT * FROM monitor_reinstatements WHERE partner_id = ? AND state = 'proposed'"),
    decideReinstatement: db.prepare(
      `UPDATE monitor_reinstatements SET state = ?, decided_by_id = ?, decided_by_label = ?, decided_at = ?, decision_text = ?
       WHERE id = ? AND state = 'proposed'`,
    ),
  };

  return {
    async insertRun(run) {
      s.insertRun.run(run.id, run.trigger, run.startedAt);
    },
    async finishRun(id, f) {
      s.finishRun.run(f.finishedAt, f.status, JSON.stringify(f.summary), f.error, id);
    },
    async runningRuns() {
      return (s.runningRuns.all() as RunRow[]).map(toRun);
    },
    async abandonRun(id, at, error) {
      s.abandonRun.run(at, error, id);
    },
    async getRun(id) {
      const row = s.getRun.get(id) as RunRow | undefined;
      return row ? toRun(row) : null;
    },
    async recentRuns(limit) {
      return (s.recentRuns.all(limit) as RunRow[]).map(toRun);
    },

    async insertAction(a) {
      s.insertAction.run({
        id: a.id,
        run_id: a.runId,
        at: a.at,
        kind: a.kind,
        partner_id: a.partnerId,
        reason_code: a.reasonCode,
        summary: a.summary,
        evidence: JSON.stringify(a.evidence),
      });
    },
    async actionsOfRun(runId) {
      return (s.actionsOfRun.all(runId) as ActionRow[]).map(toAction);
    },
    async recentActions(limit) {
      return (s.recentActions.all(limit) as ActionRow[]).map(toAction);
    },

    async openAlert(kind, key) {
      const row = s.openAlert.get(kind, key) as AlertRow | undefined;
      return row ? toAlert(row) : null;
    },
    async insertAlert(a) {
      s.insertAlert.run({
        id: a.id,
        kind: a.kind,
        key: a.key,
        partner_id: a.partnerId,
        detail: a.detail,
        first_seen: a.firstSeen,
        last_seen: a.lastSeen,
        seen_count: a.seenCount,
        first_run_id: a.firstRunId,
        last_run_id: a.lastRunId,
      });
    },
    async touchAlert(id, f) {
      s.touchAlert.run(f.lastSeen, f.lastRunId, f.detail, id);
    },
    async closeAlertsNotSeenIn(runId, at) {
      return s.closeAlertsNotSeenIn.run(at, runId).changes;
    },
    async alertsSeenIn(runId) {
      return (s.alertsSeenIn.all(runId) as AlertRow[]).map(toAlert);
    },
    async openAlerts() {
      return (s.openAlerts.all() as AlertRow[]).map(toAlert);
    },
    async countOpenAlerts() {
      return (s.countOpenAlerts.get() as { n: number }).n;
    },

    async insertTaskOnce(t) {
      return (
        s.insertTask.run({
          id: t.id,
          kind: t.kind,
          partner_id: t.partnerId,
          dedupe_key: t.dedupeKey,
          title: t.title,
          detail: t.detail,
          evidence: JSON.stringify(t.evidence),
          run_id: t.runId,
          created_at: t.createdAt,
        }).changes === 1
      );
    },
    async getTask(id) {
      const row = s.getTask.get(id) as TaskRow | undefined;
      return row ? toTask(row) : null;
    },
    async resolveTask(id, f) {
      s.resolveTask.run(f.at, f.by.id, f.by.label, f.text, id);
    },
    async tasks(limit) {
      return (s.tasks.all(limit) as TaskRow[]).map(toTask);
    },

    async noticeSent(sha, threshold) {
      return s.noticeSent.get(sha, threshold) !== undefined;
    },
    async smallestNoticeSent(sha) {
      return (s.smallestNotice.get(sha) as { t: number | null }).t;
    },
    async insertNotice(n) {
      s.insertNotice.run(n.certificateSha256, n.thresholdDays, n.partnerId, n.sentAt, n.runId, n.queued ? 1 : 0);
    },

    async baseline(partnerId) {
      const row = s.baseline.get(partnerId) as { partner_id: string; entry: string | null; snapshot_id: string | null; seen_at: string } | undefined;
      if (!row) return null;
      return {
        partnerId: row.partner_id,
        entry: row.entry === null ? null : (JSON.parse(row.entry) as RegisterEntry),
        snapshotId: row.snapshot_id,
        seenAt: row.seen_at,
      } satisfies BaselineRecord;
    },
    async saveBaseline(b) {
      s.saveBaseline.run(b.partnerId, b.entry === null ? null : JSON.stringify(b.entry), b.snapshotId, b.seenAt);
    },

    async insertReinstatement(r) {
      s.insertReinstatement.run({
        id: r.id,
        partner_id: r.partnerId,
        proposed_by_id: r.proposedBy.id,
        proposed_by_label: r.proposedBy.label,
        proposed_by_roles: JSON.stringify(r.proposedByRoles),
        proposed_at: r.proposedAt,
        proposal: r.proposal,
      });
    },
    async getReinstatement(id) {
      const row = s.getReinstatement.get(id) as ReinstatementRow | undefined;
      return row ? toReinstatement(row) : null;
    },
    async openReinstatement(partnerId) {
      const row = s.openReinstatement.get(partnerId) as ReinstatementRow | undefined;
      return row ? toReinstatement(row) : null;
    },
    async decideReinstatement(id, f) {
      s.decideReinstatement.run(f.state, f.by.id, f.by.label, f.at, f.text, id);
    },
  };
}
