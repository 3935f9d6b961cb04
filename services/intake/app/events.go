package app

import (
	"time"

	"google.golang.org/protobuf/proto"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// membersRequest is a request as its group member's commands see it: it
// exists only for that member (Call.Actor), so another member's request is
// NOT_FOUND, its existence not the caller's business.
var membersRequest = command.Spec[*View, proto.Message]{
	Fold:   foldView,
	Exists: func(v *View, c command.Call) bool { return v.received != nil && v.GroupMember() == c.Actor },
	Encode: encode,
}

// anyRequest is a request for Submit's append, staff's erasure and the
// idempotency checks: Decide sees whether it was received.
var anyRequest = command.Spec[*View, proto.Message]{
	Fold:   foldView,
	Encode: encode,
}

// call is an intake command's call. Its trigger is the request id: every
// intake fact is once per request (received, withdrawn, erased) or carries
// its own id (an amendment), so the event ids stay those intake has always
// written, and a retry or a second attempt is deduplicated by the stream.
func (in *Intake) call(requestID, actor string, now time.Time) command.Call {
	return command.Call{RequestID: requestID, Actor: actor, Now: now.UTC(), Trigger: requestID}
}

// encode is intake's event codec: each decided payload becomes a stream
// event of the call (the registry names it from the payload).
func encode(_ *View, c command.Call, payloads []proto.Message) ([]eventstore.Event, error) {
	out := make([]eventstore.Event, 0, len(payloads))
	for _, p := range payloads {
		k, err := eventstore.KindOfMessage(p)
		if err != nil {
			return nil, err
		}
		id := c.EventID(k.QualifiedName())
		if a, ok := p.(*intakev1.RequestAmended); ok {
			id = c.EventID(k.QualifiedName(), a.GetAmendmentId())
		}
		out = append(out, eventstore.Event{ID: id, RequestID: c.RequestID, Time: c.Now, Actor: c.Actor, Payload: p})
	}
	return out, nil
}
