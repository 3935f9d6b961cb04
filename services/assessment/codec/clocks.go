package codec

import (
	"time"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// The wire form of the legal clocks (issue 18, clock_events.proto).

// encodeClock maps a clock event onto the event to append. Ids derive from
// the request and the deadline (and its due time), so a second replica's
// or a retried call's write of the same fact is a duplicate the stream
// drops: a deadline is met once and overdue once per due time.
func (e Encoder) encodeClock(ev domain.Event) (id string, p proto.Message, ok bool) {
	rid := e.RequestID
	switch ev := ev.(type) {
	case domain.DeadlinesSet:
		ds := make([]*assessmentv1.Deadline, len(ev.Deadlines))
		for i, d := range ev.Deadlines {
			ds[i] = DeadlineToProto(d)
		}
		return e.ID("assessment.deadlines_set"), &assessmentv1.DeadlinesSet{
			RequestId: rid, Deadlines: ds, SetTime: protoconv.Timestamp(ev.At), SetBy: ev.By, Reason: ev.Reason,
		}, true
	case domain.DeadlineMet:
		return eventstore.DerivedID(rid, "assessment.deadline_met", ev.ID), &assessmentv1.DeadlineMet{
			RequestId: rid, DeadlineId: ev.ID, MetTime: protoconv.Timestamp(ev.At), MetBy: ev.By, Reason: ev.Reason,
		}, true
	case domain.DeadlineOverdue:
		return eventstore.DerivedID(rid, "assessment.deadline_overdue", ev.ID, ev.Due.UTC().Format(time.RFC3339Nano)), &assessmentv1.DeadlineOverdue{
			RequestId: rid, DeadlineId: ev.ID, DueTime: protoconv.Timestamp(ev.Due), DetectTime: protoconv.Timestamp(ev.At),
		}, true
	}
	return "", nil, false
}

// decodeClock maps the stored events the clocks fold: assessment's own
// clock events and reporting's disposition (a disclosure meets the
// transmission deadline; any disposition stops the clocks owed an act).
func decodeClock(ev eventstore.Event) []domain.Event {
	switch p := ev.Payload.(type) {
	case *assessmentv1.DeadlinesSet:
		ds := make([]deadline.Deadline, len(p.GetDeadlines()))
		for i, d := range p.GetDeadlines() {
			ds[i] = DeadlineToDomain(d)
		}
		return []domain.Event{domain.DeadlinesSet{Meta: meta(ev, ev.Actor, p.GetSetTime()), Deadlines: ds, Reason: p.GetReason()}}
	case *assessmentv1.DeadlineMet:
		return []domain.Event{domain.DeadlineMet{Meta: meta(ev, ev.Actor, p.GetMetTime()), ID: p.GetDeadlineId(), Reason: p.GetReason()}}
	case *assessmentv1.DeadlineOverdue:
		return []domain.Event{domain.DeadlineOverdue{Meta: meta(ev, ev.Actor, p.GetDetectTime()), ID: p.GetDeadlineId(), Due: protoconv.Time(p.GetDueTime())}}
	}
	return nil
}

// Enum prefixes of the clock enums.
const (
	deadlineKindPrefix   = "DEADLINE_KIND_"
	countingPrefix       = "COUNTING_"
	deadlineStatusPrefix = "DEADLINE_STATUS_"
)

// DeadlineToProto writes a deadline.
func DeadlineToProto(d deadline.Deadline) *assessmentv1.Deadline {
	return &assessmentv1.Deadline{
		Id:     d.ID,
		Kind:   protoconv.EnumValue[assessmentv1.DeadlineKind](string(d.Kind), deadlineKindPrefix),
		Clause: d.Clause.Number(),
		What:   d.What,
		Rule: &assessmentv1.CountingRule{
			Counting:        protoconv.EnumValue[assessmentv1.Counting](string(d.Rule.Counting), countingPrefix),
			N:               int32(d.Rule.N),
			Calendar:        d.Rule.Calendar,
			EndOnWorkingDay: d.Rule.EndOnWorkingDay,
			Source:          d.Rule.Source,
		},
		StartTime: protoconv.Timestamp(d.Start),
		DueTime:   protoconv.Timestamp(d.At),
		Moved:     d.Moved,
		Uncovered: d.Uncovered,
	}
}

// DeadlineToDomain reads a deadline.
func DeadlineToDomain(p *assessmentv1.Deadline) deadline.Deadline {
	r := p.GetRule()
	return deadline.Deadline{
		ID:     p.GetId(),
		Kind:   deadline.Kind(protoconv.EnumName(p.GetKind(), deadlineKindPrefix)),
		Clause: policy.Clause(p.GetClause()),
		What:   p.GetWhat(),
		Rule: deadline.Rule{
			Counting:        deadline.Counting(protoconv.EnumName(r.GetCounting(), countingPrefix)),
			N:               int(r.GetN()),
			Calendar:        r.GetCalendar(),
			EndOnWorkingDay: r.GetEndOnWorkingDay(),
			Source:          r.GetSource(),
		},
		Start: protoconv.Time(p.GetStartTime()),
		Due:   deadline.Due{At: protoconv.Time(p.GetDueTime()), Moved: p.GetMoved(), Uncovered: p.GetUncovered()},
	}
}

// DeadlineViewToProto writes a deadline with its status.
func DeadlineViewToProto(v deadline.View) *assessmentv1.DeadlineView {
	out := &assessmentv1.DeadlineView{
		Deadline: DeadlineToProto(v.Deadline),
		Status:   protoconv.EnumValue[assessmentv1.DeadlineStatus](string(v.Status), deadlineStatusPrefix),
		Reason:   v.Reason,
	}
	if !v.At.IsZero() {
		out.CloseTime = protoconv.Timestamp(v.At)
	}
	return out
}
