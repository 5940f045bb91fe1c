/** The application state machine: every (state, event) pair, legal or not. */
import assert from 'node:assert/strict';
import { AppError } from '../../src/errors.js';
import {
  APPLICATION_EVENTS,
  canTransition,
  EDITABLE_STATES,
  HOLDER,
  nextPartnerStatus,
  nextState,
  type ApplicationEvent,
  type TransitionFacts,
} from '../../src/partners/state-machine.js';
import { APPLICATION_STATES, type ApplicationState } from '../../src/partners/types.js';

/** The expected table, written out independently of the implementation: state → event → target by facts. */
const EXPECTED: Partial<Record<ApplicationState, Partial<Record<ApplicationEvent, (f: TransitionFacts) => ApplicationState>>>> = {
  draft: { submit: () => 'submitted', withdraw: () => 'withdrawn' },
  submitted: { auto_approve: () => 'approved', start_review: () => 'under_review', withdraw: () => 'withdrawn' },
  under_review: {
    request_changes: () => 'changes_requested',
    approve: (f) => (f.secondApproval ? 'awaiting_second_approval' : 'approved'),
    approve_with_conditions: (f) => (f.secondApproval ? 'awaiting_second_approval' : 'conditionally_approved'),
    reject: () => 'rejected',
    withdraw: () => 'withdrawn',
  },
  changes_requested: { resubmit: () => 'under_review', withdraw: () => 'withdrawn' },
  awaiting_second_approval: {
    second_approve: (f) => (f.conditions ? 'conditionally_approved' : 'approved'),
    reject: () => 'rejected',
    withdraw: () => 'withdrawn',
  },
};

const FACTS: TransitionFacts[] = [{}, { secondApproval: true }, { conditions: true }, { secondApproval: true, conditions: true }];

describe('partners: state machine', () => {
  for (const state of APPLICATION_STATES) {
    for (const event of APPLICATION_EVENTS) {
      const expected = EXPECTED[state]?.[event];
      if (expected) {
        it(`${state} --${event}--> allowed`, () => {
          assert.equal(canTransition(state, event), true);
          for (const f of FACTS) assert.equal(nextState(state, event, f), expected(f), JSON.stringify(f));
        });
      } else {
        it(`${state} --${event}--> refused (409 partners.illegal_transition)`, () => {
          assert.equal(canTransition(state, event), false);
          for (const f of FACTS) {
            assert.throws(
              () => nextState(state, event, f),
              (err: unknown) => {
                assert.ok(err instanceof AppError);
                assert.equal(err.code, 'partners.illegal_transition');
                assert.equal(err.status, 409);
                assert.match(err.message, new RegExp(`^This application is ${state.replace(/_/g, ' ')}: it cannot be `));
                return true;
              },
            );
          }
        });
      }
    }
  }

  it('says who holds each state, and only draft and changes requested are editable', () => {
    assert.deepEqual(
      APPLICATION_STATES.filter((s) => HOLDER[s] === 'applicant'),
      ['draft', 'changes_requested'],
    );
    assert.deepEqual(
      APPLICATION_STATES.filter((s) => HOLDER[s] === 'none'),
      ['approved', 'conditionally_approved', 'rejected', 'withdrawn'],
    );
    assert.deepEqual([...EDITABLE_STATES].sort(), ['changes_requested', 'draft']);
  });

  it('final states have no way out', () => {
    for (const s of ['approved', 'conditionally_approved', 'rejected', 'withdrawn'] as const) {
      assert.deepEqual(APPLICATION_EVENTS.filter((e) => canTransition(s, e)), []);
    }
  });

  it('partner status: suspend active, reinstate suspended, nothing else', () => {
    assert.equal(nextPartnerStatus('active', 'suspend'), 'suspended');
    assert.equal(nextPartnerStatus('suspended', 'reinstate'), 'active');
    for (const [from, event] of [
      ['active', 'reinstate'],
      ['suspended', 'suspend'],
    ] as const) {
      assert.throws(() => nextPartnerStatus(from, event), (e: unknown) => e instanceof AppError && e.status === 409 && e.code === 'partners.illegal_transition');
    }
  });
});
