package app

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"google.golang.org/protobuf/types/known/durationpb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
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
			if k != notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER && k != notificationv1.StepKind_STEP_KIND_ASK_AUTHORITY_TO_REDIRECT && k != notificationv1.StepKind_STEP_KIND_WAIVER_EFFORTS {
				in.Dpa = "r" // a DPA's delivery names the authority unsealed, as its recipient
			}
			if k == notificationv1.StepKind_STEP_KIND_NOTIFY_DPA_OUTCOME {
				in.RequestEnd = string(policy.OutcomeRejected)
			}
			check(in, deliveryToProto(deliveryFromProto(in)))
		}
		in := &notificationv1.Exemption{Step: k, Reason: "r", Basis: "b", RecordedBy: "by", RecordTime: protoconv.Timestamp(at),
			LiftId: "exemption/x/1", EvidenceReference: "NDO-1", Statute: "s. 1", WhyNoticeDefeats: "w"}
		check(in, exemptionToProto(exemptionFromProto(in)))
	}
	for _, o := range defined[notificationv1.ConsultationOutcome](notificationv1.ConsultationOutcome(0)) {
		in := &notificationv1.DpaConsultation{Authority: "a", Outcome: o, Summary: "s", RecordedBy: "by", RecordTime: protoconv.Timestamp(at),
			ReplyReference: "R-1", ReplyTime: protoconv.Timestamp(at.Add(-time.Hour)), LiftId: "consultation/a/1"}
		check(in, consultationToProto(consultationFromProto(in)))
	}
	for _, m := range defined[notificationv1.DispatchMeans](notificationv1.DispatchMeans(0)) {
		in := &notificationv1.ManualDispatch{Authority: "a", Means: m, Reference: "P-1", SentTime: protoconv.Timestamp(at), LiftId: "dispatch/a/P-1"}
		check(in, dispatchToProto(dispatchFromProto(in)))
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
			ImminentRiskClaimed: true, ImminentRiskJustification: "j", DecisionProposer: "spiffe://d/staff/alice",
			Authorities: []string{"lead", "other", "CNIL"}, ConsultationPeriod: durationpb.New(240 * time.Hour),
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
	statuses := []domain.StepStatus{domain.StatusRequired, domain.StatusSkipped, domain.StatusDone, domain.StatusFailed, domain.StatusScheduled, domain.StatusStopped}
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

// Every issue 15 event comes back as it went in (domain -> proto ->
// domain), through the encoder and decoder the store uses.
func TestConvert_SafeguardEventsRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	lift := policy.Lift{ID: "exemption/NOTIFY_CUSTOMER/1", Clause: policy.Clause4_1_2, What: "w", Basis: "b", Evidence: "NDO-1",
		RecordedBy: "spiffe://d/staff/alice", RecordedAt: at, ConfirmRoles: []policy.Role{policy.RoleLegal}, Barred: []string{"spiffe://d/staff/bob"}}
	p := &domain.Plan{}
	derived := domain.PlanDerived{RequestID: "r", Requirements: domain.Requirements{RequestID: "r", Decision: policy.DecisionDisclose, ReceivedAt: at},
		Config: domain.Config{LeadDPA: "lead"}, Authorities: []string{"lead"}, At: at}
	evs := []domain.Event{
		derived,
		domain.ExemptionProposed{Exemption: domain.Exemption{Step: domain.StepNotifyCustomer, Reason: domain.SkipProhibited, Basis: "b", By: "a", At: at,
			LiftID: lift.ID, Evidence: "NDO-1", Statute: "s", WhyNoticeDefeats: "w"}, Lift: lift},
		domain.ConsultationOutcomeProposed{Consultation: domain.Consultation{Authority: "lead", Outcome: domain.ConsultationNoObjection, Summary: "s", By: "a", At: at,
			ReplyReference: "R", ReplyDate: at, LiftID: "consultation/lead/1"}, Lift: lift},
		domain.ManualDispatchProposed{Dispatch: domain.ManualDispatch{Authority: "lead", Means: domain.DispatchPost, Reference: "P", SentAt: at, LiftID: "dispatch/lead/P"}, Lift: lift},
		domain.WeakeningProposed{Step: domain.StepNotifyDPA, Lift: lift},
		domain.LiftConfirmed{LiftID: lift.ID, By: policy.Person{ID: "spiffe://d/staff/carol", Roles: []policy.Role{policy.RoleLegal, policy.RoleApprover}}, At: at},
		domain.AdequacyLost{Adequacy: policy.Adequacy{Country: "GB", At: at, Recipient: "government_authority", Reason: "lapsed"}, At: at},
	}
	out, err := encoder{requestID: "r", trigger: "t", actor: "a", at: at, p: p}.encode(evs)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range out[1:] {
		back, ok, err := decodeEvent(ev)
		if err != nil || !ok {
			t.Fatalf("%T: decode %v, %v", evs[i+1], ok, err)
		}
		if diff := cmp.Diff(evs[i+1], back); diff != "" {
			t.Errorf("%T (-want +got):\n%s", evs[i+1], diff)
		}
	}
}

// The index folds every notification event the plan's fold reads: an event
// it missed would leave the delivery worker sweeping a stale plan (a lift
// confirmed, a packet owed).
func TestIndexFoldsEveryEventThePlanReads(t *testing.T) {
	filters, _ := NewIndex(nil, nil).Projection()
	for _, k := range eventstore.Kinds() {
		if k.Service != Service {
			continue
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(k.Type))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := decodeEvent(eventstore.Event{Payload: mt.New().Interface()}); !ok {
			continue // not part of the fold (RequestRedirected repeats another event)
		}
		if !slices.Contains(filters, k.Pattern()) {
			t.Errorf("the index does not fold %s (%s)", k.Type, k.Pattern())
		}
	}
}

// Issue 16's notification events come back as they went in.
func TestConvert_LifecycleEventsRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	p := &domain.Plan{}
	derived := domain.PlanDerived{RequestID: "r", Requirements: domain.Requirements{RequestID: "r", DecisionID: "D1", Decision: policy.DecisionDisclose, ReceivedAt: at},
		Config: domain.Config{LeadDPA: "lead", NoticeWindow: 48 * time.Hour}, Authorities: []string{"lead"}, At: at}
	evs := []domain.Event{
		derived,
		domain.DpaObjected{DecisionID: "D1", DPA: "lead", At: at},
		domain.NoticeOverdue{DeadlineID: domain.DeadlineNoticeAfterEmergency + "/c2", Step: domain.StepNotifyCustomer, CustomerRef: "c2", Due: at, At: at.Add(time.Hour)},
		domain.StepsStopped{Reason: domain.StopReopened, CauseEventID: "ev-1", Steps: []domain.StepKind{domain.StepNotifyCustomer, domain.StepNotifyDPA}, At: at},
		domain.StepsStopped{Reason: domain.StopWithdrawn, CauseEventID: "ev-2", At: at},
	}
	out, err := encoder{requestID: "r", trigger: "t", actor: "a", at: at, p: p}.encode(evs)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range out {
		back, ok, err := decodeEvent(ev)
		if err != nil || !ok {
			t.Fatalf("%T: decode %v, %v", evs[i], ok, err)
		}
		if i == 0 {
			if got := back.(domain.PlanDerived).Config.NoticeWindow; got != 48*time.Hour {
				t.Errorf("notice window %v", got)
			}
			continue
		}
		if diff := cmp.Diff(evs[i], back); diff != "" {
			t.Errorf("%T (-want +got):\n%s", evs[i], diff)
		}
	}
}
