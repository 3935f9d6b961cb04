package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	commonv1 "github.com/ddrsuite/ddr/gen/ddr/common/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/testkit"
	"github.com/ddrsuite/ddr/services/reporting/ports"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

func consultedBy(id, dpa string, at time.Time) eventstore.Event {
	ev := dpaConsulted(id, at)
	ev.Payload = &notificationv1.DpaConsulted{RequestId: id, Consultation: &notificationv1.DpaConsultation{
		Authority: dpa, Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_NO_OBJECTION, RecordedBy: staff.URI, RecordTime: timestamppb.New(at),
	}}
	return ev
}

func sync(t *testing.T, e *env) {
	t.Helper()
	if err := e.comp.WaitFor(context.Background(), lastSeq(t, e)); err != nil {
		t.Fatal(err)
	}
}

// A DPA reads the copy of a request it was consulted on, without personal
// data, with proofs it checks offline; a request outside its remit is
// NOT_FOUND (as an unknown one) until staff open it with a reason; its
// raw record stays closed to it; every read is in the record; and the
// record log it saw earlier is proven a prefix of today's. A request a
// court order keeps out of the report is in the record log like any other.
func TestClause5_1_DPAReadsWithinItsRemitAndEveryReadIsRecorded(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	e, vkey := publishing(t, c)
	ctx := context.Background()
	origin := transparency.RecordOrigin("example.com/transparency")
	t1 := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	const consulted, other = "req-consulted", "req-other"
	e.append(t, consulted, received(consulted, t1, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "BR", 1, false, false))
	e.append(t, consulted, decided(consulted, t1.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1),
		consultedBy(consulted, "DPC-IE", t1.Add(2*time.Hour)), cleared(consulted, t1.Add(3*time.Hour)))
	e.append(t, other, received(other, t1, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "US", 1, false, false))
	// A court order keeps this one out of the report: it is a leaf of the
	// record log all the same, so a DPA can tell "lawfully excluded" from
	// "removed".
	e.append(t, other, restrictionEvent(other, t1.Add(time.Minute), reportingv1.ReportingRestriction_REPORTING_RESTRICTION_EXCLUDED_BY_COURT_ORDER),
		decided(other, t1.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_REJECT, 0))
	waitSeals(t, e, consulted, 1)
	waitSeals(t, e, other, 1)
	sync(t, e)

	res, err := e.dpa.GetRecordProof(ctx, &reportingv1.GetRecordProofRequest{RequestId: consulted})
	if err != nil {
		t.Fatal(err)
	}
	proof := ports.RecordProofFromProto(res)
	first, err := transparency.VerifyRecordProof(proof, vkey, origin, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(proof.Seals) == 0 || len(proof.Entries) < 4 {
		t.Fatalf("copy of %d entries, %d seals", len(proof.Entries), len(proof.Seals))
	}
	for _, en := range proof.Entries {
		if strings.Contains(en.Actor, "spiffe://") || strings.Contains(en.Actor, staff.Name) || strings.Contains(en.Actor, member.Name) {
			t.Errorf("entry %d names its actor: %q", en.Seq, en.Actor)
		}
	}

	for _, id := range []string{other, "req-unknown"} {
		if _, err := e.dpa.GetRecordProof(ctx, &reportingv1.GetRecordProofRequest{RequestId: id}); status.Code(err) != codes.NotFound {
			t.Fatalf("%s outside the remit: %v, want NOT_FOUND", id, err)
		}
	}
	if _, err := e.dpa.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: consulted}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("DPA reading the raw record: %v, want PERMISSION_DENIED", err)
	}
	if _, err := e.dpa.OpenRecordToDpa(ctx, &reportingv1.OpenRecordToDpaRequest{RequestId: other, Dpa: "dpc-ie", Reason: "x"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("DPA opening a record to itself: %v, want PERMISSION_DENIED", err)
	}
	if _, err := e.staff.GetRecordProof(ctx, &reportingv1.GetRecordProofRequest{RequestId: consulted}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("staff asking for a DPA copy: %v, want PERMISSION_DENIED", err)
	}

	// Staff open the other request to the DPA, with a reason; it is recorded.
	if _, err := e.staff.OpenRecordToDpa(ctx, &reportingv1.OpenRecordToDpaRequest{RequestId: other, Dpa: "dpc-ie", Reason: "inquiry DPC-2026-114 of 2026-08-30"}); err != nil {
		t.Fatal(err)
	}
	const third = "req-third"
	e.append(t, third, received(third, t1, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SEARCH_WARRANT, "FR", 1, false, false))
	e.append(t, third, decided(third, t1.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_REJECT, 0))
	waitSeals(t, e, third, 1)
	sync(t, e)
	res2, err := e.dpa.GetRecordProof(ctx, &reportingv1.GetRecordProofRequest{RequestId: other})
	if err != nil {
		t.Fatal(err)
	}
	// The log grew since the first copy: the DPA checks it extends the
	// checkpoint it kept.
	cons, err := e.dpa.GetRecordLogConsistency(ctx, &reportingv1.GetRecordLogConsistencyRequest{OldSize: first.Size})
	if err != nil {
		t.Fatal(err)
	}
	later := ports.RecordProofFromProto(res2)
	if len(later.Seals) == 0 {
		t.Fatal("the court-order-excluded request has no seal in the record log")
	}
	if next, _ := transparency.VerifyRecordProof(later, vkey, origin, nil, nil); next.Size <= first.Size {
		t.Fatalf("the record log did not grow: %d then %d", first.Size, next.Size)
	}
	later.Checkpoint = cons.GetCheckpoint()
	if _, err := transparency.VerifyRecordProof(later, vkey, origin, proof.Checkpoint, ports.HashesFromProto(cons.GetProof())); err != nil {
		t.Fatal(err)
	}

	for id, want := range map[string]int{consulted: 1, other: 1} {
		n := 0
		for _, en := range getRecord(t, e, id).GetEntries() {
			if strings.HasSuffix(en.GetSubject(), ".reporting.dpa_record_read") {
				n++
				if en.GetActor() != dpaIE.URI {
					t.Errorf("read recorded as by %q", en.GetActor())
				}
			}
		}
		if n != want {
			t.Errorf("%s: %d DPA reads in the record, want %d", id, n, want)
		}
	}
}

// A DPA the packet was delivered to (2.2) has the request in its remit:
// the delivery names it in the unsealed dpa field, as the recipient is
// sealed. Another DPA gets NOT_FOUND until its own packet, sent by hand,
// is confirmed by a second person.
func TestClause5_1_ANotifiedDPAReadsTheCopyAnotherDPAGetsNotFound(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	e, _ := publishing(t, c)
	ctx := context.Background()
	t1 := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	const id = "req-notified"
	packet := noticeDelivered(id, t1.Add(2*time.Hour), notificationv1.StepKind_STEP_KIND_NOTIFY_DPA)
	d := packet.Payload.(*notificationv1.NoticeDelivered).GetDelivery()
	d.Recipient, d.Dpa = "DPC-IE <mailto:consult@dpc.example>", "DPC-IE"
	e.append(t, id, received(id, t1, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "US", 1, false, false))
	e.append(t, id, decided(id, t1.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1), packet, cleared(id, t1.Add(3*time.Hour)))
	waitSeals(t, e, id, 1)
	sync(t, e)

	if _, err := e.dpa.GetRecordProof(ctx, &reportingv1.GetRecordProofRequest{RequestId: id}); err != nil {
		t.Fatalf("the notified DPA: %v", err)
	}
	cnil := func() error {
		_, err := e.dpaFR.GetRecordProof(ctx, &reportingv1.GetRecordProofRequest{RequestId: id})
		return err
	}
	if err := cnil(); status.Code(err) != codes.NotFound {
		t.Fatalf("a DPA not notified: %v, want NOT_FOUND", err)
	}

	// CNIL's packet goes by post: proposed, it opens nothing; confirmed,
	// CNIL was notified.
	lift := "dispatch/CNIL/R-1"
	at := timestamppb.New(t1.Add(4 * time.Hour))
	e.append(t, id, eventstore.Event{
		ID: eventstore.DerivedID(id, "notification.manual_dispatch_proposed", lift), RequestID: id, Service: "notification", Name: "manual_dispatch_proposed", Time: t1.Add(4 * time.Hour),
		Payload: &notificationv1.ManualDispatchProposed{RequestId: id,
			Dispatch: &notificationv1.ManualDispatch{Authority: "CNIL", Means: notificationv1.DispatchMeans_DISPATCH_MEANS_POST, Reference: "R-1", SentTime: at, LiftId: lift},
			Lift:     &commonv1.Lift{Id: lift, Clause: "2.2"}},
	})
	sync(t, e)
	if err := cnil(); status.Code(err) != codes.NotFound {
		t.Fatalf("a dispatch one person recorded: %v, want NOT_FOUND", err)
	}
	e.append(t, id, eventstore.Event{
		ID: eventstore.DerivedID(id, "notification.lift_confirmed", lift), RequestID: id, Service: "notification", Name: "lift_confirmed", Time: t1.Add(5 * time.Hour),
		Payload: &notificationv1.LiftConfirmed{RequestId: id, LiftId: lift, ConfirmedBy: counsel.URI, ConfirmTime: timestamppb.New(t1.Add(5 * time.Hour))},
	})
	sync(t, e)
	if err := cnil(); err != nil {
		t.Fatalf("CNIL, its packet confirmed: %v", err)
	}
}
