package app

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// recordState is a request's record folded from decoded events: what the
// report counts, the head of its hash chain and what a seal covers. The
// commands decide on it (the fold of command.Run) and the report's read
// model keeps one per request.
//
// Decoded events are not the stored bytes, so an entry's payload digest is
// taken over the payload re-marshalled with proto.MarshalOptions{
// Deterministic: true}, which is how the event store writes it; the record
// (GetRecord, the verifications) always hashes the stored bytes, and
// TestReport_ProjectionMatchesRecord and the seal checks of VerifyRecord
// hold the two to the same result. If a future writer encoded differently,
// verification would say so rather than pass silently.
type recordState struct {
	fold       domain.RequestFold
	head       domain.Digest
	entries    int
	lastSealed bool // the last entry is a seal
	lastSeq    uint64
}

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// apply folds one event into the state.
func (s *recordState) apply(ev eventstore.Event) error {
	data, err := marshalOpts.Marshal(ev.Payload)
	if err != nil {
		return fmt.Errorf("re-marshal payload: %w", err)
	}
	e := domain.Entry{Seq: ev.Sequence, Subject: ev.Subject, Type: ev.Type, EventID: ev.ID, Actor: ev.Actor, Time: ev.Time, PayloadDigest: domain.PayloadDigest(data)}
	s.head = domain.EntryHash(s.head, e)
	s.entries++
	_, s.lastSealed = ev.Payload.(*reportingv1.RecordSealed)
	s.lastSeq = ev.Sequence
	apply(&s.fold, ev.Service+"."+ev.Name, ev.Time, ev.Payload)
	return nil
}

// records is reporting's command template (platform/command). Its
// decisions are stream events already (reporting's events are its record's
// entries, with ids each command derives itself); Encode stamps who and
// when.
var records = command.Spec[*recordState, eventstore.Event]{
	Fold: func(h eventstore.History) (*recordState, error) {
		s := &recordState{}
		for _, ev := range h.Events {
			if err := s.apply(ev); err != nil {
				return nil, err
			}
		}
		s.lastSeq = h.LastSeq
		return s, nil
	},
	// A request without events does not exist; whether one without a
	// receipt may take a disposition is the command's decision.
	Exists: func(s *recordState, _ command.Call) bool { return s.entries > 0 },
	Encode: func(_ *recordState, c command.Call, evs []eventstore.Event) ([]eventstore.Event, error) {
		for i := range evs {
			evs[i].RequestID, evs[i].Actor, evs[i].Time = c.RequestID, c.Actor, c.Now
		}
		return evs, nil
	},
	Apply: func(s *recordState, ev eventstore.Event) (*recordState, error) { return s, s.apply(ev) },
}

// received refuses a record that has no receipt: there is no request to
// speak of (only reporting's own events could be there, which cannot happen).
func received(s *recordState, requestID string) error {
	if !s.fold.HasReceipt() {
		return fmt.Errorf("%w: request %s", ddrerr.ErrNotFound, requestID)
	}
	return nil
}
