package app

import (
	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// applyClocks folds assessment's deadline events (issue 18) into the
// request's clocks, which a disclosure is checked against
// (domain.CheckTransmission). Only what the check reads is taken: the
// deadlines with their kind and due time, and which were met.
func applyClocks(f *domain.RequestFold, payload proto.Message) {
	switch p := payload.(type) {
	case *assessmentv1.DeadlinesSet:
		ds := make([]deadline.Deadline, 0, len(p.GetDeadlines()))
		for _, d := range p.GetDeadlines() {
			ds = append(ds, deadline.Deadline{
				ID:     d.GetId(),
				Kind:   deadline.Kind(protoconv.EnumName(d.GetKind(), "DEADLINE_KIND_")),
				Clause: policy.Clause(d.GetClause()),
				What:   d.GetWhat(),
				Rule:   deadline.Rule{Source: d.GetRule().GetSource()},
				Start:  protoconv.Time(d.GetStartTime()),
				Due:    deadline.Due{At: protoconv.Time(d.GetDueTime())},
			})
		}
		f.SetDeadlines(ds, protoconv.Time(p.GetSetTime()))
	case *assessmentv1.DeadlineMet:
		f.MeetDeadline(p.GetDeadlineId(), protoconv.Time(p.GetMetTime()))
	}
}
