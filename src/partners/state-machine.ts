/**
 * The application state machine: the one table of allowed steps. Every state change in the service goes
 * through `nextState`, so a step that is not in the table cannot happen, whatever a page or a caller asks.
 *
 * Where one event can lead to two states (an approval that needs a second approver or not), the row says
 * under which condition it applies; the service decides the condition from policy (risk tier, knock-outs,
 * conditions), the table decides whether the step exists at all.
 */
import type { ApplicationState, Holder } from './types.js';
import { IllegalTransitionError, stateWords } from './errors.js';

export const APPLICATION_EVENTS = [
  'submit',
  'auto_approve',
  'start_review',
  'request_changes',
  'resubmit',
  'approve',
  'approve_with_conditions',
  'second_approve',
  'reject',
  'withdraw',
] as const;
export type ApplicationEvent = (typeof APPLICATION_EVENTS)[number];

/** What the service knows when choosing between two targets of one event. */
export interface TransitionFacts {
  /** The approval needs a second approver (four eyes). */
  secondApproval?: boolean;
  /** The (first) approval carries conditions. */
  conditions?: boolean;
}

export interface TransitionRule {
  from: ApplicationState;
  event: ApplicationEvent;
  to: ApplicationState;
  /** The row applies only when this holds; rows without it always apply. */
  when?: (f: TransitionFacts) => boolean;
}

const needsSecond = (f: TransitionFacts) => f.secondApproval === true;
const noSecond = (f: TransitionFacts) => f.secondApproval !== true;
const withConditions = (f: TransitionFacts) => f.conditions === true;
const withoutConditions = (f: TransitionFacts) => f.conditions !== true;

export const TRANSITIONS: readonly TransitionRule[] = [
  { from: 'draft', event: 'submit', to: 'submitted' },
  { from: 'submitted', event: 'auto_approve', to: 'approved' },
  { from: 'submitted', event: 'start_review', to: 'under_review' },
  { from: 'under_review', event: 'request_changes', to: 'changes_requested' },
  { from: 'changes_requested', event: 'resubmit', to: 'under_review' },
  { from: 'under_review', event: 'approve', to: 'awaiting_second_approval', when: needsSecond },
  { from: 'under_review', event: 'approve', to: 'approved', when: noSecond },
  { from: 'under_review', event: 'approve_with_conditions', to: 'awaiting_second_approval', when: needsSecond },
  { from: 'under_review', event: 'approve_with_conditions', to: 'conditionally_approved', when: noSecond },
  { from: 'awaiting_second_approval', event: 'second_approve', to: 'conditionally_approved', when: withConditions },
  { from: 'awaiting_second_approval', event: 'second_approve', to: 'approved', when: withoutConditions },
  { from: 'under_review', event: 'reject', to: 'rejected' },
  { from: 'awaiting_second_approval', event: 'reject', to: 'rejected' },
  { from: 'draft', event: 'withdraw', to: 'withdrawn' },
  { from: 'submitted', event: 'withdraw', to: 'withdrawn' },
  { from: 'under_review', event: 'withdraw', to: 'withdrawn' },
  { from: 'changes_requested', event: 'withdraw', to: 'withdrawn' },
  { from: 'awaiting_second_approval', event: 'withdraw', to: 'withdrawn' },
];

const EVENT_WORDS: Record<ApplicationEvent, string> = {
  submit: 'submitted',
  auto_approve: 'approved automatically',
  start_review: 'taken into review',
  request_changes: 'sent back for changes',
  resubmit: 'resubmitted',
  approve: 'approved',
  approve_with_conditions: 'approved with conditions',
  second_approve: 'given a second approval',
  reject: 'rejected',
  withdraw: 'withdrawn',
};

/** Every target the event can reach from the state (empty when the step does not exist). */
export function targets(from: ApplicationState, event: ApplicationEvent): ApplicationState[] {
  return TRANSITIONS.filter((r) => r.from === from && r.event === event).map((r) => r.to);
}

export function canTransition(from: ApplicationState, event: ApplicationEvent): boolean {
  return TRANSITIONS.some((r) => r.from === from && r.event === event);
}

/** The state the event leads to, or `partners.illegal_transition` (409). */
export function nextState(from: ApplicationState, event: ApplicationEvent, facts: TransitionFacts = {}): ApplicationState {
  const rule = TRANSITIONS.find((r) => r.from === from && r.event === event && (r.when === undefined || r.when(facts)));
  if (!rule) throw new IllegalTransitionError(`This application is ${stateWords(from)}: it cannot be ${EVENT_WORDS[event]}.`);
  return rule.to;
}

/** Who acts next in each state. */
export const HOLDER: Record<ApplicationState, Holder> = {
  draft: 'applicant',
  submitted: 'bank',
  under_review: 'bank',
  changes_requested: 'applicant',
  awaiting_second_approval: 'bank',
  approved: 'none',
  conditionally_approved: 'none',
  rejected: 'none',
  withdrawn: 'none',
};

/** Profile, certificates, answers and evidence may change only here. */
export const EDITABLE_STATES: ReadonlySet<ApplicationState> = new Set(['draft', 'changes_requested']);

export const FINAL_STATES: ReadonlySet<ApplicationState> = new Set([
  'approved',
  'conditionally_approved',
  'rejected',
  'withdrawn',
]);

// --- partner (organisation) lifecycle ----------------------------------------------------------------

export type PartnerEvent = 'suspend' | 'reinstate';

const PARTNER_TRANSITIONS: readonly { from: 'active' | 'suspended'; event: PartnerEvent; to: 'active' | 'suspended' }[] = [
  { from: 'active', event: 'suspend', to: 'suspended' },
  { from: 'suspended', event: 'reinstate', to: 'active' },
];

export function nextPartnerStatus(from: 'active' | 'suspended', event: PartnerEvent): 'active' | 'suspended' {
  const rule = PARTNER_TRANSITIONS.find((r) => r.from === from && r.event === event);
  if (!rule) {
    throw new IllegalTransitionError(
      `This partner is ${from}: it cannot be ${event === 'suspend' ? 'suspended' : 'reinstated'}.`,
    );
  }
  return rule.to;
}
