package app

import (
	"context"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// CloseWithdrawn closes the record of a request whose withdrawal a Privacy
// Team member (acknowledgedBy, identity actor) acknowledged: it records the
// disposition "withdrawn" in their name and seals the record (issue 16).
// A request that already has a disposition (a disclosure before the
// withdrawal) keeps it: the withdrawal is recorded and undoes nothing, and
// the record is only sealed again. trigger is the acknowledgement's event
// id; the disposition's id is the request's, as for RecordDisposition, so
// a redelivered acknowledgement records nothing twice.
//
// afterDisclosure is the acknowledgement's own word that data had left:
// then nothing is recorded as withdrawn even if this record lacks the
// disclosure, since claiming "withdrawn" for data that left would be worse
// than a record staff complete by hand.
func (a *Reporting) CloseWithdrawn(ctx context.Context, requestID, actor, acknowledgedBy, trigger string, afterDisclosure bool) error {
	c := command.NewCall(requestID, actor, a.cfg.Now())
	c.Trigger = trigger
	_, err := command.Run(ctx, a.store, records, c, func(s *recordState, c command.Call) ([]eventstore.Event, error) {
		if afterDisclosure || !s.fold.HasReceipt() || !s.fold.WithdrawalAcknowledged() || s.fold.Disposition() != nil {
			return nil, nil
		}
		d, err := domain.RecordTerminal(s.fold.DispositionState(), policy.OutcomeWithdrawn, c.Now)
		if err != nil {
			// Nothing the acknowledgement can fix (a clock before the
			// receipt): the record is still sealed below, and staff can
			// record the disposition by hand.
			return nil, nil //nolint:nilerr // see above
		}
		return []eventstore.Event{{
			ID:      eventstore.DerivedID(requestID, "reporting.disposition_recorded"),
			Payload: &reportingv1.DispositionRecorded{RequestId: requestID, Disposition: DispositionToProto(d, c.Now, acknowledgedBy)},
		}}, nil
	})
	if err != nil {
		return err
	}
	_, err = a.Seal(ctx, requestID, trigger)
	return err
}
