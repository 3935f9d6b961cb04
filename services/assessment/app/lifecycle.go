package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Reopen sends a request's case back to review for trigger t, caused by
// the event causeEventID of another service (an amendment, a redirect
// declined, a DPA objection), when the case's lifecycle says so; otherwise
// it records nothing. The CaseReopened id derives from the cause, and the
// case remembers the causes it applied, so a redelivery reopens nothing
// twice. decisionID, when set, is the decision the cause concerns.
func (a *Assessment) Reopen(ctx context.Context, causeEventID, requestID string, t domain.ReopenTrigger, decisionID string) error {
	call := command.Call{RequestID: requestID, Now: a.cfg.Now().UTC(), Trigger: causeEventID}
	_, err := command.Run(ctx, a.store, requests, call, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		evs, err := st.Case.Reopen(t, causeEventID, decisionID, "", c.Now)
		if err != nil {
			return nil, err
		}
		return st.Case.RestartReviewClock(evs, a.cfg.Calendars, c.Now)
	})
	return err
}

// RequestInformation asks the group member for more information.
func (a *Assessment) RequestInformation(ctx context.Context, actor, requestID, question string) (*CaseState, error) {
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		return st.Case.RequestInformation(question, actor, c.Now)
	})
}

// AcknowledgeWithdrawal is one Privacy Team member acknowledging the
// authority's withdrawal.
func (a *Assessment) AcknowledgeWithdrawal(ctx context.Context, actor, requestID string) (*CaseState, error) {
	return a.runSpec(ctx, actor, requestID, withdrawals, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		return st.Case.AcknowledgeWithdrawal(actor, c.Now)
	})
}

// LinkCase links the request's case to linked's as the same demand. The
// linked request must have a case (NOT_FOUND otherwise).
func (a *Assessment) LinkCase(ctx context.Context, actor, requestID, linked, reason string) (*CaseState, error) {
	if linked != requestID {
		if _, err := a.Get(ctx, linked); err != nil {
			return nil, fmt.Errorf("linked request: %w", err)
		}
	}
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		return st.Case.Link(linked, reason, actor, c.Now)
	})
}

// ProposeFactCorrection corrects the case's facts (issue 16 item 5); the
// adequacy of a corrected country is judged here, on the date the request
// was received, as at the opening (4.2.1). It returns the correction's id.
func (a *Assessment) ProposeFactCorrection(ctx context.Context, actor, requestID string, k domain.FactCorrection, reason, evidence string) (*CaseState, string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, "", err
	}
	k.ID = id.String()
	st, err := a.runSpec(ctx, actor, requestID, a.corrections(), func(st *CaseState, c command.Call) ([]domain.Event, error) {
		if k.AuthorityCountry != nil {
			k.CountryAdequate, _ = a.cfg.Adequacy(*k.AuthorityCountry, st.Case.Facts().ReceivedAt)
		}
		return st.Case.ProposeFactCorrection(k, reason, evidence, actor, c.Now)
	})
	return st, k.ID, err
}

// ConfirmFactCorrection is the second person confirming a weakening
// correction.
func (a *Assessment) ConfirmFactCorrection(ctx context.Context, who policy.Person, requestID, correctionID string) (*CaseState, error) {
	if correctionID == "" {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "correction_id", Description: "required"})
	}
	return a.runSpec(ctx, who.ID, requestID, a.corrections(), func(st *CaseState, c command.Call) ([]domain.Event, error) {
		return st.Case.ConfirmFactCorrection(correctionID, who, c.Now)
	})
}

// corrections is the command template of the fact corrections: a corrected
// country's adequacy reason is the registry's, as at the opening (4.2.1).
func (a *Assessment) corrections() command.Spec[*CaseState, domain.Event] {
	spec := cases
	spec.Encode = func(s *CaseState, c command.Call, evs []domain.Event) ([]eventstore.Event, error) {
		e := s.encoder(c)
		for _, ev := range evs {
			if fc, ok := ev.(domain.FactsCorrected); ok && fc.Correction.AuthorityCountry != nil {
				_, e.AdequacyReason = a.cfg.Adequacy(*fc.Correction.AuthorityCountry, fc.Facts.ReceivedAt)
			}
		}
		return e.Encode(evs)
	}
	return spec
}

// withdrawals is the command template for acknowledging a withdrawal: a
// request withdrawn before its case opened has no case (OpenCase opens
// none), yet its withdrawal must still be acknowledged for the request to
// close as WITHDRAWN, so the request's withdrawal is enough to exist.
var withdrawals = func() command.Spec[*CaseState, domain.Event] {
	s := requests
	s.Exists = func(s *CaseState, _ command.Call) bool { return s.Case.Opened() || !s.Case.WithdrawnAt().IsZero() }
	return s
}()
