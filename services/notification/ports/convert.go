package ports

import (
	"google.golang.org/protobuf/types/known/durationpb"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// The conversions of notification's RPC-only messages. What is also an
// event payload (a plan, a delivery, a waiver effort's enums) is converted
// by the app's event codec (app/convert.go), once, and used from here.

// holdToProto is one standing hold as ListHolds answers it.
func holdToProto(h domain.OpenHold) *notificationv1.Hold {
	return &notificationv1.Hold{
		RequestId:  h.RequestID,
		HoldTime:   protoconv.Timestamp(h.PlacedAt),
		Age:        durationpb.New(h.Age),
		Clause:     policy.Clause4_2_1.Number(),
		Country:    string(h.Country),
		WaitingFor: h.WaitingFor,
	}
}

// effortFromRequest is the waiver effort a RecordWaiverEffort request
// records.
func effortFromRequest(req *notificationv1.RecordWaiverEffortRequest) domain.WaiverEffort {
	return domain.WaiverEffort{
		Kind:    app.WaiverEffortKindFromProto(req.GetKind()),
		Outcome: app.WaiverOutcomeFromProto(req.GetOutcome()),
		Person:  req.GetPerson(),
		Notes:   req.GetNotes(),
		At:      protoconv.Time(req.GetEffortTime()),
	}
}
