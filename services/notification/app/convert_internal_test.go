package app

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
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
