package app

import (
	"context"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// RecordDisclosure records what was finally disclosed. The domain accepts
// it only once the request was cleared, as an outcome the decision allows,
// within the decided accounts and data categories, and while the
// authority's country is still adequate on the disclosure date when the
// clearance rested on its adequacy (judged with the process's registry,
// --adequacy-file). It returns the disposition as recorded in the appended
// event.
func (a *Reporting) RecordDisclosure(ctx context.Context, actor, requestID string, d domain.Disclosure) (*reportingv1.Disposition, error) {
	return a.dispose(ctx, actor, requestID, func(s domain.DispositionState) (domain.Disposition, error) {
		s.Registry = a.cfg.Registry
		return domain.RecordDisclosure(s, d)
	})
}

// RecordTerminal records how a request ended without a disclosure.
func (a *Reporting) RecordTerminal(ctx context.Context, actor, requestID string, o policy.Outcome) (*reportingv1.Disposition, error) {
	now := a.cfg.Now().UTC()
	return a.dispose(ctx, actor, requestID, func(s domain.DispositionState) (domain.Disposition, error) {
		return domain.RecordTerminal(s, o, now)
	})
}

func (a *Reporting) dispose(ctx context.Context, actor, requestID string, decide func(domain.DispositionState) (domain.Disposition, error)) (*reportingv1.Disposition, error) {
	var out *reportingv1.Disposition
	_, err := command.Run(ctx, a.store, records, command.NewCall(requestID, actor, a.cfg.Now()), func(s *recordState, c command.Call) ([]eventstore.Event, error) {
		if err := received(s, requestID); err != nil {
			return nil, err
		}
		d, err := decide(s.fold.DispositionState())
		if err != nil {
			return nil, err
		}
		out = DispositionToProto(d, c.Now, c.Actor)
		// One disposition per request: the id is the request's, so a
		// retried append is deduplicated by the stream as well.
		return []eventstore.Event{{
			ID:      eventstore.DerivedID(requestID, "reporting.disposition_recorded"),
			Payload: &reportingv1.DispositionRecorded{RequestId: requestID, Disposition: out},
		}}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetRestriction lifts a restriction of what the transparency report may
// say about a request: one person may only make the report say more
// (domain.CheckSetRestriction); keeping a request out or banding it is
// proposed and confirmed by two legal people. The legal reference stays in
// the record and is never published. It returns the appended event.
func (a *Reporting) SetRestriction(ctx context.Context, actor, requestID string, r domain.Restriction, legalReference string) (*reportingv1.ReportingRestrictionSet, error) {
	var out *reportingv1.ReportingRestrictionSet
	_, err := command.Run(ctx, a.store, records, command.NewCall(requestID, actor, a.cfg.Now()), func(s *recordState, c command.Call) ([]eventstore.Event, error) {
		if err := received(s, requestID); err != nil {
			return nil, err
		}
		if err := domain.CheckSetRestriction(r); err != nil {
			return nil, err
		}
		out = &reportingv1.ReportingRestrictionSet{RequestId: requestID, Restriction: RestrictionToProto(r), LegalReference: legalReference, SetTime: protoconv.Timestamp(c.Now), SetBy: c.Actor}
		return []eventstore.Event{{ID: c.EventID("reporting.restriction_set"), Payload: out}}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ProposeRestriction records, for one legal person, a restriction of what
// the report says about a request with its legal reference (5.1), which is
// its whole basis (see events.go). It takes effect once a second legal
// person confirms it. It returns the lift as recorded.
func (a *Reporting) ProposeRestriction(ctx context.Context, actor, requestID string, r domain.Restriction, legalReference string) (policy.Lift, error) {
	var out domain.RestrictionProposal
	_, err := command.Run(ctx, a.store, records, command.NewCall(requestID, actor, a.cfg.Now()), func(s *recordState, c command.Call) ([]eventstore.Event, error) {
		if err := received(s, requestID); err != nil {
			return nil, err
		}
		p, err := domain.ProposeRestriction(&s.fold, r, legalReference, legalReference, c.Actor, c.Now)
		if err != nil {
			return nil, err
		}
		ev := RestrictionProposalToProto(requestID, p)
		out = RestrictionProposalFromProto(ev)
		return []eventstore.Event{{ID: c.EventID("reporting.restriction_proposed"), Payload: ev}}, nil
	})
	return out.Lift, err
}

// ConfirmRestriction is the second legal person confirming the pending
// restriction; the domain checks that they hold the legal role and neither
// proposed it nor proposed the decision. It returns the confirmed lift.
func (a *Reporting) ConfirmRestriction(ctx context.Context, who policy.Person, requestID string) (policy.Lift, error) {
	var out policy.Lift
	_, err := command.Run(ctx, a.store, records, command.NewCall(requestID, who.ID, a.cfg.Now()), func(s *recordState, c command.Call) ([]eventstore.Event, error) {
		if err := received(s, requestID); err != nil {
			return nil, err
		}
		p, _ := s.fold.PendingRestriction()
		if err := domain.CheckConfirmRestriction(&s.fold, who); err != nil {
			return nil, err
		}
		out = p.Lift
		out.ConfirmedBy, out.ConfirmedAt = who.ID, c.Now
		roles := make([]string, len(who.Roles))
		for i, r := range who.Roles {
			roles[i] = string(r)
		}
		return []eventstore.Event{{ID: c.EventID("reporting.restriction_confirmed"), Payload: &reportingv1.RestrictionConfirmed{
			RequestId: requestID, ConfirmedBy: who.ID, Roles: roles, ConfirmTime: protoconv.Timestamp(c.Now),
		}}}, nil
	})
	return out, err
}
