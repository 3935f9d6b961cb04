package app

import (
	"time"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// The codec of reporting's own event payloads: what a command appends and
// what the fold reads back. A disposition or a restriction is the same
// message in an event and in an RPC, so ports/convert.go uses these too:
// each message is converted in one place.

// Enum prefixes of reporting's protos, for platform/protoconv.
const (
	categoryPrefix    = "DATA_CATEGORY_"
	meansPrefix       = "DELIVERY_MEANS_"
	terminalPrefix    = "TERMINAL_OUTCOME_"
	restrictionPrefix = "REPORTING_RESTRICTION_"
)

// terminals converts how a request ended without a disclosure: the enum's
// names are policy.Outcome's spellings. Unspecified or a number this binary
// does not know reads as an end the domain refuses.
var terminals = protoconv.Names[reportingv1.TerminalOutcome, policy.Outcome]{Prefix: terminalPrefix}

// TerminalFromProto maps a terminal outcome; an unknown value is an
// outcome the domain refuses.
func TerminalFromProto(o reportingv1.TerminalOutcome) policy.Outcome { return terminals.Domain(o) }

// TerminalToProto is the inverse of TerminalFromProto.
func TerminalToProto(o policy.Outcome) reportingv1.TerminalOutcome { return terminals.Proto(o) }

// RestrictionFromProto maps a restriction; unknown values count as none.
func RestrictionFromProto(r reportingv1.ReportingRestriction) domain.Restriction {
	return restrictions[protoconv.EnumName(r, restrictionPrefix)]
}

// RestrictionToProto is the inverse of RestrictionFromProto.
func RestrictionToProto(r domain.Restriction) reportingv1.ReportingRestriction {
	return protoconv.EnumValue[reportingv1.ReportingRestriction](r.String(), restrictionPrefix)
}

// The domain's integer enum by its stable names (the proto's names).
var restrictions = byName(domain.RestrictionNone, domain.RestrictionExcludedByCourtOrder, domain.RestrictionNationalSecurity)

func byName[E interface{ String() string }](vs ...E) map[string]E {
	m := make(map[string]E, len(vs))
	for _, v := range vs {
		m[v.String()] = v
	}
	return m
}

// DisclosureFromProto maps a disclosure; unknown enum values map to values
// the domain refuses, so the caller gets a field violation.
func DisclosureFromProto(d *reportingv1.Disclosure) domain.Disclosure {
	out := domain.Disclosure{
		Accounts: int(d.GetAccounts()),
		Means:    domain.DeliveryMeans(protoconv.EnumName(d.GetMeans(), meansPrefix)),
		Date:     protoconv.Time(d.GetDiscloseTime()),
	}
	for _, c := range d.GetCategories() {
		out.Categories = append(out.Categories, domain.DataCategory(protoconv.EnumName(c, categoryPrefix)))
	}
	return out
}

// DisclosureToProto is the inverse of DisclosureFromProto.
func DisclosureToProto(d domain.Disclosure) *reportingv1.Disclosure {
	out := &reportingv1.Disclosure{
		Accounts:     int32(d.Accounts),
		DiscloseTime: protoconv.Timestamp(d.Date),
		Means:        protoconv.EnumValue[reportingv1.DeliveryMeans](string(d.Means), meansPrefix),
	}
	for _, c := range d.Categories {
		out.Categories = append(out.Categories, protoconv.EnumValue[reportingv1.DataCategory](string(c), categoryPrefix))
	}
	return out
}

// DispositionFromProto reads a recorded disposition; ok is false for one
// this binary cannot read (a newer kind), which then counts as none.
func DispositionFromProto(p *reportingv1.Disposition) (domain.Disposition, bool) {
	switch k := p.GetKind().(type) {
	case *reportingv1.Disposition_Disclosure:
		d := DisclosureFromProto(k.Disclosure)
		return domain.Disposition{Disclosure: &d, At: d.Date}, true
	case *reportingv1.Disposition_Outcome:
		o := TerminalFromProto(k.Outcome)
		return domain.Disposition{Terminal: o, At: protoconv.Time(p.GetRecordTime())}, o.Valid()
	}
	return domain.Disposition{}, false
}

// DispositionToProto is a disposition as recorded at recordedAt by by.
func DispositionToProto(d domain.Disposition, recordedAt time.Time, by string) *reportingv1.Disposition {
	out := &reportingv1.Disposition{RecordTime: protoconv.Timestamp(recordedAt), RecordedBy: by}
	if d.Disclosure != nil {
		out.Kind = &reportingv1.Disposition_Disclosure{Disclosure: DisclosureToProto(*d.Disclosure)}
	} else {
		out.Kind = &reportingv1.Disposition_Outcome{Outcome: TerminalToProto(d.Terminal)}
	}
	return out
}

// A restriction's basis is its legal reference (the court order or law,
// never personal data): reporting holds no personal data and cannot seal
// any, so the lift's free-text basis, a field the store seals, is left
// empty on the wire and read back as the legal reference.

// RestrictionProposalFromProto reads a proposed restriction.
func RestrictionProposalFromProto(p *reportingv1.RestrictionProposed) domain.RestrictionProposal {
	l := protoconv.LiftFrom(p.GetLift())
	l.Basis = p.GetLegalReference()
	return domain.RestrictionProposal{
		Restriction:    RestrictionFromProto(p.GetRestriction()),
		LegalReference: p.GetLegalReference(),
		Lift:           l,
	}
}

// RestrictionProposalToProto is the inverse of RestrictionProposalFromProto.
func RestrictionProposalToProto(requestID string, p domain.RestrictionProposal) *reportingv1.RestrictionProposed {
	l := protoconv.Lift(p.Lift)
	l.Basis = ""
	return &reportingv1.RestrictionProposed{
		RequestId:      requestID,
		Restriction:    RestrictionToProto(p.Restriction),
		LegalReference: p.LegalReference,
		Lift:           l,
	}
}
