package domain_test

import (
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/domain/domaintest"
)

var (
	h1     = domaintest.H1
	cfg250 = domaintest.Config250
	late   = domaintest.Late // long after 2025-H1 plus the delay
)

func build(t *testing.T, facts []domain.ReportFacts, p domain.Period, cfg domain.Config, asOf time.Time) *domain.Report {
	t.Helper()
	r, err := domain.BuildReport(facts, p, cfg, asOf)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func asMap(kc []domain.KeyCount) map[string]int {
	m := map[string]int{}
	for _, k := range kc {
		m[k.Key] = k.Count
	}
	return m
}

func TestClause5_1_ReportCountsMatchIndependentCount(t *testing.T) {
	raws := genRequests(42, 20000, h1)
	r := build(t, toFacts(raws), h1, cfg250, late)

	// The independent count: plain loops over the raw values.
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	var total, accounts, emergency, notified, dpa, gag, nsReq, nsAcc int
	byProcess, byCountry, byOutcome := map[string]int{}, map[string]int{}, map[string]int{}
	var countedIDs []string
	for _, q := range raws {
		in := !q.received.UTC().Before(start) && q.received.UTC().Before(end)
		if !in || q.restriction == "excluded_by_court_order" {
			continue
		}
		if q.restriction == "national_security" {
			nsReq++
			nsAcc += q.accounts
			continue
		}
		total++
		accounts += q.accounts
		if q.emergency {
			emergency++
		}
		if q.notified {
			notified++
		}
		if q.dpa {
			dpa++
		}
		if q.gag {
			gag++
		}
		byProcess[q.process]++
		byCountry[q.country]++
		byOutcome[q.outcome]++
		countedIDs = append(countedIDs, q.id)
	}
	if total < 15000 || nsReq < 500 {
		t.Fatalf("generator too thin to test anything: %d counted, %d national security", total, nsReq)
	}

	got := r.Totals
	want := domain.Totals{Requests: total, AccountsSpecified: accounts, Emergency: emergency, CustomersNotified: notified, DPAConsultations: dpa, UnderGag: gag}
	if got != want {
		t.Fatalf("totals\n got %+v\nwant %+v", got, want)
	}
	for name, pair := range map[string][2]map[string]int{
		"legal process": {asMap(r.ByLegalProcess), byProcess},
		"country":       {asMap(r.ByCountry), byCountry},
	} {
		if !mapsEqual(pair[0], pair[1]) {
			t.Errorf("by %s\n got %v\nwant %v", name, pair[0], pair[1])
		}
	}
	if len(r.ByOutcome) != len(genOutcomes) {
		t.Fatalf("outcomes listed: %d, want all %d", len(r.ByOutcome), len(genOutcomes))
	}
	for i, kc := range r.ByOutcome {
		if kc.Key != genOutcomes[i] || kc.Count != byOutcome[kc.Key] {
			t.Errorf("outcome %d: got %+v, want %s=%d", i, kc, genOutcomes[i], byOutcome[genOutcomes[i]])
		}
	}
	lo := 0
	for lo+250 <= nsReq {
		lo += 250
	}
	if ns := r.NationalSecurity; ns.Status != "reported" || ns.Requests == nil || ns.Requests.From != lo || ns.Requests.To != lo+249 {
		t.Errorf("national security requests: %+v, want band from %d (exact %d)", ns.Requests, lo, nsReq)
	}
	lo = 0
	for lo+250 <= nsAcc {
		lo += 250
	}
	if b := r.NationalSecurity.AccountsSpecified; b == nil || b.From != lo {
		t.Errorf("national security accounts: %+v, want band from %d (exact %d)", b, lo, nsAcc)
	}

	// The digest: RFC 6962 root over the counted requests' leaves in id order.
	facts := toFacts(raws)
	byID := map[string]*domain.ReportFacts{}
	for i := range facts {
		byID[facts[i].RequestID] = &facts[i]
	}
	sort.Strings(countedIDs)
	var leaves []domain.Digest
	for _, id := range countedIDs {
		leaves = append(leaves, domain.LeafHash(byID[id]))
	}
	if r.Digest.Leaves != total || r.Digest.MerkleRoot != refRoot(leaves) {
		t.Fatalf("digest %d leaves root %s, want %d leaves root %s", r.Digest.Leaves, r.Digest.MerkleRoot, total, refRoot(leaves))
	}
	if err := domain.VerifyReport(r, facts); err != nil {
		t.Fatalf("report does not verify against its own facts: %v", err)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func fact(id string, received time.Time, r domain.Restriction) domain.ReportFacts {
	return domain.ReportFacts{
		RequestID: id, ReceivedAt: received, LegalProcess: "court_order", Country: "FR",
		Outcome: domain.OutcomeRejected, AccountsSpecified: 7, Emergency: true, CustomerNotified: true,
		DPAConsulted: true, UnderGag: true, Restriction: r,
	}
}

func TestClause5_1_CourtOrderExcludedRequestCountedNowhere(t *testing.T) {
	base := toFacts(genRequests(7, 500, h1))
	with := append(slices.Clone(base), fact("sealed-1", time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), domain.RestrictionExcludedByCourtOrder))
	for _, asOf := range []time.Time{h1.End(), late} { // national security withheld, then reported
		without, got := build(t, base, h1, cfg250, asOf), build(t, with, h1, cfg250, asOf)
		if err := domain.VerifyReport(got, base); err != nil {
			t.Fatalf("an excluded request changed the report: %v", err)
		}
		if err := domain.VerifyReport(without, with); err != nil {
			t.Fatalf("an excluded request changed the report: %v", err)
		}
		if _, err := domain.ProveInclusion(with, got, "sealed-1"); !errors.Is(err, ddrerr.ErrNotFound) {
			t.Fatalf("excluded request provable: %v", err)
		}
	}
}

func TestClause5_1_NationalSecurityReportedOnlyInBands(t *testing.T) {
	at := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	ordinary := fact("ord-1", at, domain.RestrictionNone)
	for _, tc := range []struct {
		width, n int
		from, to int
	}{
		{250, 0, 0, 249}, {250, 1, 0, 249}, {250, 249, 0, 249}, {250, 250, 250, 499}, {250, 499, 250, 499},
		{500, 0, 0, 499}, {500, 499, 0, 499}, {500, 500, 500, 999}, {500, 1234, 1000, 1499},
	} {
		facts := []domain.ReportFacts{ordinary}
		for i := range tc.n {
			f := fact("ns-"+strconv.Itoa(i), at, domain.RestrictionNationalSecurity)
			f.AccountsSpecified = 1
			facts = append(facts, f)
		}
		r := build(t, facts, h1, domain.Config{BandWidth: tc.width, Delay: 180 * 24 * time.Hour}, late)
		ns := r.NationalSecurity
		if ns.Requests == nil || ns.Requests.From != tc.from || ns.Requests.To != tc.to {
			t.Errorf("width %d, %d requests: band %+v, want %d-%d", tc.width, tc.n, ns.Requests, tc.from, tc.to)
		}
		if ns.AccountsSpecified == nil || *ns.AccountsSpecified != *ns.Requests {
			t.Errorf("width %d, %d accounts: band %+v", tc.width, tc.n, ns.AccountsSpecified)
		}
		// Exact figures are the ordinary request's alone.
		if r.Totals.Requests != 1 || r.Totals.AccountsSpecified != 7 || r.Digest.Leaves != 1 || asMap(r.ByCountry)["FR"] != 1 {
			t.Errorf("national security leaked into exact figures: %+v", r.Totals)
		}
	}
}

func TestClause5_1_NationalSecurityWithheldUntilDelayPassed(t *testing.T) {
	facts := []domain.ReportFacts{
		fact("ord-1", time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), domain.RestrictionNone),
		fact("ns-1", time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), domain.RestrictionNationalSecurity),
	}
	cfg := domain.Config{BandWidth: 500, Delay: 180 * 24 * time.Hour}
	available := h1.End().Add(cfg.Delay)

	early := build(t, facts, h1, cfg, available.Add(-time.Nanosecond))
	ns := early.NationalSecurity
	if ns.Status != "withheld" || ns.Requests != nil || ns.AccountsSpecified != nil || ns.MerkleRoot != nil {
		t.Fatalf("reported before the delay passed: %+v", ns)
	}
	if !ns.AvailableFrom.Equal(available) {
		t.Fatalf("available from %s, want %s", ns.AvailableFrom, available)
	}
	if !slices.ContainsFunc(early.Notes, func(n string) bool { return strings.Contains(n, "180 days") && strings.Contains(n, "2025-12-28") }) {
		t.Fatalf("no note on the withheld section: %q", early.Notes)
	}
	if _, err := domain.ProveInclusion(facts, early, "ns-1"); !errors.Is(err, ddrerr.ErrNotFound) {
		t.Fatalf("withheld request provable: %v", err)
	}

	onTime := build(t, facts, h1, cfg, available)
	if s := onTime.NationalSecurity; s.Status != "reported" || s.Requests == nil || *s.Requests != (domain.Band{From: 0, To: 499}) {
		t.Fatalf("not reported once the delay passed: %+v", s)
	}
	if early.Totals != onTime.Totals || early.Digest != onTime.Digest {
		t.Fatal("the delay changed the exact figures")
	}
}

func TestClause5_1_NotesSayTheSameWhateverIsLeftOut(t *testing.T) {
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	plain := []domain.ReportFacts{fact("a", at, domain.RestrictionNone)}
	restricted := append(slices.Clone(plain), fact("b", at, domain.RestrictionExcludedByCourtOrder), fact("c", at, domain.RestrictionNationalSecurity))
	for _, asOf := range []time.Time{h1.End(), late} {
		a, b := build(t, plain, h1, cfg250, asOf), build(t, restricted, h1, cfg250, asOf)
		if !slices.Equal(a.Notes, b.Notes) {
			t.Fatalf("notes differ:\n%q\n%q", a.Notes, b.Notes)
		}
		if a.NationalSecurity.Status == "reported" && *a.NationalSecurity.Requests != *b.NationalSecurity.Requests {
			t.Fatal("band of 0 differs from band of 1")
		}
	}
}

func TestClause5_1_ReportRefusedBeforePeriodEnds(t *testing.T) {
	_, err := domain.BuildReport(nil, h1, cfg250, h1.End().Add(-time.Second))
	if !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("report before the period ended: %v", err)
	}
}

func TestClause5_1_EmptyPeriodStillReports(t *testing.T) {
	r := build(t, nil, h1, cfg250, late)
	if r.Totals.Requests != 0 || len(r.ByOutcome) != len(genOutcomes) || *r.NationalSecurity.Requests != (domain.Band{From: 0, To: 249}) {
		t.Fatalf("empty report: %+v", r)
	}
}

func TestReport_InvalidInputRefused(t *testing.T) {
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	bad := fact("x", at, domain.RestrictionNone)
	bad.Country, bad.LegalProcess = "France", "Court order for j.doe@example.com"
	var ve *ddrerr.ValidationError
	if _, err := domain.BuildReport([]domain.ReportFacts{bad}, h1, cfg250, late); !errors.As(err, &ve) || len(ve.Violations) != 2 || ve.Violations[0].Field != "facts[0].legal_process" {
		t.Fatalf("free text as a dimension key accepted: %v", err)
	}
	if strings.Contains(ve.Error(), "example.com") {
		t.Fatal("the error repeats the offending value")
	}
	dup := []domain.ReportFacts{fact("x", at, domain.RestrictionNone), fact("x", at, domain.RestrictionExcludedByCourtOrder)}
	if _, err := domain.BuildReport(dup, h1, cfg250, late); !errors.As(err, &ve) {
		t.Fatalf("request counted twice: %v", err)
	}
	if _, err := domain.BuildReport(nil, h1, domain.Config{BandWidth: 0}, late); !errors.As(err, &ve) {
		t.Fatalf("band width 0 accepted: %v", err)
	}
	// Facts outside the period are not this report's business, valid or not.
	outside := fact("y", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), domain.RestrictionNone)
	outside.Country = ""
	if _, err := domain.BuildReport([]domain.ReportFacts{outside}, h1, cfg250, late); err != nil {
		t.Fatalf("fact of another period checked: %v", err)
	}
}

func TestClause5_1_VerifyReportNamesTheFirstMismatch(t *testing.T) {
	facts := toFacts(genRequests(3, 2000, h1))
	r := build(t, facts, h1, cfg250, late)

	tampered := *r
	tampered.ByCountry = slices.Clone(r.ByCountry)
	tampered.ByCountry[1].Count--
	var me *domain.ReportMismatchError
	err := domain.VerifyReport(&tampered, facts)
	if !errors.As(err, &me) || me.Dimension != "country" || me.Key != r.ByCountry[1].Key {
		t.Fatalf("want mismatch on country/%s, got %v", r.ByCountry[1].Key, err)
	}

	// A request dropped from the facts (e.g. left out of the record) shows.
	var i int
	for i = range facts {
		if h1.Contains(facts[i].ReceivedAt) && facts[i].Restriction == domain.RestrictionNone {
			break
		}
	}
	short := slices.Delete(slices.Clone(facts), i, i+1)
	if err := domain.VerifyReport(r, short); !errors.As(err, &me) || me.Dimension != "total" || me.Key != "requests" {
		t.Fatalf("dropped request: %v", err)
	}

	// A request whose record changed (its chain head) changes only the root.
	changed := slices.Clone(facts)
	changed[i].ChainHead[0] ^= 1
	if err := domain.VerifyReport(r, changed); !errors.As(err, &me) || me.Dimension != "digest" || me.Key != "merkle_root" {
		t.Fatalf("changed record: %v", err)
	}
}
