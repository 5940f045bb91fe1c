/**
 * What the officers' monitor page and the CLI show, shaped on purpose from the service's views.
 */
import { formatDate } from '../partners/view-models.js';
import type {
  MonitorActionKind,
  MonitorAlertKind,
  MonitorOverview,
  MonitorRunReport,
  MonitorRunSummary,
  MonitorRunView,
  MonitorTaskKind,
} from './types.js';

const ALERT_TEXT: Record<MonitorAlertKind, string> = {
  revocation_unavailable: 'Revocation status unavailable',
  revocation_not_checked: 'Revocation not checked',
  certificate_invalid: 'Certificate no longer validates',
  register_source: 'Register source unusable',
  register_empty: 'No register loaded',
  action_failed: 'Action failed',
  run_failed: 'Pass failed',
};

const ACTION_TEXT: Record<MonitorActionKind, string> = {
  suspend: 'Suspended',
  narrow_roles: 'Roles narrowed',
  expiry_notice: 'Expiry notice',
  register_import: 'Register imported',
  task: 'Task opened',
};

const TASK_TEXT: Record<MonitorTaskKind, string> = {
  register_name_change: 'Name change',
  register_entry_missing: 'Entry missing',
  register_withdrawn: 'Withdrawn while suspended',
  reinstatement_offer: 'Re-authorised',
  certificate_problem: 'Certificate problem',
};

type PartnerLink = { id: string; name: string } | null;

export interface MonitorPage {
  alerts: { id: string; kindText: string; detail: string; firstSeen: string; lastSeen: string; seenCount: number; partner: PartnerLink }[];
  tasks: {
    id: string;
    kindText: string;
    title: string;
    detail: string;
    partner: PartnerLink;
    createdAt: string;
    open: boolean;
    resolved: string | null;
    evidenceJson: string;
  }[];
  suspended: {
    partnerId: string;
    legalName: string;
    reasonCode: string | null;
    reason: string | null;
    suspendedAt: string;
    by: string;
    proposal: { id: string; by: string; byId: string; at: string; text: string } | null;
  }[];
  actions: { id: string; at: string; kindText: string; kind: MonitorActionKind; partner: PartnerLink; reasonCode: string | null; summary: string; evidenceJson: string }[];
  runs: { id: string; startedAt: string; finishedAt: string; status: string; statusCls: string; trigger: string; summaryText: string; error: string | null }[];
}

export function summaryText(s: MonitorRunSummary | null): string {
  if (!s) return '';
  const acts = Object.entries(s.actions)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([k, n]) => `${n} ${ACTION_TEXT[k as MonitorActionKind].toLowerCase()}`);
  const parts = [
    `${s.partnersChecked} partner${s.partnersChecked === 1 ? '' : 's'}, ${s.certificatesChecked} certificate${s.certificatesChecked === 1 ? '' : 's'} checked`,
    acts.length ? acts.join(', ') : 'no actions',
    `${s.alertsOpen} open alert${s.alertsOpen === 1 ? '' : 's'}${s.alertsOpened ? ` (${s.alertsOpened} new)` : ''}`,
  ];
  if (s.register.error) parts.push(`register: ${s.register.error}`);
  else if (s.register.imported) parts.push('register re-imported');
  return parts.join('; ');
}

function runRow(r: MonitorRunView): MonitorPage['runs'][number] {
  return {
    id: r.id,
    startedAt: formatDate(r.startedAt),
    finishedAt: formatDate(r.finishedAt),
    status: r.status,
    statusCls: `badge badge-run-${r.status}`,
    trigger: r.trigger,
    summaryText: summaryText(r.summary),
    error: r.error,
  };
}

export function monitorPage(o: MonitorOverview): MonitorPage {
  const link = (id: string | null): PartnerLink => (id ? { id, name: o.partnerNames[id] ?? id } : null);
  return {
    alerts: o.alerts.map((a) => ({
      id: a.id,
      kindText: ALERT_TEXT[a.kind],
      detail: a.detail,
      firstSeen: formatDate(a.firstSeen),
      lastSeen: formatDate(a.lastSeen),
      seenCount: a.seenCount,
      partner: link(a.partnerId),
    })),
    tasks: o.tasks.map((t) => ({
      id: t.id,
      kindText: TASK_TEXT[t.kind],
      title: t.title,
      detail: t.detail,
      partner: link(t.partnerId),
      createdAt: formatDate(t.createdAt),
      open: t.state === 'open',
      resolved: t.state === 'done' ? `Reviewed by ${t.resolvedBy ?? 'unknown'} on ${formatDate(t.resolvedAt)}: ${t.resolution ?? ''}` : null,
      evidenceJson: JSON.stringify(t.evidence, null, 2),
    })),
    suspended: o.suspended.map((s) => ({
      partnerId: s.partnerId,
      legalName: s.legalName,
      reasonCode: s.reasonCode,
      reason: s.reason,
      suspendedAt: formatDate(s.suspendedAt),
      by: s.suspendedBy,
      proposal: s.proposal
        ? { id: s.proposal.id, by: s.proposal.proposedBy.label, byId: s.proposal.proposedBy.id, at: formatDate(s.proposal.proposedAt), text: s.proposal.proposal }
        : null,
    })),
    actions: o.actions.map((a) => ({
      id: a.id,
      at: formatDate(a.at),
      kind: a.kind,
      kindText: ACTION_TEXT[a.kind],
      partner: link(a.partnerId),
      reasonCode: a.reasonCode,
      summary: a.summary,
      evidenceJson: JSON.stringify(a.evidence, null, 2),
    })),
    runs: o.runs.map(runRow),
  };
}

/** The CLI's summary of one pass. */
export function formatRunReport(r: MonitorRunReport): string {
  const lines = [
    `Monitor pass ${r.id} (${r.trigger}): ${r.status}`,
    `  started   ${r.startedAt}`,
    `  finished  ${r.finishedAt ?? '-'}`,
  ];
  if (r.error) lines.push(`  error     ${r.error}`);
  if (r.summary) lines.push(`  summary   ${summaryText(r.summary)}`);
  if (r.actions.length) {
    lines.push('  actions');
    for (const a of r.actions) lines.push(`    - ${ACTION_TEXT[a.kind]}${a.reasonCode ? ` (${a.reasonCode})` : ''}: ${a.summary}`);
  }
  if (r.alerts.length) {
    lines.push('  alerts (open)');
    for (const a of r.alerts) lines.push(`    - ${ALERT_TEXT[a.kind]}: ${a.detail}`);
  }
  return lines.join('\n');
}
