package domain

import (
	"github.com/ddrsuite/ddr/services/platform/policy"

	"maps"
	"slices"
	"time"
)

// Factor is one of the aspects 3.3 requires the Privacy Team to determine.
type Factor string

// The six review factors of 3.3.
const (
	FactorNature   Factor = "nature"
	FactorContext  Factor = "context"
	FactorPurposes Factor = "purposes"
	FactorScope    Factor = "scope"
	FactorUrgency  Factor = "urgency"
	FactorValidity Factor = "validity_under_applicable_law"
)

// AllFactors returns the six factors in the order of 3.3.
func AllFactors() []Factor {
	return []Factor{FactorNature, FactorContext, FactorPurposes, FactorScope, FactorUrgency, FactorValidity}
}

// Valid reports whether f is one of the six factors.
func (f Factor) Valid() bool { return slices.Contains(AllFactors(), f) }

// CounselKind says who was consulted (3.3: "legal department and outside
// counsel").
type CounselKind string

// Kinds of counsel.
const (
	CounselInternalLegal CounselKind = "internal_legal"
	CounselOutside       CounselKind = "outside_counsel"
)

// Valid reports whether k is a known kind.
func (k CounselKind) Valid() bool { return k == CounselInternalLegal || k == CounselOutside }

// Assessment is one reviewer's written judgement.
type Assessment struct {
	Text string
	By   string
	At   time.Time
}

// Consultation records one consultation of counsel.
type Consultation struct {
	Kind CounselKind
	// Counsel names who was consulted (a firm or a lawyer); may be empty.
	Counsel     string
	ConsultedAt time.Time
	Summary     string
	RecordedBy  string
}

// ChallengeReview records whether challenging the request was considered
// and the reasoning (3.3).
type ChallengeReview struct {
	Warranted bool
	Reasoning string
	By        string
	At        time.Time
	// Outcome is the challenge's outcome, pending until a second person
	// confirms its lift; only then does it count.
	Outcome     ChallengeOutcome
	OutcomeLift policy.Lift
}

// Resolved reports whether a warranted challenge has a confirmed outcome.
func (c ChallengeReview) Resolved() bool { return c.Outcome != "" && c.OutcomeLift.Confirmed() }

// Review is the written record of the case-by-case review (3.3).
type Review struct {
	// Factors holds the latest assessment of each recorded factor.
	Factors map[Factor]Assessment
	Counsel []Consultation
	// Challenge is nil until a challenge has been considered.
	Challenge *ChallengeReview
	// RightsWeighed is nil until the privacy rights and freedoms of the
	// affected people have been weighed (2.1).
	RightsWeighed *Assessment
	// RiskJustified is a reviewer's justification of an imminent risk of
	// serious harm the authority did not claim (2.1); nil until recorded.
	RiskJustified *Assessment
}

// Missing returns the factors of want that are not yet recorded.
func (r Review) Missing(want []Factor) []Factor {
	var out []Factor
	for _, f := range want {
		if _, ok := r.Factors[f]; !ok {
			out = append(out, f)
		}
	}
	return out
}

// Consulted reports whether counsel of kind k has been consulted.
func (r Review) Consulted(k CounselKind) bool {
	return slices.ContainsFunc(r.Counsel, func(c Consultation) bool { return c.Kind == k })
}

func (r Review) clone() Review {
	out := r
	out.Factors = maps.Clone(r.Factors)
	out.Counsel = slices.Clone(r.Counsel)
	if r.RiskJustified != nil {
		a := *r.RiskJustified
		out.RiskJustified = &a
	}
	if r.Challenge != nil {
		c := *r.Challenge
		c.OutcomeLift.Barred = slices.Clone(c.OutcomeLift.Barred)
		c.OutcomeLift.ConfirmRoles = slices.Clone(c.OutcomeLift.ConfirmRoles)
		out.Challenge = &c
	}
	if r.RightsWeighed != nil {
		a := *r.RightsWeighed
		out.RightsWeighed = &a
	}
	return out
}
