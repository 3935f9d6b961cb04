package domain_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// rawRequest is a request as plain values, the way a test can count it
// without any of the code under test.
type rawRequest struct {
	id                            string
	head                          [32]byte
	received                      time.Time
	process, country              string
	outcome, restriction          string
	accounts                      int
	emergency, notified, dpa, gag bool
}

var (
	genProcesses = []string{"subpoena", "search_warrant", "court_order", "emergency_disclosure", "mlat", "production_order", "none"}
	genCountries = []string{"US", "DE", "FR", "GB", "IE", "IN", "BR", "AU", "JP", "ZZ"}
	genOutcomes  = []string{"pending", "content_disclosed", "non_content_only", "no_data_disclosed", "rejected", "challenged", "redirected", "withdrawn"}
)

// genRequests makes n requests received around p, a few days either side of
// it so that the period boundaries matter.
func genRequests(seed uint64, n int, p domain.Period) []rawRequest {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	from := p.Start().Add(-10 * 24 * time.Hour)
	span := p.End().Add(10 * 24 * time.Hour).Sub(from)
	out := make([]rawRequest, n)
	for i := range out {
		r := &out[i]
		r.id = fmt.Sprintf("%08x-%04x-%08d", rng.Uint32(), rng.IntN(1<<16), i) // random order, like UUIDs
		for j := range r.head {
			r.head[j] = byte(rng.IntN(256))
		}
		r.received = from.Add(time.Duration(rng.Int64N(int64(span))))
		r.process = genProcesses[rng.IntN(len(genProcesses))]
		r.country = genCountries[rng.IntN(len(genCountries))]
		r.outcome = genOutcomes[rng.IntN(len(genOutcomes))]
		switch x := rng.IntN(100); {
		case x < 4:
			r.restriction = "excluded_by_court_order"
		case x < 10:
			r.restriction = "national_security"
		default:
			r.restriction = "none"
		}
		r.accounts = rng.IntN(5)
		r.emergency = rng.IntN(10) == 0
		r.notified = rng.IntN(2) == 0
		r.dpa = rng.IntN(4) == 0
		r.gag = rng.IntN(6) == 0
	}
	return out
}

func toFacts(raws []rawRequest) []domain.ReportFacts {
	restrictions := map[string]domain.Restriction{
		"none":                    domain.RestrictionNone,
		"excluded_by_court_order": domain.RestrictionExcludedByCourtOrder,
		"national_security":       domain.RestrictionNationalSecurity,
	}
	out := make([]domain.ReportFacts, len(raws))
	for i, r := range raws {
		var o domain.Outcome
		if err := o.UnmarshalText([]byte(r.outcome)); err != nil {
			panic(err)
		}
		out[i] = domain.ReportFacts{
			RequestID: r.id, ChainHead: r.head, ReceivedAt: r.received,
			LegalProcess: r.process, Country: r.country, Outcome: o,
			AccountsSpecified: r.accounts, Emergency: r.emergency, CustomerNotified: r.notified,
			DPAConsulted: r.dpa, UnderGag: r.gag, Restriction: restrictions[r.restriction],
		}
	}
	return out
}

// refRoot is the Merkle tree hash of RFC 6962, section 2.1, written as the
// RFC states it (recursively), to check the iterative one.
func refRoot(leaves []domain.Digest) domain.Digest {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := refRoot(leaves[:k]), refRoot(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}
