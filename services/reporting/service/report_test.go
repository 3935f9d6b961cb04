package service_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"flag"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/testkit"
	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/service"
)

var h1 = domain.Period{Year: 2026, Half: domain.H1}

// cfgAt is the component's configuration on the test clock c.
func cfgAt(c *testkit.Clock, band int) service.Config {
	return service.Config{BandWidth: band, Delay: 180 * 24 * time.Hour, Now: c.Now}
}

// count is the test's own count of a report, from the generator's ground
// truth, sharing no code with the report.
type count struct {
	totals    domain.Totals
	byProcess map[string]int
	byCountry map[string]int
	byOutcome map[string]int
	nsReqs    int
	nsAccts   int
}

var pathOutcome = map[path]string{
	pathOpen: "pending", pathRejected: "rejected", pathChallenged: "challenged", pathRedirected: "redirected",
	pathWithdrawn: "withdrawn", pathClearedNoDisposition: "pending", pathContent: "content_disclosed",
	pathNonContent: "non_content_only", pathNoData: "no_data_disclosed",
}

func independentCount(reqs []genReq, p domain.Period) count {
	c := count{byProcess: map[string]int{}, byCountry: map[string]int{}, byOutcome: map[string]int{}}
	for _, g := range reqs {
		if g.at.Before(p.Start()) || !g.at.Before(p.End()) || g.excluded {
			continue
		}
		if g.process == intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_NATIONAL_SECURITY {
			c.nsReqs++
			c.nsAccts += g.targets
			continue
		}
		c.totals.Requests++
		c.totals.AccountsSpecified += g.targets
		if g.emergency || g.process == intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_EMERGENCY_REQUEST {
			c.totals.Emergency++
		}
		if g.customerNotice {
			c.totals.CustomersNotified++
		}
		if g.dpaPacket || g.dpaAnswer {
			c.totals.DPAConsultations++
		}
		if g.gag {
			c.totals.UnderGag++
		}
		proc := "none"
		if g.process != intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_UNSPECIFIED {
			proc = strings.ToLower(strings.TrimPrefix(g.process.String(), "LEGAL_PROCESS_TYPE_"))
		}
		c.byProcess[proc]++
		country := g.country
		if country == "UNKNOWN" {
			country = "ZZ"
		}
		c.byCountry[country]++
		c.byOutcome[pathOutcome[g.path]]++
	}
	return c
}

func asMap(kc []domain.KeyCount) map[string]int {
	m := map[string]int{}
	for _, k := range kc {
		if k.Count > 0 {
			m[k.Key] = k.Count
		}
	}
	return m
}

func sameCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s %s: report %d, independent count %d", what, k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s %s: report %d, independent count 0", what, k, v)
		}
	}
}

func getReport(t *testing.T, e *env, period string, f reportingv1.ReportFormat) *reportingv1.TransparencyReport {
	t.Helper()
	res, err := e.staff.GetTransparencyReport(context.Background(), &reportingv1.GetTransparencyReportRequest{Period: period, Format: f})
	if err != nil {
		t.Fatal(err)
	}
	return res.GetReport()
}

// generated publishes n requests received from December 2025 to July 2026
// (so some fall outside 2026-H1) and waits until the report's read model
// has them.
func generated(t *testing.T, e *env, n int) []genReq {
	t.Helper()
	reqs := genRequests(7, n, time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC))
	last := publishAll(t, e.js, events(reqs))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.comp.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	return reqs
}

func TestClause5_1_ReportOverGeneratedHalfYearMatchesIndependentCount(t *testing.T) {
	c := testkit.NewClock(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	e := start(t, cfgAt(c, 100))
	reqs := generated(t, e, 3000)
	want := independentCount(reqs, h1)
	if want.totals.Requests < 1500 || want.nsReqs == 0 {
		t.Fatalf("generator made too few requests in the period: %+v", want.totals)
	}

	res := getReport(t, e, "2026-H1", reportingv1.ReportFormat_REPORT_FORMAT_JSON)
	if res.GetContentType() != "application/json" {
		t.Errorf("content type %q", res.GetContentType())
	}
	rep, err := domain.ReadJSON(bytes.NewReader(res.GetContent()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals != want.totals {
		t.Errorf("totals %+v, independent count %+v", rep.Totals, want.totals)
	}
	sameCounts(t, "legal process", asMap(rep.ByLegalProcess), want.byProcess)
	sameCounts(t, "country", asMap(rep.ByCountry), want.byCountry)
	sameCounts(t, "outcome", asMap(rep.ByOutcome), want.byOutcome)
	if rep.Digest.Leaves != want.totals.Requests || int(res.GetRequestsCounted()) != want.totals.Requests {
		t.Errorf("digest over %d leaves, response says %d, counted %d", rep.Digest.Leaves, res.GetRequestsCounted(), want.totals.Requests)
	}
	ns := rep.NationalSecurity
	if ns.Status != domain.NationalSecurityReported || ns.Requests == nil ||
		ns.Requests.From > want.nsReqs || ns.Requests.To < want.nsReqs || ns.Requests.To-ns.Requests.From+1 != 100 ||
		ns.AccountsSpecified.From > want.nsAccts || ns.AccountsSpecified.To < want.nsAccts {
		t.Errorf("national security %+v, want bands of 100 holding %d requests, %d accounts", ns, want.nsReqs, want.nsAccts)
	}

	// The report is a projection; the check recomputes it from the stored
	// record, bytes hashed as stored. A pass also proves the projection's
	// chain heads (inside the Merkle leaves) equal the record's.
	v, err := e.staff.VerifyTransparencyReport(context.Background(), &reportingv1.VerifyTransparencyReportRequest{ReportJson: res.GetContent()})
	if err != nil {
		t.Fatal(err)
	}
	if !v.GetValid() || !bytes.Equal(v.GetMerkleRoot(), res.GetMerkleRoot()) {
		t.Fatalf("verify of the published report: %v", v)
	}

	// A published figure changed after the fact is named.
	var doc map[string]any
	if err := json.Unmarshal(res.GetContent(), &doc); err != nil {
		t.Fatal(err)
	}
	doc["totals"].(map[string]any)["customers_notified"] = float64(want.totals.CustomersNotified - 1)
	tampered, _ := json.Marshal(doc)
	v, err = e.staff.VerifyTransparencyReport(context.Background(), &reportingv1.VerifyTransparencyReportRequest{ReportJson: tampered})
	if err != nil {
		t.Fatal(err)
	}
	if v.GetValid() || v.GetDimension() != "total" || v.GetKey() != "customers_notified" {
		t.Fatalf("verify of a changed report: %v, want total/customers_notified named", v)
	}

	// The CSV says the same.
	csvRes := getReport(t, e, "2026-H1", reportingv1.ReportFormat_REPORT_FORMAT_CSV)
	rows, err := csv.NewReader(bytes.NewReader(csvRes.GetContent())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[0]+"/"+r[1]] = r[2]
	}
	// Seals written since the JSON was made moved the chain heads, so the
	// CSV (a later report) has its own root.
	if got["total/requests"] != itoa(want.totals.Requests) || got["digest/merkle_root"] != hex.EncodeToString(csvRes.GetMerkleRoot()) {
		t.Errorf("CSV total/requests %s merkle %s", got["total/requests"], got["digest/merkle_root"])
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestClause5_1_NationalSecurityWithheldUntilDelayThenInConfiguredBands(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)) // period over, delay not passed
	e := start(t, cfgAt(c, 500))
	reqs := generated(t, e, 600)
	want := independentCount(reqs, h1)

	read := func() *domain.Report {
		rep, err := domain.ReadJSON(bytes.NewReader(getReport(t, e, "2026-H1", reportingv1.ReportFormat_REPORT_FORMAT_JSON).GetContent()))
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := read()
	if ns := rep.NationalSecurity; ns.Status != domain.NationalSecurityWithheld || ns.Requests != nil || ns.MerkleRoot != nil ||
		!ns.AvailableFrom.Equal(time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("before the delay: %+v, want withheld until 2026-12-28", ns)
	}
	if rep.Totals != want.totals {
		t.Errorf("totals %+v, want %+v (national security in no exact figure)", rep.Totals, want.totals)
	}
	c.Set(time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC))
	rep = read()
	if ns := rep.NationalSecurity; ns.Status != domain.NationalSecurityReported || *ns.Requests != (domain.Band{From: want.nsReqs / 500 * 500, To: want.nsReqs/500*500 + 499}) {
		t.Fatalf("after the delay: %+v, want the band of 500 holding %d", ns, want.nsReqs)
	}
}

func TestClause5_1_ReportRefusedWhilePeriodRuns(t *testing.T) {
	c := testkit.NewClock(time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC))
	e := start(t, cfgAt(c, 250))
	_, err := e.staff.GetTransparencyReport(context.Background(), &reportingv1.GetTransparencyReportRequest{Period: "2026-H1"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("report of a running period: %v, want FAILED_PRECONDITION", err)
	}
	_, err = e.staff.GetTransparencyReport(context.Background(), &reportingv1.GetTransparencyReportRequest{Period: "2026-H3"})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad period: %v, want INVALID_ARGUMENT", err)
	}
}

// Restrictions are set by staff through the RPC and count from then on: a
// court-order exclusion removes the request from every figure; lifting it
// brings it back; national security legal process is banded whatever staff
// say.
func TestClause5_1_CourtOrderRestrictionSetByStaffCountsNowhere(t *testing.T) {
	c := testkit.NewClock(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	e := start(t, cfgAt(c, 250))
	ctx := context.Background()
	var last uint64
	for _, r := range []struct {
		id      string
		process intakev1.LegalProcessType
	}{{"req-a", intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA}, {"req-b", intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER}, {"req-ns", intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_NATIONAL_SECURITY}} {
		last = e.append(t, r.id, received(r.id, t0, r.process, "US", 2, false, true))
	}
	synced := func(id string) {
		t.Helper()
		rec := getRecord(t, e, id)
		last = rec.GetEntries()[len(rec.GetEntries())-1].GetSequence()
	}
	// set lifts a restriction (one person may); keeping a request out takes
	// two legal people (issue 15).
	set := func(id string, r reportingv1.ReportingRestriction) {
		t.Helper()
		if _, err := e.staff.SetReportingRestriction(ctx, &reportingv1.SetReportingRestrictionRequest{RequestId: id, Restriction: r, LegalReference: "order 12/2026"}); err != nil {
			t.Fatal(err)
		}
		synced(id)
	}
	counted := func() (int, map[string]int) {
		t.Helper()
		if err := e.comp.WaitFor(ctx, last); err != nil {
			t.Fatal(err)
		}
		rep, err := domain.ReadJSON(bytes.NewReader(getReport(t, e, "2026-H1", reportingv1.ReportFormat_REPORT_FORMAT_JSON).GetContent()))
		if err != nil {
			t.Fatal(err)
		}
		return rep.Totals.Requests, asMap(rep.ByLegalProcess)
	}
	if n, _ := counted(); n != 2 {
		t.Fatalf("%d requests counted, want 2 (national security only banded)", n)
	}
	// One person alone keeps nothing out (issue 15): setting it is
	// refused, and the proposer's own confirmation too.
	_, err := e.staff.SetReportingRestriction(ctx, &reportingv1.SetReportingRestrictionRequest{RequestId: "req-b", Restriction: reportingv1.ReportingRestriction_REPORTING_RESTRICTION_EXCLUDED_BY_COURT_ORDER, LegalReference: "order 12/2026"})
	if pv, ok := grpcserver.PolicyViolationFrom(err); !ok || pv.Clause != "5.1" || pv.Rule != "NEEDS_TWO_PEOPLE" {
		t.Fatalf("one person excluding: %v, want clause 5.1 NEEDS_TWO_PEOPLE", err)
	}
	if _, err := e.staff.ProposeReportingRestriction(ctx, &reportingv1.ProposeReportingRestrictionRequest{RequestId: "req-b", Restriction: reportingv1.ReportingRestriction_REPORTING_RESTRICTION_EXCLUDED_BY_COURT_ORDER, LegalReference: "order 12/2026"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.staff.ConfirmReportingRestriction(ctx, &reportingv1.ConfirmReportingRestrictionRequest{RequestId: "req-b"})
	if pv, ok := grpcserver.PolicyViolationFrom(err); !ok || pv.Rule != "LIFT_CONFIRMED_BY_RECORDER" {
		t.Fatalf("the proposer confirming: %v, want LIFT_CONFIRMED_BY_RECORDER", err)
	}
	synced("req-b")
	if n, _ := counted(); n != 2 {
		t.Fatalf("%d requests counted with the exclusion only proposed, want 2", n)
	}
	if _, err := e.counsel.ConfirmReportingRestriction(ctx, &reportingv1.ConfirmReportingRestrictionRequest{RequestId: "req-b"}); err != nil {
		t.Fatal(err)
	}
	synced("req-b")
	if n, by := counted(); n != 1 || by["court_order"] != 0 {
		t.Fatalf("after the exclusion: %d requests, by process %v; want req-b nowhere", n, by)
	}
	set("req-b", reportingv1.ReportingRestriction_REPORTING_RESTRICTION_NONE)
	set("req-ns", reportingv1.ReportingRestriction_REPORTING_RESTRICTION_NONE)
	if n, _ := counted(); n != 2 {
		t.Fatalf("after lifting: %d requests, want 2", n)
	}
	if _, err := e.member.SetReportingRestriction(ctx, &reportingv1.SetReportingRestrictionRequest{RequestId: "req-a", Restriction: reportingv1.ReportingRestriction_REPORTING_RESTRICTION_NONE}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("group member: %v, want PERMISSION_DENIED", err)
	}
}

func TestConfig_BandWidthAndDelayFromFlags(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var cfg service.Config
	cfg.RegisterFlags(fs)
	if err := fs.Parse([]string{"--reporting-band-width=500", "--reporting-national-security-delay=2160h"}); err != nil {
		t.Fatal(err)
	}
	if cfg.BandWidth != 500 || cfg.Delay != 90*24*time.Hour {
		t.Fatalf("config %+v", cfg)
	}
	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	cfg = service.Config{}
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.BandWidth != 250 || cfg.Delay != 180*24*time.Hour {
		t.Fatalf("defaults %+v, want bands of 250 and 180 days", cfg)
	}
}
