package domain

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// Config is what law decides about national security process: it may be
// published only in bands of BandWidth (e.g. 250 or 500: 0–249, 250–499 …)
// and only for periods that ended at least Delay ago.
type Config struct {
	BandWidth int
	Delay     time.Duration
}

// DefaultConfig uses bands of 250 and a 180-day delay.
func DefaultConfig() Config { return Config{BandWidth: 250, Delay: 180 * 24 * time.Hour} }

// Validate checks the configuration.
func (c Config) Validate() error {
	var v ddrerr.Collector
	if c.BandWidth < 1 {
		v.Add("config.band_width", "must be at least 1")
	}
	if c.Delay < 0 {
		v.Add("config.delay", "must not be negative")
	}
	return v.Err()
}

type configJSON struct {
	BandWidth int    `json:"national_security_band_width"`
	Delay     string `json:"national_security_delay"`
}

// MarshalJSON writes the delay as a Go duration string ("4320h0m0s").
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(configJSON{BandWidth: c.BandWidth, Delay: c.Delay.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Config) UnmarshalJSON(b []byte) error {
	var j configJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	d, err := time.ParseDuration(j.Delay)
	if err != nil {
		return fmt.Errorf("config delay: %w", err)
	}
	*c = Config{BandWidth: j.BandWidth, Delay: d}
	return nil
}

// Band is a range of counts, both ends included, published instead of an
// exact number.
type Band struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// BandOf returns the band of width that holds n (n ≥ 0, width ≥ 1). Zero is
// reported as the lowest band too: saying "none" would be an exact number.
func BandOf(n, width int) Band {
	lo := n / width * width
	return Band{From: lo, To: lo + width - 1}
}

// String returns "0-249".
func (b Band) String() string { return strconv.Itoa(b.From) + "-" + strconv.Itoa(b.To) }

// KeyCount is one bar of a breakdown.
type KeyCount struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// Totals are the exact figures of the report. They leave out national
// security process, which is reported only in bands.
type Totals struct {
	Requests          int `json:"requests"`
	AccountsSpecified int `json:"accounts_specified"`
	Emergency         int `json:"emergency_requests"`
	CustomersNotified int `json:"customers_notified"`
	DPAConsultations  int `json:"dpa_consultations"`
	UnderGag          int `json:"requests_under_gag"`
}

// National security statuses.
const (
	NationalSecurityReported = "reported"
	NationalSecurityWithheld = "withheld"
)

// NationalSecurity is the banded section. When the delay has not passed it
// says only when the bands may be published. The exact count is nowhere in a
// Report, so no export can leak it.
type NationalSecurity struct {
	Status            string    `json:"status"`
	AvailableFrom     time.Time `json:"available_from"`
	Requests          *Band     `json:"requests,omitempty"`
	AccountsSpecified *Band     `json:"accounts_specified,omitempty"`
	// MerkleRoot commits to the banded requests; their number (the tree
	// size) is given only to an authority that asks for a proof.
	MerkleRoot *Digest `json:"merkle_root,omitempty"`
}

// MerkleAlgorithm names the digest construction in exports.
const MerkleAlgorithm = "rfc6962-sha256; leaves ordered by request id"

// ReportDigest commits to exactly the requests counted in the exact figures.
type ReportDigest struct {
	Algorithm  string `json:"algorithm"`
	Leaves     int    `json:"leaves"`
	MerkleRoot Digest `json:"merkle_root"`
}

// Report is a semi-annual transparency report (clause 5.1). It holds counts
// only; nothing in it identifies a person or an account.
type Report struct {
	Period           Period           `json:"period"`
	GeneratedAt      time.Time        `json:"generated_at"`
	Config           Config           `json:"config"`
	Totals           Totals           `json:"totals"`
	ByLegalProcess   []KeyCount       `json:"by_legal_process"`
	ByCountry        []KeyCount       `json:"by_country"`
	ByOutcome        []KeyCount       `json:"by_outcome"`
	NationalSecurity NationalSecurity `json:"national_security"`
	Digest           ReportDigest     `json:"digest"`
	Notes            []string         `json:"notes"`
	// RecordSequence is the last stream sequence of the record the facts
	// were folded from (0 when the caller did not say): a verification
	// folds the record up to there, so later events cannot make an honest
	// report look wrong. BuildReport leaves it to the caller.
	RecordSequence uint64 `json:"record_sequence"`
}

// Sections of a report's digests, as named in an [InclusionProof].
const (
	SectionCounted          = "counted"
	SectionNationalSecurity = "national_security"
)

// leaf is one request of the period as the digest sees it: a sort key and
// where its facts and its hash are. Sorting these 24-byte values instead of
// the facts, and hashing in the counting pass (in memory order) rather than
// in id order, keeps a million-request report fast.
type leaf struct {
	prefix  uint64 // first 8 bytes of the request id, big-endian, zero-padded
	fact    uint32 // index into the facts
	hash    uint32 // index into the leaf hashes (unused when excluded)
	section uint8
}

const (
	secCounted uint8 = iota
	secNationalSecurity
	secExcluded
	// secSameDemand: counted in another request of the same demand.
	secSameDemand
)

// idPrefix orders like the id itself: comparing prefixes, then whole ids on
// a tie, is string order.
func idPrefix(id string) uint64 {
	var b [8]byte
	copy(b[:], id)
	return binary.BigEndian.Uint64(b[:])
}

// leafSet is the period's requests in request id order.
type leafSet struct {
	facts  []ReportFacts
	leaves []leaf
	hashes []Digest
}

func (s *leafSet) add(f *ReportFacts, i int, section uint8) {
	s.leaves = append(s.leaves, leaf{prefix: idPrefix(f.RequestID), fact: uint32(i), hash: uint32(len(s.hashes)), section: section})
	s.hashes = append(s.hashes, LeafHash(f))
}

func (s *leafSet) id(i int) string { return s.facts[s.leaves[i].fact].RequestID }

func (s *leafSet) sort() {
	slices.SortFunc(s.leaves, func(a, b leaf) int {
		if c := cmp.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		return cmp.Compare(s.facts[a.fact].RequestID, s.facts[b.fact].RequestID)
	})
}

// find returns the position of the request id, if present.
func (s *leafSet) find(id string) (int, bool) {
	p := idPrefix(id)
	return slices.BinarySearchFunc(s.leaves, id, func(l leaf, id string) int {
		if c := cmp.Compare(l.prefix, p); c != 0 {
			return c
		}
		return cmp.Compare(s.facts[l.fact].RequestID, id)
	})
}

// hashes returns the leaf hashes of one section in order.
func (s *leafSet) sectionHashes(section uint8) []Digest {
	n := 0
	for i := range s.leaves {
		n += b2i(s.leaves[i].section == section)
	}
	out := make([]Digest, 0, n)
	for i := range s.leaves {
		if s.leaves[i].section == section {
			out = append(out, s.hashes[s.leaves[i].hash])
		}
	}
	return out
}

// root returns the Merkle root of one section.
func (s *leafSet) root(section uint8) Digest {
	h := s.sectionHashes(section)
	if len(h) == 0 {
		return sha256.Sum256(nil)
	}
	for len(h) > 1 {
		h = reduce(h)
	}
	return h[0]
}

// BuildReport counts the facts of requests received in p, as of asOf (which
// decides the national security delay and must be after the period). It
// makes one pass over facts; facts received outside p are skipped, so the
// caller may pass a whole record.
func BuildReport(facts []ReportFacts, p Period, cfg Config, asOf time.Time) (*Report, error) {
	r, _, err := build(facts, p, cfg, asOf)
	return r, err
}

func build(facts []ReportFacts, p Period, cfg Config, asOf time.Time) (*Report, *leafSet, error) {
	if !p.Valid() {
		return nil, nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "period", Description: "must be YYYY-H1 or YYYY-H2"})
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if asOf.Before(p.End()) {
		return nil, nil, fmt.Errorf("%w: period %s is not over until %s", ddrerr.ErrFailedPrecondition, p, p.End().Format(time.DateOnly))
	}
	if uint64(len(facts)) > math.MaxUint32 {
		return nil, nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "facts", Description: "more than 2^32 requests in one call"})
	}
	start, end := p.Start(), p.End()

	var (
		t          Totals
		byOutcome  [numOutcomes]int
		byCountry  [26 * 26]int
		byProcess  = make(map[string]int, 16)
		nsRequests int
		nsAccounts int
		set        = &leafSet{facts: facts, leaves: make([]leaf, 0, len(facts)), hashes: make([]Digest, 0, len(facts))}
		c          ddrerr.Collector
	)
	for i := range facts {
		f := &facts[i]
		if f.ReceivedAt.Before(start) || !f.ReceivedAt.Before(end) {
			continue
		}
		if !f.validate(&c, i) {
			return nil, nil, c.Err()
		}
		if f.CountedWith != "" {
			set.leaves = append(set.leaves, leaf{prefix: idPrefix(f.RequestID), fact: uint32(i), section: secSameDemand})
			continue
		}
		switch f.Restriction {
		case RestrictionExcludedByCourtOrder:
			set.leaves = append(set.leaves, leaf{prefix: idPrefix(f.RequestID), fact: uint32(i), section: secExcluded})
			continue
		case RestrictionNationalSecurity:
			nsRequests++
			nsAccounts += f.AccountsSpecified
			set.add(f, i, secNationalSecurity)
			continue
		}
		t.Requests++
		t.AccountsSpecified += f.AccountsSpecified
		t.Emergency += b2i(f.Emergency)
		t.CustomersNotified += b2i(f.CustomerNotified)
		t.DPAConsultations += b2i(f.DPAConsulted)
		t.UnderGag += b2i(f.UnderGag)
		byOutcome[f.Outcome]++
		byCountry[int(f.Country[0]-'A')*26+int(f.Country[1]-'A')]++
		byProcess[f.LegalProcess]++
		set.add(f, i, secCounted)
	}

	set.sort()
	for i := 1; i < len(set.leaves); i++ {
		if set.leaves[i].prefix == set.leaves[i-1].prefix && set.id(i) == set.id(i-1) {
			return nil, nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "facts", Description: "request " + set.id(i) + " is listed more than once"})
		}
	}

	r := &Report{
		Period:      p,
		GeneratedAt: asOf.UTC(),
		Config:      cfg,
		Totals:      t,
		Digest:      ReportDigest{Algorithm: MerkleAlgorithm, Leaves: t.Requests, MerkleRoot: set.root(secCounted)},
	}
	for o, n := range byOutcome {
		r.ByOutcome = append(r.ByOutcome, KeyCount{Key: Outcome(o).String(), Count: n})
	}
	for i, n := range byCountry {
		if n > 0 {
			r.ByCountry = append(r.ByCountry, KeyCount{Key: string([]byte{byte('A' + i/26), byte('A' + i%26)}), Count: n})
		}
	}
	for k, n := range byProcess {
		r.ByLegalProcess = append(r.ByLegalProcess, KeyCount{Key: k, Count: n})
	}
	sortBreakdown(r.ByCountry)
	sortBreakdown(r.ByLegalProcess)

	ns := &r.NationalSecurity
	ns.AvailableFrom = p.End().Add(cfg.Delay)
	if asOf.Before(ns.AvailableFrom) {
		ns.Status = NationalSecurityWithheld
	} else {
		ns.Status = NationalSecurityReported
		req, acc := BandOf(nsRequests, cfg.BandWidth), BandOf(nsAccounts, cfg.BandWidth)
		root := set.root(secNationalSecurity)
		ns.Requests, ns.AccountsSpecified, ns.MerkleRoot = &req, &acc, &root
	}
	r.Notes = notes(r)
	return r, set, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sortBreakdown puts the largest first, ties by key, so charts read well and
// the order is the same every time.
func sortBreakdown(kc []KeyCount) {
	slices.SortFunc(kc, func(a, b KeyCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
}

// notes are the same for every report with the same status, whatever the
// counts: a note that appeared only when something was excluded would itself
// disclose that something was.
func notes(r *Report) []string {
	days := int(r.Config.Delay / (24 * time.Hour))
	n := []string{
		fmt.Sprintf("Counts cover requests received from %s to %s (UTC), by the date received. Outcomes are as of %s; requests still open are counted as pending.",
			r.Period.Start().Format(time.DateOnly), r.Period.End().AddDate(0, 0, -1).Format(time.DateOnly), r.GeneratedAt.Format(time.DateOnly)),
		"As limited by applicable law or court order: requests that a court order keeps out of reporting are not counted anywhere in this report.",
		"Accounts specified is the number of accounts named in the requests, not the number of accounts whose data was disclosed.",
	}
	if r.NationalSecurity.Status == NationalSecurityReported {
		n = append(n, fmt.Sprintf("National security process is reported only in bands of %d and is not included in any other figure.", r.Config.BandWidth))
	} else {
		n = append(n, fmt.Sprintf("National security process may be reported only %d days after the period ends, from %s, and then only in bands of %d; it is omitted here and is not included in any other figure.",
			days, r.NationalSecurity.AvailableFrom.Format(time.DateOnly), r.Config.BandWidth))
	}
	return n
}

// sameDemandTag marks the requests a leaf counts as the same demand.
const sameDemandTag = "same_demand"

// leafTag separates report leaves from entry hashes.
const leafTag = "ddr.report.leaf.v1\x00"

// LeafHash is the Merkle leaf of one request's facts. It binds the request
// id and the head of its record chain to every fact the report counts, so a
// proof of inclusion also proves how the request was counted.
func LeafHash(f *ReportFacts) Digest {
	var stack [512]byte
	b := append(stack[:0], 0) // RFC 6962 leaf prefix
	b = append(b, leafTag...)
	b = appendString(b, f.RequestID)
	b = append(b, f.ChainHead[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(f.ReceivedAt.UnixNano()))
	b = appendString(b, f.LegalProcess)
	b = appendString(b, f.Country)
	b = appendString(b, f.Outcome.String())
	b = binary.BigEndian.AppendUint64(b, uint64(f.AccountsSpecified))
	b = append(b, byte(b2i(f.Emergency)|b2i(f.CustomerNotified)<<1|b2i(f.DPAConsulted)<<2|b2i(f.UnderGag)<<3))
	b = appendString(b, f.Restriction.String())
	// A demand counted once commits to the requests it counts; a request
	// linked to none hashes as it always did, so reports published before
	// linking existed still verify.
	if len(f.SameDemand) > 0 {
		b = appendString(b, sameDemandTag)
		for _, id := range f.SameDemand {
			b = appendString(b, id)
		}
	}
	return sha256.Sum256(b)
}
