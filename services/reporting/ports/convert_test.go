package ports

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/reporting/app"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// values lists every defined value of an enum but the unspecified one.
func values[E ~int32](e protoreflect.Enum) []E {
	var out []E
	vs := e.Descriptor().Values()
	for i := range vs.Len() {
		if n := vs.Get(i).Number(); n != 0 {
			out = append(out, E(n))
		}
	}
	return out
}

func TestConvert_EveryEnumValueRoundTrips(t *testing.T) {
	for _, o := range values[reportingv1.TerminalOutcome](reportingv1.TerminalOutcome(0)) {
		d := app.TerminalFromProto(o)
		if !d.Valid() {
			t.Errorf("%v has no domain outcome", o)
		}
		if back := app.TerminalToProto(d); back != o {
			t.Errorf("%v -> %v -> %v", o, d, back)
		}
	}
	for _, r := range values[reportingv1.ReportingRestriction](reportingv1.ReportingRestriction(0)) {
		if back := app.RestrictionToProto(app.RestrictionFromProto(r)); back != r {
			t.Errorf("%v -> %v", r, back)
		}
	}
	// Every category and every means, through a disclosure and a disposition.
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, m := range values[reportingv1.DeliveryMeans](reportingv1.DeliveryMeans(0)) {
		in := &reportingv1.Disclosure{Accounts: 3, DiscloseTime: protoconv.Timestamp(at), Means: m,
			Categories: values[reportingv1.DataCategory](reportingv1.DataCategory(0))}
		d := app.DisclosureFromProto(in)
		if !slices.Contains([]domain.DeliveryMeans{domain.DeliverySecurePortal, domain.DeliveryEncryptedEmail, domain.DeliveryEncryptedMedia, domain.DeliveryInPerson}, d.Means) {
			t.Errorf("%v is no known domain means: %q", m, d.Means)
		}
		if back := app.DisclosureToProto(d); !proto.Equal(back, in) {
			t.Errorf("disclosure %v -> %v", in, back)
		}
		disp := app.DispositionToProto(domain.Disposition{Disclosure: &d, At: at}, at, "spiffe://ddr.local/staff/ana")
		got, ok := app.DispositionFromProto(disp)
		if !ok || got.Disclosure == nil || !slices.Equal(got.Disclosure.Categories, d.Categories) || got.Disclosure.Means != d.Means || !got.At.Equal(at) {
			t.Errorf("disposition %v read back as %+v, %v", disp, got, ok)
		}
	}
	for _, o := range values[reportingv1.TerminalOutcome](reportingv1.TerminalOutcome(0)) {
		disp := app.DispositionToProto(domain.Disposition{Terminal: app.TerminalFromProto(o), At: at}, at, "spiffe://ddr.local/staff/ana")
		if got, ok := app.DispositionFromProto(disp); !ok || got.Terminal != app.TerminalFromProto(o) || !got.At.Equal(at) {
			t.Errorf("outcome %v read back as %+v, %v", o, got, ok)
		}
	}
}

func TestConvert_RecordRoundTrips(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	rec := &app.Record{RequestID: "req-1"}
	var chain domain.Chain
	for i, typ := range []string{"ddr.intake.v1.RequestReceived", "ddr.assessment.v1.AssessmentDecided"} {
		e := domain.Entry{Seq: uint64(i + 1), Subject: "ddr.req.req-1.x.y", Type: typ, EventID: typ + "-id", Actor: "spiffe://ddr.local/staff/ana",
			Time: at.Add(time.Duration(i) * time.Minute), PayloadDigest: domain.PayloadDigest([]byte(typ))}
		if _, err := chain.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	rec.Entries, rec.Hashes = chain.Entries(), chain.Hashes()
	back := recordFromProto(recordToProto(rec))
	if back.RequestID != rec.RequestID || !slices.Equal(back.Hashes, rec.Hashes) || back.StatedHead != rec.Head() {
		t.Fatalf("record read back as %+v", back)
	}
	if len(back.Entries) != len(rec.Entries) {
		t.Fatalf("%d entries, want %d", len(back.Entries), len(rec.Entries))
	}
	for i := range rec.Entries {
		if back.Entries[i] != rec.Entries[i] {
			t.Errorf("entry %d: %+v, want %+v", i, back.Entries[i], rec.Entries[i])
		}
	}
}

// A proposed restriction folds back as proposed; its basis is its legal
// reference and is never written as free text (reporting cannot seal).
func TestConvert_RestrictionProposalRoundTripsWithoutFreeText(t *testing.T) {
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	p := domain.RestrictionProposal{Restriction: domain.RestrictionExcludedByCourtOrder, LegalReference: "LG Berlin 1/26", Lift: policy.Lift{
		ID: "restriction/excluded_by_court_order", Clause: policy.Clause5_1, What: "the report restriction", Basis: "LG Berlin 1/26",
		Evidence: "LG Berlin 1/26", RecordedBy: "spiffe://ddr.test/staff/carol", RecordedAt: at,
		ConfirmRoles: []policy.Role{policy.RoleLegal}, Barred: []string{"spiffe://ddr.test/staff/alice"},
	}}
	ev := app.RestrictionProposalToProto("req-1", p)
	if ev.GetLift().GetBasis() != "" {
		t.Errorf("the lift's free-text basis is written: %q", ev.GetLift().GetBasis())
	}
	if got := app.RestrictionProposalFromProto(ev); !reflect.DeepEqual(got, p) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, p)
	}
}
