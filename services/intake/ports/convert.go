package ports

// This is intake's one conversion file for its RPC messages. The demand and
// its attachments are also the content of intake's events, so both their
// directions are the app's event codec (app/events.go: the app must encode
// events to append them and decode them to fold); this file uses it rather
// than converting them a second time, and renders the rest of a request as
// its member reads it.

import (
	"google.golang.org/protobuf/types/known/durationpb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/app"
	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// amendmentProto renders a recorded amendment.
func amendmentProto(a app.Amended) *intakev1.Amendment {
	return &intakev1.Amendment{
		AmendmentId: a.ID,
		Information: a.Amendment.Information,
		Attachments: app.EncodeAttachments(a.Amendment.Attachments),
		AmendTime:   protoconv.Timestamp(a.Amendment.At),
	}
}

// outcomeProto is how a request ended in intake's API. The API published
// OUTCOME_NO_DATA before the suite spelled that end once
// (policy.OutcomeNoDataFound, "no_data_found" in the stream): the enum is a
// contract, so it keeps its name and this is the one place that maps it.
func outcomeProto(o policy.Outcome) intakev1.Outcome {
	if o == policy.OutcomeNoDataFound {
		return intakev1.Outcome_OUTCOME_NO_DATA
	}
	return protoconv.EnumValue[intakev1.Outcome](string(o), "OUTCOME_")
}

// requestProto renders a request as its member reads it. Amendment entries
// of the domain timeline are left out of the stage timeline: the
// amendments list shows them.
func requestProto(r app.Request) *intakev1.Request {
	content := app.EncodeRequest(r.Content)
	if len(r.Targets) > 0 {
		content.Targets = targetsProto(r.Targets)
	}
	out := &intakev1.Request{
		RequestId:       r.ID,
		GroupMember:     r.GroupMember,
		Content:         content,
		SubmitTime:      protoconv.Timestamp(r.SubmitTime),
		ForwardingDelay: durationpb.New(r.ForwardingDelay),
		LateForwarding:  r.LateForwarding,
		Stage:           stageProto(r.Stage),
		Outcome:         outcomeProto(r.Outcome),
	}
	for _, a := range r.Amendments {
		out.Amendments = append(out.Amendments, amendmentProto(a))
	}
	for _, e := range r.Timeline {
		if s := stageProto(e.Stage); s != intakev1.Stage_STAGE_UNSPECIFIED {
			out.Timeline = append(out.Timeline, &intakev1.TimelineEntry{Stage: s, Time: protoconv.Timestamp(e.At)})
		}
	}
	if q := r.Question; q != nil {
		out.InformationRequest = &intakev1.InformationRequest{Question: q.Text, AskTime: protoconv.Timestamp(q.At)}
	}
	return out
}

// targetsProto renders targets as recorded, opened or sealed.
func targetsProto(ts []app.Target) []*intakev1.Target {
	out := make([]*intakev1.Target, 0, len(ts))
	for _, t := range ts {
		out = append(out, &intakev1.Target{
			Kind:        targetKindProto(t.Kind),
			Value:       t.Value,
			Ref:         t.Ref,
			SealedValue: t.Sealed,
			Erased:      t.Erased,
		})
	}
	return out
}

// targetKindProto renders a target's kind.
func targetKindProto(k domain.TargetKind) intakev1.TargetKind {
	return protoconv.EnumValue[intakev1.TargetKind](string(k), "TARGET_KIND_")
}

// reviewProto renders the whole request for staff. Its targets carry ref
// and kind only: the app cleared their values.
func reviewProto(r app.Review) *intakev1.ReviewRequest {
	m := requestProto(r.Request)
	out := &intakev1.ReviewRequest{
		RequestId:            m.GetRequestId(),
		GroupMember:          m.GetGroupMember(),
		Content:              m.GetContent(),
		Amendments:           m.GetAmendments(),
		SubmitTime:           m.GetSubmitTime(),
		ForwardingDelay:      m.GetForwardingDelay(),
		LateForwarding:       m.GetLateForwarding(),
		TargetCount:          int32(len(r.Targets)), //nolint:gosec // at most 1,000 targets (the proto's max_items)
		TargetsErased:        r.TargetsErased,
		WithdrawTime:         protoconv.Timestamp(r.WithdrawTime),
		WithdrawalRecordedBy: r.WithdrawalRecordedBy,
	}
	for _, v := range r.Reveals {
		out.Reveals = append(out.Reveals, &intakev1.TargetReveal{RevealedBy: v.By, Roles: v.Roles, Reason: v.Reason, RevealTime: protoconv.Timestamp(v.At)})
	}
	return out
}

// stageProto renders a stage; the domain's amended (a timeline entry only)
// has no proto stage and comes back unspecified.
func stageProto(s domain.Stage) intakev1.Stage {
	return protoconv.EnumValue[intakev1.Stage](string(s), "STAGE_")
}
