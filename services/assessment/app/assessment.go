// Package app holds assessment's commands and queries. Every command loads
// the request's history, folds the case, asks the domain, maps the domain's
// events onto the wire events and appends them under the optimistic-
// concurrency check of the event store, so two reviewers acting at once can
// never both change one case on stale views.
package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// Service is the event-source name of assessment's events.
const Service = "assessment"

// Config tunes assessment.
type Config struct {
	// Policy is the base policy with its jurisdiction overlays (1.2).
	Policy domain.Config
	// Adequacy tells whether the authority's country is adequate (4.2.1).
	Adequacy Adequacy
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Store is the part of the event store assessment uses.
type Store interface {
	Load(ctx context.Context, requestID string) (eventstore.History, error)
	Update(ctx context.Context, requestID string, decide eventstore.Decide) ([]eventstore.Event, error)
}

// Assessment runs assessment's commands.
type Assessment struct {
	cfg     Config
	store   Store
	overdue metric.Int64Counter
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
	overdue, err := otel.Meter("github.com/ddrsuite/ddr/services/assessment").Int64Counter(
		"ddr.assessment.cases_overdue",
		metric.WithDescription("Cases that passed their review deadline undecided"),
	)
	if err != nil {
		return nil, err
	}
	return &Assessment{cfg: cfg, store: store, overdue: overdue}, nil
}

func (a *Assessment) now() time.Time { return a.cfg.Now().UTC() }

func notFound(requestID string) error {
	return fmt.Errorf("%w: no case is open for request %s", ddrerr.ErrNotFound, requestID)
}

// OpenCase opens the case of a received request. triggerID is the id of the
// RequestReceived event: the CaseOpened id derives from it, and the history
// check returns nothing for a case already open, so a redelivery opens
// nothing twice. A request withdrawn before its case opened gets none.
func (a *Assessment) OpenCase(ctx context.Context, triggerID string, rr *intakev1.RequestReceived) error {
	now := a.now()
	opened, err := a.store.Update(ctx, rr.GetRequestId(), func(h eventstore.History) ([]eventstore.Event, error) {
		st, err := Fold(h)
		if err != nil {
			return nil, err
		}
		if st.Case.Opened() || !st.Case.WithdrawnAt().IsZero() {
			return nil, nil
		}
		facts, reason := FactsFromReceived(rr, a.cfg.Adequacy)
		evs, err := st.Case.Open(facts, a.cfg.Policy, "", now)
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		o := evs[0].(domain.CaseOpened)
		return []eventstore.Event{{
			ID:        eventstore.DerivedID(triggerID, "assessment.opened"),
			RequestID: o.RequestID,
			Service:   Service,
			Name:      "opened",
			Time:      now,
			Payload: &assessmentv1.CaseOpened{
				RequestId:     o.RequestID,
				Flags:         flagsToProto(o.Flags),
				PolicyVersion: o.Rules.PolicyVersion,
				OpenTime:      ts(o.At),
				ReviewDueTime: ts(o.ReviewDue),
				Requirements:  openingRequirements(o.Facts, o.Rules),
				Facts:         factsToProto(o.Facts, reason),
				Rules:         rulesToProto(o.Rules),
			},
		}}, nil
	})
	if err == nil && len(opened) > 0 {
		slo().caseOpen.Record(ctx, since(rr.GetSubmitTime().AsTime(), now))
	}
	return err
}

// Get returns the case of a request, read from the record.
func (a *Assessment) Get(ctx context.Context, requestID string) (*assessmentv1.Case, error) {
	h, err := a.store.Load(ctx, requestID)
	if err != nil {
		return nil, err
	}
	st, err := Fold(h)
	if err != nil {
		return nil, err
	}
	if !st.Case.Opened() {
		return nil, notFound(requestID)
	}
	return st.Proto(a.now()), nil
}

// run is the shape of every command: fold, decide, encode, append with the
// concurrency check (retried on conflict), then answer with the case as the
// append left it.
func (a *Assessment) run(ctx context.Context, requestID string, decide func(st *CaseState, now time.Time) ([]domain.Event, error)) (*assessmentv1.Case, error) {
	now := a.now()
	var st *CaseState
	first := false
	appended, err := a.store.Update(ctx, requestID, func(h eventstore.History) ([]eventstore.Event, error) {
		s, err := Fold(h)
		if err != nil {
			return nil, err
		}
		if !s.Case.Opened() {
			return nil, notFound(requestID)
		}
		st, first = s, !reviewed(h)
		evs, err := decide(s, now)
		if err != nil {
			return nil, err
		}
		return encode(s, evs, now)
	})
	if err != nil {
		return nil, err
	}
	observeFirstReview(ctx, first, st, appended, now)
	for _, ev := range appended {
		if err := st.Apply(ev); err != nil {
			return nil, err
		}
	}
	return st.Proto(now), nil
}

// Claim assigns the case to actor, or to assignee when that is someone else.
func (a *Assessment) Claim(ctx context.Context, actor, requestID, assignee string) (*assessmentv1.Case, error) {
	return a.run(ctx, requestID, func(st *CaseState, now time.Time) ([]domain.Event, error) {
		if assignee == "" || assignee == actor {
			return st.Case.Claim(actor, now)
		}
		return st.Case.Assign(assignee, actor, now)
	})
}

// FactorInput is one factor assessment of RecordFactors.
type FactorInput struct {
	Factor     assessmentv1.Factor
	Assessment string
}

// RecordFactors records factor assessments (3.3) and, when rights is set,
// how the affected people's rights were weighed (2.1), as one event.
func (a *Assessment) RecordFactors(ctx context.Context, actor, requestID string, factors []FactorInput, rights string) (*assessmentv1.Case, error) {
	var v ddrerr.Collector
	if len(factors) == 0 && strings.TrimSpace(rights) == "" {
		v.Add("factors", "record at least one factor or the rights assessment")
	}
	seen := map[assessmentv1.Factor]bool{}
	for i, f := range factors {
		if seen[f.Factor] {
			v.Add("factors["+strconv.Itoa(i)+"].factor", "listed twice")
		}
		seen[f.Factor] = true
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return a.run(ctx, requestID, func(st *CaseState, now time.Time) ([]domain.Event, error) {
		var out []domain.Event
		for i, f := range factors {
			evs, err := st.Case.RecordFactor(factorToDomain(f.Factor), f.Assessment, actor, now)
			if err != nil {
				return nil, prefixFields(err, "factors["+strconv.Itoa(i)+"].")
			}
			out = append(out, evs...)
		}
		if rights != "" {
			evs, err := st.Case.WeighRights(rights, actor, now)
			if err != nil {
				return nil, renameFields(err, map[string]string{"text": "rights_assessment"})
			}
			out = append(out, evs...)
		}
		return out, nil
	})
}

// RecordCounsel records a consultation of counsel (3.3).
func (a *Assessment) RecordCounsel(ctx context.Context, actor, requestID string, c *assessmentv1.CounselConsultation) (*assessmentv1.Case, error) {
	return a.run(ctx, requestID, func(st *CaseState, now time.Time) ([]domain.Event, error) {
		evs, err := st.Case.RecordCounselNamed(domain.CounselKind(fromEnum(c.GetKind(), "COUNSEL_KIND_")), c.GetCounsel(), tm(c.GetConsultTime()), c.GetSummary(), actor, now)
		return evs, renameFields(err, map[string]string{
			"kind": "consultation.kind", "consulted_at": "consultation.consult_time", "summary": "consultation.summary",
		})
	})
}

// ConsiderChallenge records whether a challenge is warranted and why (3.3).
func (a *Assessment) ConsiderChallenge(ctx context.Context, actor, requestID string, warranted bool, reasoning string) (*assessmentv1.Case, error) {
	return a.run(ctx, requestID, func(st *CaseState, now time.Time) ([]domain.Event, error) {
		return st.Case.ConsiderChallenge(warranted, reasoning, actor, now)
	})
}

// Decide takes decision d. With expectedVersion set, the decision applies
// only to the case at that version: a reviewer who decided on a view that
// has since changed gets ErrConflict (ABORTED) and must look again.
func (a *Assessment) Decide(ctx context.Context, actor, requestID string, d domain.Decision, expectedVersion uint64) (*assessmentv1.Case, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	d.ID = id.String()
	return a.run(ctx, requestID, func(st *CaseState, now time.Time) ([]domain.Event, error) {
		if expectedVersion != 0 && st.Version != expectedVersion {
			return nil, fmt.Errorf("%w: the case changed since version %d (it is now at %d); reload it and decide again",
				ddrerr.ErrConflict, expectedVersion, st.Version)
		}
		evs, err := st.Case.Decide(d, actor, now)
		return evs, renameFields(err, decisionFields)
	})
}

// decisionFields maps the domain's field names onto DecideRequest's.
var decisionFields = map[string]string{
	"decision.kind":                      "kind",
	"decision.basis":                     "legal_basis",
	"decision.narrowing":                 "scope",
	"decision.grounds":                   "grounds",
	"decision.narrowing.target_ids":      "scope.target_refs",
	"decision.narrowing.data_categories": "scope.data_categories",
	"decision.narrowing.time_range":      "scope.time_range",
}

// Approve approves the pending disclosure decisionID (four eyes).
func (a *Assessment) Approve(ctx context.Context, actor, requestID, decisionID string) (*assessmentv1.Case, error) {
	return a.run(ctx, requestID, func(st *CaseState, now time.Time) ([]domain.Event, error) {
		if err := st.checkPending(decisionID); err != nil {
			return nil, err
		}
		return st.Case.Approve(actor, now)
	})
}

// RejectDecision sends the pending disclosure decisionID back to review.
func (a *Assessment) RejectDecision(ctx context.Context, actor, requestID, decisionID, reason string) (*assessmentv1.Case, error) {
	return a.run(ctx, requestID, func(st *CaseState, now time.Time) ([]domain.Event, error) {
		if err := st.checkPending(decisionID); err != nil {
			return nil, err
		}
		return st.Case.RejectProposal(reason, actor, now)
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

// MarkOverdue records once that the case passed its review deadline
// undecided, and counts it. It reports whether it recorded it now.
func (a *Assessment) MarkOverdue(ctx context.Context, requestID string) (bool, error) {
	var urgent bool
	appended, err := a.store.Update(ctx, requestID, func(h eventstore.History) ([]eventstore.Event, error) {
		st, err := Fold(h)
		if err != nil {
			return nil, err
		}
		urgent = st.Case.Facts().Urgent()
		evs, err := st.Case.MarkOverdue(a.now())
		if err != nil {
			return nil, err
		}
		return encode(st, evs, a.now())
	})
	if err != nil || len(appended) == 0 {
		return false, err
	}
	a.overdue.Add(ctx, 1, metric.WithAttributes(attribute.Bool("ddr.urgent", urgent)))
	return true, nil
}

// encode maps the domain events of one command onto the events to append.
// Factor records and the rights weighing of one call become one
// FactorsRecorded. The approval that completes four eyes is not written as
// a DecisionApproved of its own: it is in AssessmentDecided's approvals, so
// the decision takes effect in a single append and no conflict can leave a
// case approved but not decided.
func encode(st *CaseState, evs []domain.Event, now time.Time) ([]eventstore.Event, error) {
	rid := st.Case.RequestID()
	facts := st.Case.Facts()
	var out []eventstore.Event
	add := func(id, name, actor string, p proto.Message) {
		out = append(out, eventstore.Event{ID: id, RequestID: rid, Service: Service, Name: name, Time: now, Actor: actor, Payload: p})
	}
	var factors *assessmentv1.FactorsRecorded
	var factorsBy string
	for i, e := range evs {
		switch e := e.(type) {
		case domain.Assigned:
			add("", "claimed", e.By, &assessmentv1.CaseClaimed{RequestId: rid, Assignee: e.Assignee, ClaimTime: ts(e.At)})
		case domain.FactorRecorded:
			if factors == nil {
				factors, factorsBy = &assessmentv1.FactorsRecorded{RequestId: rid}, e.By
			}
			factors.Factors = append(factors.Factors, &assessmentv1.FactorAssessment{
				Factor: factorToProto(e.Factor), Assessment: e.Assessment, Reviewer: e.By, RecordTime: ts(e.At),
			})
		case domain.RightsWeighed:
			if factors == nil {
				factors, factorsBy = &assessmentv1.FactorsRecorded{RequestId: rid}, e.By
			}
			factors.RightsAssessment = e.Text
		case domain.CounselConsulted:
			add("", "counsel_consulted", e.By, &assessmentv1.CounselConsulted{RequestId: rid, Consultation: &assessmentv1.CounselConsultation{
				Kind:        toEnum[assessmentv1.CounselKind](string(e.Kind), "COUNSEL_KIND_", assessmentv1.CounselKind_value),
				Counsel:     e.Counsel,
				ConsultTime: ts(e.ConsultedAt),
				Summary:     e.Summary,
				RecordedBy:  e.By,
			}})
		case domain.ChallengeConsidered:
			add("", "challenge_considered", e.By, &assessmentv1.ChallengeConsidered{RequestId: rid, Consideration: &assessmentv1.ChallengeConsideration{
				Considered: true, Warranted: e.Warranted, Reasoning: e.Reasoning, RecordedBy: e.By, RecordTime: ts(e.At),
			}})
		case domain.DecisionProposed:
			d := decisionToProto(e.Decision, facts)
			d.DecidedBy, d.DecideTime, d.PolicyVersion = e.By, ts(e.At), e.PolicyVersion
			d.Status = assessmentv1.DecisionStatus_DECISION_STATUS_PENDING_APPROVAL
			d.ApprovalsRequired = int32(st.Case.Rules().RequiredApprovals)
			add(eventstore.DerivedID(e.Decision.ID, "assessment.decision_proposed"), "decision_proposed", e.By,
				&assessmentv1.DecisionProposed{RequestId: rid, Decision: d})
		case domain.DecisionApproved:
			if i+1 < len(evs) {
				if _, last := evs[i+1].(domain.CaseDecided); last {
					continue
				}
			}
			id := st.decision.GetDecisionId()
			add(eventstore.DerivedID(id, "assessment.decision_approved", e.By), "decision_approved", e.By, &assessmentv1.DecisionApproved{
				RequestId: rid, DecisionId: id, Approval: &assessmentv1.Approval{Approver: e.By, ApproveTime: ts(e.At)},
			})
		case domain.DecisionRejected:
			add("", "decision_rejected", e.By, &assessmentv1.DecisionRejected{
				RequestId: rid, DecisionId: st.decision.GetDecisionId(), Reason: e.Reason, RejectedBy: e.By, RejectTime: ts(e.At),
			})
		case domain.CaseDecided:
			d := decisionToProto(e.Decision, facts)
			d.DecidedBy, d.PolicyVersion = e.DecidedBy, e.PolicyVersion
			d.Status = assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE
			d.DecideTime = ts(e.At)
			if e.Decision.Kind == domain.Disclose {
				d.DecideTime = st.decision.GetDecideTime()
				d.ApprovalsRequired = int32(st.Case.Rules().RequiredApprovals)
				d.Approvals = st.approvalsOf(e.By, e.At)
			}
			add(eventstore.DerivedID(e.Decision.ID, "assessment.decided"), "decided", e.By, &assessmentv1.AssessmentDecided{
				RequestId: rid, Decision: d, Requirements: requirementsToProto(e.Notification, facts.ReceivedAt),
			})
		case domain.ReviewOverdue:
			add(eventstore.DerivedID(rid, "assessment.overdue"), "overdue", "", &assessmentv1.CaseOverdue{
				RequestId: rid, ReviewDueTime: ts(e.Due), DetectTime: ts(e.At),
			})
		default:
			return nil, fmt.Errorf("assessment: no wire form for domain event %s", e.EventName())
		}
	}
	if factors != nil {
		add("", "factors_recorded", factorsBy, factors)
	}
	return out, nil
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
