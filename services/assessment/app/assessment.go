// Package app holds assessment's commands and queries. Every command runs
// through the platform's command template (command.Run): it loads the
// request's history, folds the case, asks the domain, encodes the domain's
// events (package codec) and appends them under the optimistic-concurrency
// check of the event store, so two reviewers acting at once can never both
// change one case on stale views. The app takes and returns domain and app
// types; ports converts them to and from the RPC messages.
package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/viewcache"
)

// Adequacy answers whether a country gives an adequate level of protection
// on a date (clause 4.2.1), and why. In production it is
// (*policy.AdequacyRegistry).IsAdequate of the process's registry: the same
// judgement notification makes for the hold (see package policy).
type Adequacy func(country string, at time.Time) (adequate bool, reason string)

// Config tunes assessment.
type Config struct {
	// Policy is the base policy with its jurisdiction overlays (1.2).
	Policy domain.Config
	// Adequacy tells whether the authority's country is adequate (4.2.1).
	Adequacy Adequacy
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Directory is the authority directory with its flags (issue 18,
	// verification.go); nil: the embedded example.
	Directory *Directory
	// VerifyScope: which disclosures beyond emergency ones need a confirmed
	// verification of the requester; empty: VerifyEmergency. Used only
	// without Scopes (tests): a service reads the stored setting.
	VerifyScope VerifyScope
	// Scopes is the stored verification scope under the two-person rule
	// (verifyscope.go); nil: VerifyScope.
	Scopes *VerifyScopes
	// Calendars count the deadlines (issue 18); default the embedded file.
	Calendars deadline.Calendars
}

// Store is the part of the event store assessment uses.
type Store interface {
	command.Store
	Load(ctx context.Context, requestID string) (eventstore.History, error)
}

// Assessment runs assessment's commands.
type Assessment struct {
	cfg   Config
	store Store
	// cases keeps the cases GetCase folded (platform/viewcache).
	cases *viewcache.Cache[*CaseState]
}

// New returns an Assessment. A policy configuration that would switch a rule
// off, or an overlay that loosens one, is refused here, so the service does
// not start with it (1.2).
func New(cfg Config, store Store) (*Assessment, error) {
	if err := cfg.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("assessment policy: %w", err)
	}
	if cfg.Adequacy == nil {
		return nil, errors.New("assessment: an adequacy registry is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := checkCalendars(&cfg); err != nil { // clocks.go
		return nil, err
	}
	return &Assessment{cfg: cfg, store: store, cases: viewcache.For[*CaseState](store, 0)}, nil
}

// requests is the command template on a request's case whether or not it
// is open yet: opening a case and marking it overdue decide for themselves
// what a missing case means.
var requests = command.Spec[*CaseState, domain.Event]{
	Fold: Fold,
	Encode: func(s *CaseState, c command.Call, evs []domain.Event) ([]eventstore.Event, error) {
		return s.encoder(c).Encode(evs)
	},
	Apply: func(s *CaseState, ev eventstore.Event) (*CaseState, error) { return s, s.Apply(ev) },
}

// cases is the template of the Privacy Team's commands: a request without
// an open case is NOT_FOUND.
var cases = func() command.Spec[*CaseState, domain.Event] {
	s := requests
	s.Exists = func(s *CaseState, _ command.Call) bool { return s.Case.Opened() }
	return s
}()

// OpenCase opens the case of a received request, on the facts read from
// intake's RequestReceived (the country's adequacy is judged here).
// triggerID is the id of that event: the CaseOpened id derives from it, and
// the history check returns nothing for a case already open, so a
// redelivery opens nothing twice. A request withdrawn before its case
// opened gets none.
//
// submitted is when intake recorded the request (zero when unknown): the
// delay from it to the case opened is the clause 3.1 service-level
// indicator.
func (a *Assessment) OpenCase(ctx context.Context, triggerID string, facts domain.RequestFacts, submitted time.Time) error {
	return a.openCase(ctx, triggerID, facts, nil, submitted)
}

// openCase opens the case; with req, the requester is matched to the
// authority directory too (OpenReceivedCase).
func (a *Assessment) openCase(ctx context.Context, triggerID string, facts domain.RequestFacts, req *authority.Requester, submitted time.Time) error {
	adequate, reason := a.cfg.Adequacy(facts.AuthorityCountry, facts.ReceivedAt)
	facts.CountryAdequate = adequate
	spec := requests
	spec.Encode = func(s *CaseState, c command.Call, evs []domain.Event) ([]eventstore.Event, error) {
		e := s.encoder(c)
		e.AdequacyReason = reason
		return e.Encode(evs)
	}
	call := command.Call{RequestID: facts.RequestID, Now: a.cfg.Now().UTC(), Trigger: triggerID}
	res, err := command.Run(ctx, a.store, spec, call, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		if st.Case.Opened() || !st.Case.WithdrawnAt().IsZero() {
			return nil, nil
		}
		evs, err := st.Case.OpenWithClocks(facts, a.cfg.Policy, a.cfg.Calendars, c.Actor, c.Now)
		if err != nil || req == nil {
			return evs, err
		}
		return a.checkRequester(ctx, evs, *req, c.Now)
	})
	if err == nil && len(res.Events) > 0 && !submitted.IsZero() {
		slo().caseOpen.Record(ctx, since(submitted, call.Now))
	}
	return err
}

// Get returns the case of a request, read from the record.
func (a *Assessment) Get(ctx context.Context, requestID string) (*CaseState, error) {
	h, err := a.store.Load(ctx, requestID)
	if err != nil {
		return nil, err
	}
	st, err := Fold(h)
	if err != nil {
		return nil, err
	}
	if !st.Case.Opened() {
		return nil, fmt.Errorf("%w: no case is open for request %s", ddrerr.ErrNotFound, requestID)
	}
	return st, nil
}

// View is [Assessment.Get] for the staff's GetCase: the case folded by an
// earlier call is served again while the request has no new event
// (platform/viewcache). It is shared between calls: read it, never change
// it.
func (a *Assessment) View(ctx context.Context, requestID string) (*CaseState, error) {
	st, err := a.cases.Get(ctx, requestID, func(ctx context.Context) (*CaseState, uint64, error) {
		h, err := a.store.Load(ctx, requestID)
		if err != nil {
			return nil, 0, err
		}
		st, err := Fold(h)
		return st, h.LastSeq, err
	})
	if err != nil {
		return nil, err
	}
	if !st.Case.Opened() {
		return nil, fmt.Errorf("%w: no case is open for request %s", ddrerr.ErrNotFound, requestID)
	}
	return st, nil
}

// run runs one Privacy Team command on an open case and answers with the
// case as the append left it.
func (a *Assessment) run(ctx context.Context, actor, requestID string, decide command.Decide[*CaseState, domain.Event]) (*CaseState, error) {
	return a.runSpec(ctx, actor, requestID, cases, decide)
}

// runSpec is [Assessment.run] on the command template base.
func (a *Assessment) runSpec(ctx context.Context, actor, requestID string, base command.Spec[*CaseState, domain.Event], decide command.Decide[*CaseState, domain.Event]) (*CaseState, error) {
	call := command.NewCall(requestID, actor, a.cfg.Now())
	// Whether this is the first reviewer's step, for the emergency-review
	// indicator: known from the history the command folds.
	first := false
	spec := base
	spec.Fold = func(h eventstore.History) (*CaseState, error) {
		first = !reviewed(h)
		return base.Fold(h)
	}
	// A command that sends the case back to review (a confirmed challenge
	// outcome, a fact corrected) restarts its review clock (3.1).
	res, err := command.Run(ctx, a.store, spec, call, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		evs, err := decide(st, c)
		if err != nil {
			return nil, err
		}
		return st.Case.RestartReviewClock(evs, a.cfg.Calendars, c.Now)
	})
	if err != nil {
		return nil, err
	}
	observeFirstReview(ctx, first, res.State, res.Events, call.Now)
	return res.State, nil
}

// Claim assigns the case to actor, or to assignee when that is someone else.
func (a *Assessment) Claim(ctx context.Context, actor, requestID, assignee string) (*CaseState, error) {
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		if assignee == "" || assignee == actor {
			return st.Case.Claim(actor, c.Now)
		}
		return st.Case.Assign(assignee, actor, c.Now)
	})
}

// FactorInput is one factor assessment of RecordFactors.
type FactorInput struct {
	Factor     domain.Factor
	Assessment string
}

// RecordFactors records factor assessments (3.3) and, when rights is set,
// how the affected people's rights were weighed (2.1), as one event.
func (a *Assessment) RecordFactors(ctx context.Context, actor, requestID string, factors []FactorInput, rights string) (*CaseState, error) {
	var v ddrerr.Collector
	if len(factors) == 0 && strings.TrimSpace(rights) == "" {
		v.Add("factors", "record at least one factor or the rights assessment")
	}
	seen := map[domain.Factor]bool{}
	for i, f := range factors {
		if seen[f.Factor] {
			v.Add("factors["+strconv.Itoa(i)+"].factor", "listed twice")
		}
		seen[f.Factor] = true
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		var out []domain.Event
		for i, f := range factors {
			evs, err := st.Case.RecordFactor(f.Factor, f.Assessment, actor, c.Now)
			if err != nil {
				return nil, prefixFields(err, "factors["+strconv.Itoa(i)+"].")
			}
			out = append(out, evs...)
		}
		if rights != "" {
			evs, err := st.Case.WeighRights(rights, actor, c.Now)
			if err != nil {
				return nil, renameFields(err, map[string]string{"text": "rights_assessment"})
			}
			out = append(out, evs...)
		}
		return out, nil
	})
}

// Consultation is a consultation of counsel to record.
type Consultation struct {
	Kind        domain.CounselKind
	Counsel     string
	ConsultedAt time.Time
	Summary     string
}

// RecordCounsel records a consultation of counsel (3.3).
func (a *Assessment) RecordCounsel(ctx context.Context, actor, requestID string, k Consultation) (*CaseState, error) {
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		evs, err := st.Case.RecordCounselNamed(k.Kind, k.Counsel, k.ConsultedAt, k.Summary, actor, c.Now)
		return evs, renameFields(err, map[string]string{
			"kind": "consultation.kind", "consulted_at": "consultation.consult_time", "summary": "consultation.summary",
		})
	})
}

// ConsiderChallenge records whether a challenge is warranted and why (3.3).
func (a *Assessment) ConsiderChallenge(ctx context.Context, actor, requestID string, warranted bool, reasoning string) (*CaseState, error) {
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		return st.Case.ConsiderChallenge(warranted, reasoning, actor, c.Now)
	})
}

// Decide takes decision d. With expectedVersion set, the decision applies
// only to the case at that version: a reviewer who decided on a view that
// has since changed gets ErrConflict (ABORTED) and must look again.
func (a *Assessment) Decide(ctx context.Context, actor, requestID string, d domain.Decision, expectedVersion uint64) (*CaseState, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	d.ID = id.String()
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		if expectedVersion != 0 && st.Version != expectedVersion {
			return nil, fmt.Errorf("%w: the case changed since version %d (it is now at %d); reload it and decide again",
				ddrerr.ErrConflict, expectedVersion, st.Version)
		}
		evs, err := st.Case.Decide(d, actor, c.Now)
		return evs, renameFields(err, decisionFields)
	})
}

// decisionFields maps the domain's field names onto DecideRequest's.
var decisionFields = map[string]string{
	"decision.kind":                      "kind",
	"decision.basis":                     "legal_basis",
	"decision.narrowing":                 "scope",
	"decision.grounds":                   "grounds",
	"decision.statute":                   "statute",
	"decision.narrowing.target_ids":      "scope.target_refs",
	"decision.narrowing.data_categories": "scope.data_categories",
	"decision.narrowing.time_range":      "scope.time_range",
}

// Approve approves the pending disclosure decisionID (four eyes) as who,
// with the roles the authorization policy gave them: some disclosures need
// a legal approver (2.1).
func (a *Assessment) Approve(ctx context.Context, who policy.Person, requestID, decisionID string) (*CaseState, error) {
	return a.run(ctx, who.ID, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		if err := st.checkPending(decisionID); err != nil {
			return nil, err
		}
		return st.Case.ApproveAs(who, c.Now)
	})
}

// JustifyImminentRisk records the reviewer's justification of an imminent
// risk the authority did not claim (2.1).
func (a *Assessment) JustifyImminentRisk(ctx context.Context, actor, requestID, text string) (*CaseState, error) {
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		evs, err := st.Case.JustifyImminentRisk(text, actor, c.Now)
		return evs, renameFields(err, map[string]string{"text": "justification"})
	})
}

// ProposeChallengeOutcome records, for one person, the outcome of the
// challenge judged warranted, with its basis and evidence reference (3.3).
func (a *Assessment) ProposeChallengeOutcome(ctx context.Context, actor, requestID string, o domain.ChallengeOutcome, basis, evidence string) (*CaseState, error) {
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		evs, err := st.Case.ProposeChallengeOutcome(o, basis, evidence, actor, c.Now)
		return evs, renameFields(err, map[string]string{"evidence": "evidence_reference"})
	})
}

// ConfirmChallengeOutcome is the second person confirming the pending
// challenge outcome; the domain checks their roles (legal) and that they
// did not record it.
func (a *Assessment) ConfirmChallengeOutcome(ctx context.Context, who policy.Person, requestID string) (*CaseState, error) {
	return a.run(ctx, who.ID, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		return st.Case.ConfirmChallengeOutcome(who, c.Now)
	})
}

// RejectDecision sends the pending disclosure decisionID back to review.
func (a *Assessment) RejectDecision(ctx context.Context, actor, requestID, decisionID, reason string) (*CaseState, error) {
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		if err := st.checkPending(decisionID); err != nil {
			return nil, err
		}
		return st.Case.RejectProposal(reason, actor, c.Now)
	})
}

// checkPending refuses to act on a decision other than the pending one; when
// none is pending the domain explains the case's status.
func (s *CaseState) checkPending(decisionID string) error {
	if p := s.PendingDecisionID(); p != "" && p != decisionID {
		return fmt.Errorf("%w: decision %s is not the one awaiting approval", ddrerr.ErrFailedPrecondition, decisionID)
	}
	return nil
}

// Overdue is the outcome of MarkOverdue.
type Overdue struct {
	// Recorded: the case passed its review deadline undecided and this
	// call recorded it (at most one call per case does).
	Recorded bool
	// Urgent: the case is an emergency or imminent-risk one.
	Urgent bool
}

// MarkOverdue records once that the case passed its review deadline
// undecided. The event id derives from the request, so replicas racing
// each other write it once.
func (a *Assessment) MarkOverdue(ctx context.Context, requestID string) (Overdue, error) {
	res, err := command.Run(ctx, a.store, requests, command.NewCall(requestID, "", a.cfg.Now()),
		func(st *CaseState, c command.Call) ([]domain.Event, error) { return st.Case.MarkOverdue(c.Now) })
	if err != nil {
		return Overdue{}, err
	}
	return Overdue{Recorded: len(res.Events) > 0, Urgent: res.State.Case.Facts().Urgent()}, nil
}

// renameFields rewrites the field paths of a validation error; other errors
// pass unchanged.
func renameFields(err error, names map[string]string) error {
	var ve *ddrerr.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := make([]ddrerr.FieldViolation, len(ve.Violations))
	for i, v := range ve.Violations {
		if n, ok := names[v.Field]; ok {
			v.Field = n
		}
		out[i] = v
	}
	return ddrerr.Invalid(out...)
}

func prefixFields(err error, prefix string) error {
	var ve *ddrerr.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := make([]ddrerr.FieldViolation, len(ve.Violations))
	for i, v := range ve.Violations {
		if v.Field != "actor" {
			v.Field = prefix + v.Field
		}
		out[i] = v
	}
	return ddrerr.Invalid(out...)
}
