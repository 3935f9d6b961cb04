package service_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// Clause 4.1.2 (and 4.1.1): the targets' key is erased at the end of
// retention, which starts when the request ended. Erased while the
// request is open, notification would find no controller customer and
// skip the redirect ask and the customer notice owed before a disclosure,
// so intake refuses, and keeps the key: the targets still reveal. Once
// reporting recorded the end, the erasure goes through, and a retry is
// answered as done.
func TestClause4_1_2_TargetsOfAnOpenRequestCannotBeErased(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	m := client(t, p, memberA)
	id := submitted(t, m, "ret-1")
	lg, rv := client(t, p, legal), client(t, p, reviewer)

	_, err := lg.EraseTargets(ctxT(t), &intakev1.EraseTargetsRequest{RequestId: id, Reason: "retention"})
	if pv, ok := grpcserver.PolicyViolationFrom(err); status.Code(err) != codes.FailedPrecondition || !ok || pv.Clause != "4.1.2" || pv.Rule != "RETENTION_NOT_STARTED" {
		t.Fatalf("erasing an open request: %v, want FailedPrecondition with clause 4.1.2 RETENTION_NOT_STARTED", err)
	}
	out, err := rv.RevealTargets(ctxT(t), &intakev1.RevealTargetsRequest{RequestId: id, Reason: "to check the account exists"})
	if err != nil {
		t.Fatalf("reveal after the refused erasure: %v", err)
	}
	if ts := out.GetTargets(); len(ts) != 1 || ts[0].GetValue() != "x@example.org" || ts[0].GetErased() {
		t.Errorf("after the refused erasure the targets reveal as %v", ts)
	}

	// Reporting seals nothing of a terminal outcome, and may not read
	// the keys: its store has no sealer.
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/reporting"))
	if err != nil {
		t.Fatal(err)
	}
	rp := eventstore.NewStore(js)
	now := time.Now().UTC()
	appendAs(t, rp, id, "disposed-"+id, eventstore.Event{Time: now, Actor: approver, Payload: &reportingv1.DispositionRecorded{
		RequestId: id,
		Disposition: &reportingv1.Disposition{
			Kind:       &reportingv1.Disposition_Outcome{Outcome: reportingv1.TerminalOutcome_TERMINAL_OUTCOME_REJECTED},
			RecordTime: timestamppb.New(now), RecordedBy: approver,
		},
	}})
	getUntil(t, m, id, func(r *intakev1.Request) bool { return r.GetStage() == intakev1.Stage_STAGE_CLOSED })

	er, err := lg.EraseTargets(ctxT(t), &intakev1.EraseTargetsRequest{RequestId: id, Reason: "retention"})
	if err != nil || !er.GetErasedNow() {
		t.Fatalf("erasing the closed request: %v, %v", er, err)
	}
	if again, err := lg.EraseTargets(ctxT(t), &intakev1.EraseTargetsRequest{RequestId: id, Reason: "retention"}); err != nil || again.GetErasedNow() {
		t.Errorf("second erasure: %v, %v; want done already", again, err)
	}
	if _, err := rv.RevealTargets(ctxT(t), &intakev1.RevealTargetsRequest{RequestId: id, Reason: "again"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("reveal after the erasure: %v, want FailedPrecondition", err)
	}
}
