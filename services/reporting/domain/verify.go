package domain

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// row is one published figure: the unit of the CSV export and of report
// comparison, so that what is checked is exactly what is published.
type row struct{ dimension, key, value string }

func (r *Report) rows() []row {
	rows := []row{
		{"report", "period", r.Period.String()},
		{"report", "generated_at", r.GeneratedAt.UTC().Format(time.RFC3339Nano)},
		{"report", "national_security_band_width", strconv.Itoa(r.Config.BandWidth)},
		{"report", "national_security_delay", r.Config.Delay.String()},
		{"report", "record_sequence", strconv.FormatUint(r.RecordSequence, 10)},
		{"total", "requests", strconv.Itoa(r.Totals.Requests)},
		{"total", "accounts_specified", strconv.Itoa(r.Totals.AccountsSpecified)},
		{"total", "emergency_requests", strconv.Itoa(r.Totals.Emergency)},
		{"total", "customers_notified", strconv.Itoa(r.Totals.CustomersNotified)},
		{"total", "dpa_consultations", strconv.Itoa(r.Totals.DPAConsultations)},
		{"total", "requests_under_gag", strconv.Itoa(r.Totals.UnderGag)},
	}
	for _, d := range []struct {
		name string
		kc   []KeyCount
	}{{"legal_process", r.ByLegalProcess}, {"country", r.ByCountry}, {"outcome", r.ByOutcome}} {
		for _, kc := range d.kc {
			rows = append(rows, row{d.name, kc.Key, strconv.Itoa(kc.Count)})
		}
	}
	ns := r.NationalSecurity
	rows = append(rows,
		row{"national_security", "status", ns.Status},
		row{"national_security", "available_from", ns.AvailableFrom.UTC().Format(time.RFC3339)})
	if ns.Requests != nil {
		rows = append(rows, row{"national_security", "requests", ns.Requests.String()})
	}
	if ns.AccountsSpecified != nil {
		rows = append(rows, row{"national_security", "accounts_specified", ns.AccountsSpecified.String()})
	}
	if ns.MerkleRoot != nil {
		rows = append(rows, row{"national_security", "merkle_root", ns.MerkleRoot.String()})
	}
	return append(rows,
		row{"digest", "algorithm", r.Digest.Algorithm},
		row{"digest", "leaves", strconv.Itoa(r.Digest.Leaves)},
		row{"digest", "merkle_root", r.Digest.MerkleRoot.String()})
}

// ErrReportMismatch matches every [ReportMismatchError].
var ErrReportMismatch = errors.New("report does not match the record")

// ReportMismatchError names the first published figure that the facts do
// not reproduce. A figure missing on one side has an empty value there.
type ReportMismatchError struct {
	Dimension, Key  string
	Expected, Found string // recomputed from the facts, and as in the report
}

func (e *ReportMismatchError) Error() string {
	return fmt.Sprintf("report does not match the record: %s/%s: recomputed %q, report says %q", e.Dimension, e.Key, e.Expected, e.Found)
}

// Unwrap lets callers test with errors.Is(err, ErrReportMismatch).
func (e *ReportMismatchError) Unwrap() error { return ErrReportMismatch }

// VerifyReport recomputes report from facts (with the report's own period,
// configuration, generation time and record sequence) and returns nil when every published
// figure and both Merkle roots match, or a *ReportMismatchError naming the
// first that does not. This is the check a data protection authority runs
// with the facts folded from the record.
func VerifyReport(report *Report, facts []ReportFacts) error {
	want, err := BuildReport(facts, report.Period, report.Config, report.GeneratedAt)
	if err != nil {
		return fmt.Errorf("recomputing report %s: %w", report.Period, err)
	}
	want.RecordSequence = report.RecordSequence
	return compareRows(want.rows(), report.rows())
}

func compareRows(want, got []row) error {
	type dk struct{ d, k string }
	found := make(map[dk]string, len(got))
	for _, g := range got {
		found[dk{g.dimension, g.key}] = g.value
	}
	for _, w := range want {
		v, ok := found[dk{w.dimension, w.key}]
		if !ok || v != w.value {
			return &ReportMismatchError{Dimension: w.dimension, Key: w.key, Expected: w.value, Found: v}
		}
		delete(found, dk{w.dimension, w.key})
	}
	for _, g := range got {
		if _, ok := found[dk{g.dimension, g.key}]; ok {
			return &ReportMismatchError{Dimension: g.dimension, Key: g.key, Found: g.value}
		}
	}
	return nil
}

// InclusionProof shows that one request is counted in a report, and how.
type InclusionProof struct {
	RequestID string      `json:"request_id"`
	Section   string      `json:"section"` // SectionCounted or SectionNationalSecurity
	Proof     MerkleProof `json:"proof"`
}

// ProveInclusion returns the proof that requestID is counted in report. The
// facts must reproduce the report (see [VerifyReport]). A request the report
// does not count, including one a court order keeps out, is ErrNotFound:
// the answer does not tell the two apart.
func ProveInclusion(facts []ReportFacts, report *Report, requestID string) (InclusionProof, error) {
	want, set, err := build(facts, report.Period, report.Config, report.GeneratedAt)
	if err != nil {
		return InclusionProof{}, fmt.Errorf("recomputing report %s: %w", report.Period, err)
	}
	want.RecordSequence = report.RecordSequence
	if err := compareRows(want.rows(), report.rows()); err != nil {
		return InclusionProof{}, fmt.Errorf("%w: %w", ddrerr.ErrFailedPrecondition, err)
	}
	i, ok := set.find(requestID)
	notCounted := fmt.Errorf("%w: request %s is not counted in report %s", ddrerr.ErrNotFound, requestID, report.Period)
	if !ok || set.leaves[i].section == secExcluded || set.leaves[i].section == secSameDemand {
		return InclusionProof{}, notCounted
	}
	section := set.leaves[i].section
	if section == secNationalSecurity && report.NationalSecurity.MerkleRoot == nil {
		return InclusionProof{}, notCounted
	}
	index := 0
	for _, l := range set.leaves[:i] {
		index += b2i(l.section == section)
	}
	mp, err := ProveMerkle(set.sectionHashes(section), index)
	if err != nil {
		return InclusionProof{}, err
	}
	name := SectionCounted
	if section == secNationalSecurity {
		name = SectionNationalSecurity
	}
	return InclusionProof{RequestID: requestID, Section: name, Proof: mp}, nil
}

// VerifyInclusion checks that the request with facts f is counted in report
// as f says, using proof. An authority gets f from the record (its chain
// head ties it to the entries) and the report from the publisher.
func VerifyInclusion(report *Report, f ReportFacts, proof InclusionProof) error {
	if err := f.Validate(-1); err != nil {
		return err
	}
	if proof.RequestID != f.RequestID {
		return fmt.Errorf("%w: the proof is for another request", ErrMerkleProof)
	}
	if !report.Period.Contains(f.ReceivedAt) {
		return fmt.Errorf("%w: request received outside %s", ErrMerkleProof, report.Period)
	}
	root := report.Digest.MerkleRoot
	switch {
	case f.Restriction == RestrictionNone && proof.Section == SectionCounted:
	case f.Restriction == RestrictionNationalSecurity && proof.Section == SectionNationalSecurity && report.NationalSecurity.MerkleRoot != nil:
		root = *report.NationalSecurity.MerkleRoot
	default:
		return fmt.Errorf("%w: a %s request is not in section %q of this report", ErrMerkleProof, f.Restriction, proof.Section)
	}
	if proof.Section == SectionCounted && proof.Proof.Size != uint64(report.Digest.Leaves) {
		return fmt.Errorf("%w: proof for %d leaves, report counts %d", ErrMerkleProof, proof.Proof.Size, report.Digest.Leaves)
	}
	return VerifyMerkle(root, LeafHash(&f), proof.Proof)
}
