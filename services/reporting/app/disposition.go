package app

import (
	"context"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// RecordDisclosure records what was finally disclosed. The domain accepts
// it only once the request was cleared, within the decided scope.
// It returns the disposition as recorded in the appended event.
func (a *Reporting) RecordDisclosure(ctx context.Context, actor, requestID string, d domain.Disclosure) (*reportingv1.Disposition, error) {
	return a.dispose(ctx, actor, requestID, func(s domain.DispositionState) (domain.Disposition, error) {
		return domain.RecordDisclosure(s, d)
	})
}

// RecordTerminal records how a request ended without a disclosure.
func (a *Reporting) RecordTerminal(ctx context.Context, actor, requestID string, o domain.TerminalOutcome) (*reportingv1.Disposition, error) {
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

// SetRestriction records what the transparency report may say about a
// request. The legal reference stays in the record and is never published.
// It returns the appended event.
func (a *Reporting) SetRestriction(ctx context.Context, actor, requestID string, r domain.Restriction, legalReference string) (*reportingv1.ReportingRestrictionSet, error) {
	var out *reportingv1.ReportingRestrictionSet
	_, err := command.Run(ctx, a.store, records, command.NewCall(requestID, actor, a.cfg.Now()), func(s *recordState, c command.Call) ([]eventstore.Event, error) {
		if err := received(s, requestID); err != nil {
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
