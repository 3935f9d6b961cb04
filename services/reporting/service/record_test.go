package service_test

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/testkit"
	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/ports"
	"github.com/ddrsuite/ddr/services/reporting/service"
)

var t0 = time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)

func getRecord(t *testing.T, e *env, id string) *reportingv1.Record {
	t.Helper()
	res, err := e.staff.GetRecord(context.Background(), &reportingv1.GetRecordRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	return res.GetRecord()
}

func seals(r *reportingv1.Record) int {
	n := 0
	for _, e := range r.GetEntries() {
		n += map[bool]int{true: 1}[strings.HasSuffix(e.GetSubject(), ".reporting.sealed")]
	}
	return n
}

func waitSeals(t *testing.T, e *env, id string, n int) *reportingv1.Record {
	t.Helper()
	var rec *reportingv1.Record
	testkit.Eventually(t, "the record to be sealed", func() bool {
		rec = getRecord(t, e, id)
		last := rec.GetEntries()[len(rec.GetEntries())-1]
		return seals(rec) >= n && strings.HasSuffix(last.GetSubject(), ".reporting.sealed")
	})
	return rec
}

func verify(t *testing.T, e *env, req *reportingv1.VerifyRecordRequest) *reportingv1.VerifyRecordResponse {
	t.Helper()
	res, err := e.staff.VerifyRecord(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The thin path ends here: intake → assessment → notification → a record
// that holds every event in order, with who and when, sealed at the
// terminal point and again after the disposition.
func TestRecord_EveryEventInOrderWithWhoAndWhenSealedAtClearingAndAfterDisposition(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: 180 * 24 * time.Hour})
	ctx := context.Background()
	const id = "req-thin-path"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "DE", 2, false, false))
	e.append(t, id, decided(id, t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 2))
	e.append(t, id, cleared(id, t0.Add(2*time.Hour)))

	rec := waitSeals(t, e, id, 1)
	if !rec.GetClosed() {
		t.Error("record of a cleared request is not closed")
	}
	var raw []eventstore.RawMsg
	if err := eventstore.Scan(ctx, e.js, eventstore.StreamName, eventstore.RequestFilter(id), func(m eventstore.RawMsg) error {
		raw = append(raw, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(rec.GetEntries()) != 4 || len(raw) != 4 {
		t.Fatalf("record has %d entries, stream %d; want received, decided, cleared, sealed", len(rec.GetEntries()), len(raw))
	}
	wantSubjects := []string{"intake.received", "assessment.decided", "notification.cleared", "reporting.sealed"}
	for i, en := range rec.GetEntries() {
		m := raw[i]
		sum := sha256.Sum256(m.Data)
		switch {
		case en.GetSubject() != "ddr.req."+id+"."+wantSubjects[i]:
			t.Errorf("entry %d is %s, want %s", i, en.GetSubject(), wantSubjects[i])
		case en.GetSequence() != m.Sequence || en.GetEventId() != m.Header.Get(eventstore.HeaderID) || en.GetEventType() != m.Header.Get(eventstore.HeaderType):
			t.Errorf("entry %d does not describe stored message %d", i, m.Sequence)
		case string(en.GetPayloadDigest()) != string(sum[:]):
			t.Errorf("entry %d digest is not SHA-256 of the payload as stored", i)
		case en.GetEventTime().AsTime().Format(time.RFC3339Nano) != m.Header.Get(eventstore.HeaderTime):
			t.Errorf("entry %d time %s, stored %s", i, en.GetEventTime().AsTime(), m.Header.Get(eventstore.HeaderTime))
		}
	}
	if got := rec.GetEntries()[0].GetActor(); got != member.URI {
		t.Errorf("receipt actor %q, want the group member %q", got, member.URI)
	}
	if got := rec.GetEntries()[1].GetActor(); got != staff.URI {
		t.Errorf("decision actor %q, want %q", got, staff.URI)
	}
	if string(rec.GetHeadHash()) != string(rec.GetEntries()[3].GetEntryHash()) {
		t.Error("head hash is not the last entry's hash")
	}
	var sealed reportingv1.RecordSealed
	if err := proto.Unmarshal(raw[3].Data, &sealed); err != nil {
		t.Fatal(err)
	}
	if string(sealed.GetHeadHash()) != string(rec.GetEntries()[2].GetEntryHash()) || sealed.GetEntryCount() != 3 || sealed.GetLastSequence() != raw[2].Sequence {
		t.Errorf("seal %v does not commit to the three entries before it", &sealed)
	}
	if v := verify(t, e, &reportingv1.VerifyRecordRequest{RequestId: id}); !v.GetValid() || v.GetSealsChecked() != 1 || v.GetEntriesChecked() != 4 || v.GetFirstBreakIndex() != -1 {
		t.Fatalf("verify: %v", v)
	}

	if _, err := e.staff.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: id, Kind: &reportingv1.RecordDispositionRequest_Disclosure{Disclosure: &reportingv1.Disclosure{
		Categories: []reportingv1.DataCategory{reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER}, Accounts: 2,
		DiscloseTime: timestamppb.New(t0.Add(3 * time.Hour)), Means: reportingv1.DeliveryMeans_DELIVERY_MEANS_SECURE_PORTAL,
	}}}); err != nil {
		t.Fatal(err)
	}
	rec = waitSeals(t, e, id, 2)
	if n := len(rec.GetEntries()); n != 6 {
		t.Fatalf("%d entries after the disposition, want 6 (…, sealed, disposition_recorded, sealed)", n)
	}
	if got := rec.GetEntries()[4].GetActor(); got != staff.URI {
		t.Errorf("disposition actor %q, want %q", got, staff.URI)
	}
	if v := verify(t, e, &reportingv1.VerifyRecordRequest{RequestId: id}); !v.GetValid() || v.GetSealsChecked() != 2 {
		t.Fatalf("verify after the disposition: %v", v)
	}
}

// Every trigger delivered again (the durable consumer recreated, so the
// whole stream is replayed) seals nothing twice: one seal per terminal point.
func TestRecord_RedeliveredTriggersSealNothingTwice(t *testing.T) {
	cfg := service.Config{BandWidth: 250, Delay: time.Hour}
	e := start(t, cfg)
	ctx := context.Background()
	const id = "req-rejected"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_NONE, "US", 1, false, false))
	e.append(t, id, decided(id, t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_REJECT, 0))
	waitSeals(t, e, id, 1)
	// A withdrawal after the rejection is a new terminal event: one more seal.
	e.append(t, id, withdrawn(id, t0.Add(2*time.Hour)))
	waitSeals(t, e, id, 2)

	e.comp.Stop()
	if err := e.js.DeleteConsumer(ctx, eventstore.StreamName, ports.SealConsumer); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	again, err := service.New(cctx, e.deps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The server removes the old consumer's files in the background; a
	// create racing that removal fails, and is simply tried again.
	testkit.Eventually(t, "the consumer to be recreated", func() bool { return again.Start(cctx) == nil })
	t.Cleanup(func() { cancel(); again.Stop() })
	testkit.Eventually(t, "the replayed triggers to be handled", func() bool {
		c, err := e.js.Consumer(ctx, eventstore.StreamName, ports.SealConsumer)
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.Delivered.Consumer >= 2 && info.NumPending == 0 && info.NumAckPending == 0
	})
	if n := seals(getRecord(t, e, id)); n != 2 {
		t.Fatalf("%d seals after every trigger was delivered again, want 2", n)
	}
}

func TestClause2_2_DisclosureRecordedOnlyAfterClearing(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: time.Hour})
	ctx := context.Background()
	const id = "req-not-cleared"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SEARCH_WARRANT, "FR", 1, false, false))
	e.append(t, id, decided(id, t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1))
	disclose := &reportingv1.RecordDispositionRequest{RequestId: id, Kind: &reportingv1.RecordDispositionRequest_Disclosure{Disclosure: &reportingv1.Disclosure{
		Categories: []reportingv1.DataCategory{reportingv1.DataCategory_DATA_CATEGORY_CONTENT}, Accounts: 1,
		DiscloseTime: timestamppb.New(t0.Add(3 * time.Hour)), Means: reportingv1.DeliveryMeans_DELIVERY_MEANS_IN_PERSON,
	}}}
	_, err := e.staff.RecordDisposition(ctx, disclose)
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("disclosure before clearing: %v, want FAILED_PRECONDITION", err)
	}
	if pv, ok := grpcserver.PolicyViolationFrom(err); !ok || pv.Clause != "2.2" || pv.Rule != "DISCLOSURE_BEFORE_CLEARED" {
		t.Fatalf("policy detail %+v, want clause 2.2 DISCLOSURE_BEFORE_CLEARED", pv)
	}

	e.append(t, id, cleared(id, t0.Add(2*time.Hour)))
	if _, err := e.staff.RecordDisposition(ctx, disclose); err != nil {
		t.Fatalf("disclosure after clearing: %v", err)
	}
	if _, err := e.staff.RecordDisposition(ctx, disclose); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("second disposition: %v, want FAILED_PRECONDITION", err)
	}
}

func TestDisposition_TerminalOutcomeNeedsNoClearingAndCallerMustBeStaff(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: time.Hour})
	ctx := context.Background()
	const id = "req-terminal"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "BR", 1, false, false))
	req := &reportingv1.RecordDispositionRequest{RequestId: id, Kind: &reportingv1.RecordDispositionRequest_Outcome{Outcome: reportingv1.TerminalOutcome_TERMINAL_OUTCOME_CHALLENGED}}
	if _, err := e.member.RecordDisposition(ctx, req); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("group member: %v, want PERMISSION_DENIED", err)
	}
	// The record agrees with the decision: "challenged" only once a
	// challenge was decided (issue 15).
	_, err := e.staff.RecordDisposition(ctx, req)
	if pv, ok := grpcserver.PolicyViolationFrom(err); !ok || pv.Clause != "2.1" || pv.Rule != "OUTCOME_NOT_ALLOWED_BY_DECISION" {
		t.Fatalf("challenged without a challenge decision: %v, want clause 2.1 OUTCOME_NOT_ALLOWED_BY_DECISION", err)
	}
	e.append(t, id, decided(id, t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_CHALLENGE, 0))
	res, err := e.staff.RecordDisposition(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.GetDisposition().GetOutcome() != reportingv1.TerminalOutcome_TERMINAL_OUTCOME_CHALLENGED || res.GetDisposition().GetRecordedBy() != staff.URI {
		t.Fatalf("disposition %v", res.GetDisposition())
	}
	waitSeals(t, e, id, 1)
	if _, err := e.staff.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: "req-unknown", Kind: req.Kind}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown request: %v, want NOT_FOUND", err)
	}
	if _, err := e.staff.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: id}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("no disposition kind: %v, want INVALID_ARGUMENT", err)
	}
	if _, err := e.staff.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: "req-unknown"}); status.Code(err) != codes.NotFound {
		t.Fatalf("record of an unknown request: %v, want NOT_FOUND", err)
	}
}

// A copy of a record kept on file, with one entry changed, is caught and
// the changed entry named: by its own chain when the hashes were left, by
// the stream when a forger recomputed them.
func TestClause4_2_2_TamperedRecordCopyNamesTheBreak(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: time.Hour})
	const id = "req-tamper"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER, "GB", 3, false, true))
	e.append(t, id, decided(id, t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 3))
	e.append(t, id, cleared(id, t0.Add(2*time.Hour)))
	waitSeals(t, e, id, 1)

	file := filepath.Join(t.TempDir(), "record.json")
	b, err := protojson.MarshalOptions{Multiline: true}.Marshal(getRecord(t, e, id))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	load := func() *reportingv1.Record {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var r reportingv1.Record
		if err := protojson.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	if v := verify(t, e, &reportingv1.VerifyRecordRequest{RequestId: id, Copy: load()}); !v.GetValid() {
		t.Fatalf("untouched copy: %v", v)
	}

	// Someone rewrites who decided.
	cp := load()
	cp.GetEntries()[1].Actor = "spiffe://ddr.test/staff/someone-else"
	v := verify(t, e, &reportingv1.VerifyRecordRequest{RequestId: id, Copy: cp})
	if v.GetValid() || v.GetFirstBreakIndex() != 1 || v.GetFirstBreakSequence() != cp.GetEntries()[1].GetSequence() {
		t.Fatalf("changed entry 1: %v, want a break at index 1", v)
	}
	t.Logf("verify says: %s", v.GetDetail())

	// A forger also recomputes every hash after the change.
	cp = load()
	cp.GetEntries()[2].EventTime = timestamppb.New(cp.GetEntries()[2].GetEventTime().AsTime().Add(-time.Hour))
	var prev domain.Digest
	for _, en := range cp.GetEntries() {
		var pd domain.Digest
		copy(pd[:], en.GetPayloadDigest())
		prev = domain.EntryHash(prev, domain.Entry{Seq: en.GetSequence(), Subject: en.GetSubject(), Type: en.GetEventType(), EventID: en.GetEventId(), Actor: en.GetActor(), Time: en.GetEventTime().AsTime(), PayloadDigest: pd})
		en.EntryHash = append([]byte(nil), prev[:]...)
	}
	cp.HeadHash = append([]byte(nil), prev[:]...)
	v = verify(t, e, &reportingv1.VerifyRecordRequest{RequestId: id, Copy: cp})
	if v.GetValid() || v.GetFirstBreakIndex() != 2 || !strings.Contains(v.GetDetail(), "differs from the record in the stream") {
		t.Fatalf("re-hashed copy changed at entry 2: %v, want a break at index 2 against the stream", v)
	}
}

// The record takes the adequacy the clearance rested on (issue 15): a
// clearance that found the authority's country adequate is judged again at
// the disclosure date with the process's registry, a clearance recorded
// before adequacy was judged with it is not, and notification's
// AdequacyLost revokes the clearance.
func TestClause4_2_1_DisclosureIsJudgedAgainAtItsDateAndAdequacyLostRevokesTheClearance(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: time.Hour})
	ctx := context.Background()
	disclose := func(id string) error {
		_, err := e.staff.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: id, Kind: &reportingv1.RecordDispositionRequest_Disclosure{Disclosure: &reportingv1.Disclosure{
			Categories: []reportingv1.DataCategory{reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER}, Accounts: 1,
			DiscloseTime: timestamppb.New(t0.Add(3 * time.Hour)), Means: reportingv1.DeliveryMeans_DELIVERY_MEANS_SECURE_PORTAL,
		}}})
		return err
	}
	decidedFrom := func(id, country string) {
		e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, country, 1, false, false))
		e.append(t, id, decided(id, t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1))
	}
	judged := func(id string, adequate bool) eventstore.Event {
		ev := cleared(id, t0.Add(2*time.Hour))
		p := ev.Payload.(*notificationv1.RequestCleared)
		p.Adequate, p.AdequacyJudged = adequate, true
		return ev
	}

	// Found adequate at clearance, but a US authority is not adequate on
	// the disclosure date by the registry (the EU-US framework covers no
	// government authority).
	decidedFrom("req-us-judged", "US")
	e.append(t, "req-us-judged", judged("req-us-judged", true))
	if pv, ok := grpcserver.PolicyViolationFrom(disclose("req-us-judged")); !ok || pv.Clause != "4.2.1" || pv.Rule != "ADEQUACY_LOST_BEFORE_DISCLOSURE" {
		t.Fatalf("disclosure after adequacy was lost: %+v, want clause 4.2.1 ADEQUACY_LOST_BEFORE_DISCLOSURE", pv)
	}
	// The same clearance as written before issue 15: not judged again.
	decidedFrom("req-us-old", "US")
	e.append(t, "req-us-old", cleared("req-us-old", t0.Add(2*time.Hour)))
	if err := disclose("req-us-old"); err != nil {
		t.Fatalf("a clearance recorded before adequacy was judged with it: %v", err)
	}
	// Notification found adequacy lost after the clearance: no clearance.
	decidedFrom("req-de-lost", "DE")
	e.append(t, "req-de-lost", judged("req-de-lost", true))
	e.append(t, "req-de-lost", eventstore.Event{
		ID: eventstore.DerivedID("req-de-lost", "notification.adequacy_lost"), RequestID: "req-de-lost", Service: "notification", Name: "adequacy_lost", Time: t0.Add(150 * time.Minute),
		Payload: &notificationv1.AdequacyLost{RequestId: "req-de-lost", JudgeTime: timestamppb.New(t0.Add(150 * time.Minute))},
	})
	if pv, ok := grpcserver.PolicyViolationFrom(disclose("req-de-lost")); !ok || pv.Clause != "2.2" || pv.Rule != "DISCLOSURE_BEFORE_CLEARED" {
		t.Fatalf("disclosure after AdequacyLost: %+v, want clause 2.2 DISCLOSURE_BEFORE_CLEARED", pv)
	}
}
