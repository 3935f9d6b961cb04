package app

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"google.golang.org/protobuf/types/known/durationpb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// defined lists every defined value of an enum but the unspecified one.
func defined[E ~int32](e protoreflect.Enum) []E {
	var out []E
	vs := e.Descriptor().Values()
	for i := range vs.Len() {
		if n := vs.Get(i).Number(); n != 0 {
			out = append(out, E(n))
		}
	}
	return out
}

// Every value of every enum the codec maps comes back as it went in,
// through the message that carries it (proto -> domain -> proto).
func TestConvert_EveryEnumValueRoundTripsThroughItsMessage(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	check := func(in, back proto.Message) {
		t.Helper()
		if !proto.Equal(in, back) {
			t.Errorf("%v came back as %v", in, back)
		}
	}
	for _, o := range defined[notificationv1.RedirectOutcome](notificationv1.RedirectOutcome(0)) {
		in := &notificationv1.RedirectRecord{Outcome: o, Support: "s", RecordedBy: "by", RecordTime: protoconv.Timestamp(at)}
		check(in, redirectToProto(redirectFromProto(in)))
	}
	for _, k := range defined[notificationv1.StepKind](notificationv1.StepKind(0)) {
		for _, c := range defined[notificationv1.DeliveryChannel](notificationv1.DeliveryChannel(0)) {
			in := &notificationv1.Delivery{Step: k, Recipient: "r", Channel: c, DeliveryId: "d", Receipt: "rc", DeliveryTime: protoconv.Timestamp(at), Failed: true, FailureReason: "x"}
			check(in, deliveryToProto(deliveryFromProto(in)))
		}
		in := &notificationv1.Exemption{Step: k, Reason: "r", Basis: "b", RecordedBy: "by", RecordTime: protoconv.Timestamp(at)}
		check(in, exemptionToProto(exemptionFromProto(in)))
	}
	for _, o := range defined[notificationv1.ConsultationOutcome](notificationv1.ConsultationOutcome(0)) {
		in := &notificationv1.DpaConsultation{Authority: "a", Outcome: o, Summary: "s", RecordedBy: "by", RecordTime: protoconv.Timestamp(at)}
		check(in, consultationToProto(consultationFromProto(in)))
	}
	for _, k := range defined[notificationv1.WaiverEffortKind](notificationv1.WaiverEffortKind(0)) {
		for _, o := range defined[notificationv1.WaiverOutcome](notificationv1.WaiverOutcome(0)) {
			in := &notificationv1.WaiverEffort{Kind: k, Outcome: o, Person: "p", EffortTime: protoconv.Timestamp(at), Notes: "n", RecordedBy: "by"}
			check(in, effortToProto(effortFromProto(in), "by"))
		}
	}
}

// The hold's lift basis and the decision (recorded again in PlanDerived's
// inputs) come back as they went in, for every value (proto -> domain ->
// proto), and the inputs message with them.
func TestConvert_LiftBasisAndDecisionRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, b := range defined[notificationv1.HoldLiftBasis](notificationv1.HoldLiftBasis(0)) {
		if back := liftBasisToProto(liftBasisFromProto(b)); back != b {
			t.Errorf("lift basis %v came back as %v", b, back)
		}
	}
	for _, k := range defined[assessmentv1.DecisionKind](assessmentv1.DecisionKind(0)) {
		in := &notificationv1.PlanInputs{
			DecisionId: "d", Decision: k, CustomerIsController: true, CustomerId: "c",
			Prohibited: true, ProhibitionReference: "ref", ProhibitionExpireTime: protoconv.Timestamp(at.AddDate(0, 1, 0)),
			ImminentRisk: true, ImminentRiskBasis: "b", AuthorityCountry: "DE", ReceiveTime: protoconv.Timestamp(at),
			CustomerNoticePeriod: durationpb.New(72 * time.Hour),
			Adequacy:             &notificationv1.Adequacy{Country: "DE", EvaluateTime: protoconv.Timestamp(at), Recipient: "authority", Adequate: true, Reason: "r"},
			LeadDpa:              "lead", OtherDpas: []string{"other"},
		}
		if back := inputsToProto(inputsFromProto("r", in, at)); !proto.Equal(in, back) {
			t.Errorf("%v came back as %v", in, back)
		}
	}
}

// A step's status only goes out (the domain derives it), so the check is
// that every domain status has its own defined wire value and that every
// wire value is one of them: a status added on either side fails here.
func TestConvert_EveryStepStatusHasItsOwnWireValue(t *testing.T) {
	statuses := []domain.StepStatus{domain.StatusRequired, domain.StatusSkipped, domain.StatusDone, domain.StatusFailed, domain.StatusScheduled}
	seen := map[notificationv1.StepStatus]domain.StepStatus{}
	for _, s := range statuses {
		w := stepStatusToProto(s)
		if w == notificationv1.StepStatus_STEP_STATUS_UNSPECIFIED {
			t.Errorf("status %q has no wire value", s)
		}
		if prev, dup := seen[w]; dup {
			t.Errorf("statuses %q and %q share wire value %v", prev, s, w)
		}
		seen[w] = s
	}
	for _, w := range defined[notificationv1.StepStatus](notificationv1.StepStatus(0)) {
		if _, ok := seen[w]; !ok {
			t.Errorf("wire value %v is no domain status", w)
		}
	}
}
