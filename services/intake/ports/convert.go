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

// requestProto renders a request as its member reads it. Amendment entries
// of the domain timeline are left out of the stage timeline: the
// amendments list shows them.
func requestProto(r app.Request) *intakev1.Request {
	content := app.EncodeRequest(r.Content)
	for _, t := range r.Targets {
		content.Targets = append(content.Targets, &intakev1.Target{
			Kind:        protoconv.EnumValue[intakev1.TargetKind](string(t.Kind), "TARGET_KIND_"),
			Value:       t.Value,
			Ref:         t.Ref,
			SealedValue: t.Sealed,
			Erased:      t.Erased,
		})
	}
	out := &intakev1.Request{
		RequestId:       r.ID,
		GroupMember:     r.GroupMember,
		Content:         content,
		SubmitTime:      protoconv.Timestamp(r.SubmitTime),
		ForwardingDelay: durationpb.New(r.ForwardingDelay),
		LateForwarding:  r.LateForwarding,
		Stage:           stageProto(r.Stage),
		Outcome:         protoconv.EnumValue[intakev1.Outcome](string(r.Outcome), "OUTCOME_"),
	}
	for _, a := range r.Amendments {
		out.Amendments = append(out.Amendments, amendmentProto(a))
	}
	for _, e := range r.Timeline {
		if s := stageProto(e.Stage); s != intakev1.Stage_STAGE_UNSPECIFIED {
			out.Timeline = append(out.Timeline, &intakev1.TimelineEntry{Stage: s, Time: protoconv.Timestamp(e.At)})
		}
	}
	return out
}

// stageProto renders a stage; the domain's amended (a timeline entry only)
// has no proto stage and comes back unspecified.
func stageProto(s domain.Stage) intakev1.Stage {
	return protoconv.EnumValue[intakev1.Stage](string(s), "STAGE_")
}
