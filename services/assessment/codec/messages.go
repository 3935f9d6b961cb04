// Package codec is assessment's event codec: the events it appends are
// encoded here from the domain's events, and the events it folds (its own
// and intake's) decoded into them (events.go), with the message conversions
// they need (this file). It is a package of its own because both sides use
// it: app to append and fold, ports for the enum mappings of the RPC
// requests and views (ports/convert.go), whose Case shows the facts, rules,
// flags and decision as recorded, so nothing is converted in two places.
//
// The domain spells enum values in lower case without the proto prefix
// (DECISION_KIND_REDIRECT_TO_CUSTOMER is "redirect_to_customer"):
// protoconv.EnumName and EnumValue map them both ways, and a
// protoconv.Names declared once for an enum with a domain type of its own.
package codec

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// Enum prefixes of the proto enums the domain spells without them.
const (
	factorPrefix    = "FACTOR_"
	authorityPrefix = "AUTHORITY_KIND_"
	processPrefix   = "LEGAL_PROCESS_TYPE_"
	flagPrefix      = "FLAG_CODE_"
)

// The enums with a domain type of their own, each converted both ways by
// one declaration.
var (
	ChallengeOutcomes = protoconv.Names[assessmentv1.ChallengeOutcome, domain.ChallengeOutcome]{Prefix: "CHALLENGE_OUTCOME_"}
	CounselKinds      = protoconv.Names[assessmentv1.CounselKind, domain.CounselKind]{Prefix: "COUNSEL_KIND_"}
	DecisionKinds     = protoconv.Names[assessmentv1.DecisionKind, policy.DecisionKind]{Prefix: "DECISION_KIND_"}
	LegalBases        = protoconv.Names[assessmentv1.LegalBasis, domain.LegalBasis]{Prefix: "LEGAL_BASIS_"}
	// The domain keeps a request's data categories as plain strings.
	categories = protoconv.Names[intakev1.DataCategory, string]{Prefix: "DATA_CATEGORY_"}
)

// RolesToProto writes a person's roles (the authz role strings).
func RolesToProto(rs []policy.Role) []string {
	return protoconv.Each(rs, func(r policy.Role) string { return string(r) })
}

// RolesToDomain reads a person's roles.
func RolesToDomain(rs []string) []policy.Role {
	return protoconv.Each(rs, func(r string) policy.Role { return policy.Role(r) })
}

// FactorToDomain reads a proto factor. Factors differ in one spelling: the proto's VALIDITY is the domain's
// "validity_under_applicable_law".
func FactorToDomain(f assessmentv1.Factor) domain.Factor {
	if f == assessmentv1.Factor_FACTOR_VALIDITY {
		return domain.FactorValidity
	}
	return domain.Factor(protoconv.EnumName(f, factorPrefix))
}

// FactorToProto writes a domain factor.
func FactorToProto(f domain.Factor) assessmentv1.Factor {
	if f == domain.FactorValidity {
		return assessmentv1.Factor_FACTOR_VALIDITY
	}
	return protoconv.EnumValue[assessmentv1.Factor](string(f), factorPrefix)
}

func dur(d *durationpb.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.AsDuration()
}

func timeRangeToDomain(r *intakev1.TimeRange) domain.TimeRange {
	return domain.TimeRange{From: protoconv.Time(r.GetFrom()), To: protoconv.Time(r.GetTo())}
}

func timeRangeToProto(r domain.TimeRange) *intakev1.TimeRange {
	if r == (domain.TimeRange{}) {
		return nil
	}
	return &intakev1.TimeRange{From: protoconv.Timestamp(r.From), To: protoconv.Timestamp(r.To)}
}

func categoriesToDomain(cs []intakev1.DataCategory) []string {
	return protoconv.Each(cs, categories.Domain)
}

func categoriesToProto(cs []string) []intakev1.DataCategory {
	return protoconv.Each(cs, categories.Proto)
}

// FactsFromReceived reads the facts the rules need from intake's event.
// Targets become their references; their values stay in intake's event.
// Whether the country is adequate is a judgement, not a fact of the event:
// the caller sets CountryAdequate.
func FactsFromReceived(r *intakev1.RequestReceived) domain.RequestFacts {
	q := r.GetRequest()
	f := domain.RequestFacts{
		EnforcingAuthorityNotified: q.GetLegalProcess().GetEnforcingAuthorityNotified(), // issue 18

		RequestID:            r.GetRequestId(),
		ReceivedAt:           protoconv.Time(q.GetReceivedAt()),
		ForwardedAt:          protoconv.Time(r.GetSubmitTime()),
		LateForwarded:        r.GetLateForwarding(),
		AuthorityKind:        protoconv.EnumName(q.GetAuthority().GetKind(), authorityPrefix),
		AuthorityCountry:     q.GetAuthority().GetCountry(),
		LegalProcess:         protoconv.EnumName(q.GetLegalProcess().GetType(), processPrefix),
		TargetCount:          len(q.GetTargets()),
		ScopeDescribed:       q.GetScopeDescription() != "" || q.GetScopeSelector() == intakev1.ScopeSelector_SCOPE_SELECTOR_DESCRIBED,
		Selectors:            domain.Selectors{WholeTenant: q.GetScopeSelector() == intakev1.ScopeSelector_SCOPE_SELECTOR_WHOLE_TENANT, WholeService: q.GetScopeSelector() == intakev1.ScopeSelector_SCOPE_SELECTOR_WHOLE_SERVICE},
		DataCategories:       categoriesToDomain(q.GetDataCategories()),
		TimeRange:            timeRangeToDomain(q.GetTimeRange()),
		EmergencyClaimed:     q.GetEmergency().GetClaimed(),
		ImminentRiskClaimed:  q.GetEmergency().GetImminentRiskOfSeriousHarm(),
		Gag:                  domain.Gag{Present: q.GetGag().GetPresent(), Reference: q.GetGag().GetReference(), Expires: protoconv.Time(q.GetGag().GetExpiresAt())},
		Deadline:             protoconv.Time(q.GetDeadline()),
		CustomerIsController: q.GetCustomerId() != "",
		CustomerID:           q.GetCustomerId(),

		CustomerEstablishment: q.GetCustomerEstablishment(),
	}
	// Several customers (issue 16), or the legacy one of unknown role,
	// which reads as controller.
	cs := CustomersToDomain(q.GetCustomers())
	if len(cs) == 0 && q.GetCustomerId() != "" {
		cs = []domain.Customer{{ID: q.GetCustomerId(), Establishment: q.GetCustomerEstablishment()}}
	}
	if len(cs) > 0 {
		f = f.WithCustomers(cs)
	}
	for i, t := range q.GetTargets() {
		ref := t.GetRef()
		if ref == "" {
			ref = "t" + strconv.Itoa(i+1)
		}
		f.TargetIDs = append(f.TargetIDs, ref)
	}
	return f
}

func factsToProto(f domain.RequestFacts, adequacyReason string) *assessmentv1.CaseFacts {
	return &assessmentv1.CaseFacts{
		EnforcingAuthorityNotified: f.EnforcingAuthorityNotified, // issue 18

		ReceiveTime:          protoconv.Timestamp(f.ReceivedAt),
		ForwardTime:          protoconv.Timestamp(f.ForwardedAt),
		LateForwarding:       f.LateForwarded,
		AuthorityKind:        protoconv.EnumValue[intakev1.AuthorityKind](f.AuthorityKind, authorityPrefix),
		AuthorityCountry:     f.AuthorityCountry,
		CountryAdequate:      f.CountryAdequate,
		AdequacyReason:       adequacyReason,
		Jurisdictions:        f.Jurisdictions,
		LegalProcess:         protoconv.EnumValue[intakev1.LegalProcessType](f.LegalProcess, processPrefix),
		TargetCount:          int32(f.TargetCount),
		TargetRefs:           f.TargetIDs,
		ScopeDescribed:       f.ScopeDescribed,
		WholeTenant:          f.Selectors.WholeTenant,
		WholeService:         f.Selectors.WholeService,
		DataCategories:       categoriesToProto(f.DataCategories),
		TimeRange:            timeRangeToProto(f.TimeRange),
		EmergencyClaimed:     f.EmergencyClaimed,
		ImminentRiskClaimed:  f.ImminentRiskClaimed,
		Prohibition:          &assessmentv1.Prohibition{Present: f.Gag.Present, Reference: f.Gag.Reference, ExpiresAt: protoconv.Timestamp(f.Gag.Expires)},
		DeadlineTime:         protoconv.Timestamp(f.Deadline),
		CustomerIsController: f.CustomerIsController,
		CustomerId:           f.CustomerID,

		CustomerEstablishment: f.CustomerEstablishment,
		Customers:             CustomersToProto(f.Customers),
	}
}

func factsToDomain(requestID string, p *assessmentv1.CaseFacts) domain.RequestFacts {
	return domain.RequestFacts{
		EnforcingAuthorityNotified: p.GetEnforcingAuthorityNotified(), // issue 18

		RequestID:            requestID,
		ReceivedAt:           protoconv.Time(p.GetReceiveTime()),
		ForwardedAt:          protoconv.Time(p.GetForwardTime()),
		LateForwarded:        p.GetLateForwarding(),
		AuthorityKind:        protoconv.EnumName(p.GetAuthorityKind(), authorityPrefix),
		AuthorityCountry:     p.GetAuthorityCountry(),
		CountryAdequate:      p.GetCountryAdequate(),
		Jurisdictions:        p.GetJurisdictions(),
		LegalProcess:         protoconv.EnumName(p.GetLegalProcess(), processPrefix),
		TargetCount:          int(p.GetTargetCount()),
		TargetIDs:            p.GetTargetRefs(),
		ScopeDescribed:       p.GetScopeDescribed(),
		Selectors:            domain.Selectors{WholeTenant: p.GetWholeTenant(), WholeService: p.GetWholeService()},
		DataCategories:       categoriesToDomain(p.GetDataCategories()),
		TimeRange:            timeRangeToDomain(p.GetTimeRange()),
		EmergencyClaimed:     p.GetEmergencyClaimed(),
		ImminentRiskClaimed:  p.GetImminentRiskClaimed(),
		Gag:                  domain.Gag{Present: p.GetProhibition().GetPresent(), Reference: p.GetProhibition().GetReference(), Expires: protoconv.Time(p.GetProhibition().GetExpiresAt())},
		Deadline:             protoconv.Time(p.GetDeadlineTime()),
		CustomerIsController: p.GetCustomerIsController(),
		CustomerID:           p.GetCustomerId(),

		CustomerEstablishment: p.GetCustomerEstablishment(),
		Customers:             CustomersToDomain(p.GetCustomers()),
	}
}

func rulesToProto(r domain.Rules) *assessmentv1.CaseRules {
	out := &assessmentv1.CaseRules{
		PolicyVersion:                  r.PolicyVersion,
		BulkMaxTargets:                 int32(r.Bulk.MaxTargets),
		BulkMaxTimeRange:               durationpb.New(r.Bulk.MaxTimeRange),
		EmergencyReview:                durationpb.New(r.EmergencyReview),
		StandardReviewBusinessDays:     int32(r.StandardReviewBusinessDays),
		RequiredApprovals:              int32(r.RequiredApprovals),
		CustomerNoticePeriod:           durationpb.New(r.CustomerNoticePeriod),
		RightsWeighedForAllDisclosures: r.RightsWeighedForAllDisclosures,
		Overlays:                       r.Overlays,
		ExtraFactors:                   protoconv.Each(r.ExtraFactors, FactorToProto),
		CounselBeforeDisclosure:        protoconv.Each(r.CounselBeforeDisclosure, CounselKinds.Proto),
	}
	return out
}

func rulesToDomain(p *assessmentv1.CaseRules) domain.Rules {
	r := domain.Rules{
		Settings: domain.Settings{
			PolicyVersion:              p.GetPolicyVersion(),
			Bulk:                       domain.BulkThresholds{MaxTargets: int(p.GetBulkMaxTargets()), MaxTimeRange: dur(p.GetBulkMaxTimeRange())},
			EmergencyReview:            dur(p.GetEmergencyReview()),
			StandardReviewBusinessDays: int(p.GetStandardReviewBusinessDays()),
			RequiredApprovals:          int(p.GetRequiredApprovals()),
			CustomerNoticePeriod:       dur(p.GetCustomerNoticePeriod()),
		},
		RightsWeighedForAllDisclosures: p.GetRightsWeighedForAllDisclosures(),
		Overlays:                       p.GetOverlays(),
		ExtraFactors:                   protoconv.Each(p.GetExtraFactors(), FactorToDomain),
		CounselBeforeDisclosure:        protoconv.Each(p.GetCounselBeforeDisclosure(), CounselKinds.Domain),
	}
	return r
}

func flagsToProto(fs []domain.Flag) []*assessmentv1.Flag {
	return protoconv.Each(fs, func(f domain.Flag) *assessmentv1.Flag {
		return &assessmentv1.Flag{
			Code:        protoconv.EnumValue[assessmentv1.FlagCode](string(f.Code), flagPrefix),
			Clause:      f.Clause.Number(),
			Explanation: f.Explanation,
		}
	})
}

func flagsToDomain(fs []*assessmentv1.Flag) []domain.Flag {
	return protoconv.Each(fs, func(f *assessmentv1.Flag) domain.Flag {
		return domain.Flag{
			Code:        domain.FlagCode(strings.TrimPrefix(f.GetCode().String(), flagPrefix)),
			Clause:      policy.Clause(f.GetClause()),
			Explanation: f.GetExplanation(),
		}
	})
}

// openingRequirements is what notification can know before any decision:
// everything but the scope.
func openingRequirements(f domain.RequestFacts, r domain.Rules) *assessmentv1.NotificationRequirements {
	return &assessmentv1.NotificationRequirements{
		CustomerIsController: f.CustomerIsController,
		CustomerId:           f.CustomerID,
		Prohibition:          &assessmentv1.Prohibition{Present: f.Gag.Present, Reference: f.Gag.Reference, ExpiresAt: protoconv.Timestamp(f.Gag.Expires)},
		AuthorityCountry:     f.AuthorityCountry,
		CountryAdequate:      f.CountryAdequate,
		ReceiveTime:          protoconv.Timestamp(f.ReceivedAt),
		CustomerNoticePeriod: durationpb.New(r.CustomerNoticePeriod),
		Overlays:             r.Overlays,
		ImminentRiskClaimed:  f.ImminentRiskClaimed,

		CustomerEstablishment: f.CustomerEstablishment,
		Customers:             CustomersToProto(f.Customers),
	}
}

func requirementsToProto(n domain.NotificationRequirements, receivedAt time.Time) *assessmentv1.NotificationRequirements {
	out := &assessmentv1.NotificationRequirements{
		CustomerIsController: n.CustomerIsController,
		CustomerId:           n.CustomerID,
		Prohibition:          &assessmentv1.Prohibition{},
		ImminentRisk:         n.ImminentRisk,
		AuthorityCountry:     n.AuthorityCountry,
		CountryAdequate:      n.CountryAdequate,
		ReceiveTime:          protoconv.Timestamp(receivedAt),
		CustomerNoticePeriod: durationpb.New(n.CustomerNoticePeriod),
		Overlays:             n.Overlays,
		ImminentRiskClaimed:  n.ImminentRiskClaimed,

		ImminentRiskJustification: n.ImminentRiskJustification,
		CustomerEstablishment:     n.CustomerEstablishment,
		Customers:                 CustomersToProto(n.Customers),
	}
	if p := n.Prohibition; p != nil {
		out.Prohibition = &assessmentv1.Prohibition{Present: true, Reference: p.Reference, ExpiresAt: protoconv.Timestamp(p.Expires)}
	}
	if s := n.Scope; s != nil {
		out.Scope = scopeToProto(*s, false)
	}
	return out
}

func scopeToProto(s domain.Scope, all bool) *assessmentv1.Scope {
	return &assessmentv1.Scope{
		All:            all,
		TargetRefs:     s.TargetIDs,
		DataCategories: categoriesToProto(s.DataCategories),
		TimeRange:      timeRangeToProto(s.TimeRange),
		TargetCount:    int32(s.Targets()),
	}
}

// NarrowingToDomain reads a decision's scope: "all" is no narrowing.
func NarrowingToDomain(s *assessmentv1.Scope) *domain.Narrowing {
	if s == nil || s.GetAll() {
		return nil
	}
	return &domain.Narrowing{
		TargetIDs:      s.GetTargetRefs(),
		DataCategories: categoriesToDomain(s.GetDataCategories()),
		TimeRange:      timeRangeToDomain(s.GetTimeRange()),
	}
}

func decisionToDomain(d *assessmentv1.Decision) domain.Decision {
	out := domain.Decision{
		ID:      d.GetDecisionId(),
		Kind:    DecisionKinds.Domain(d.GetKind()),
		Basis:   LegalBases.Domain(d.GetLegalBasis()),
		Grounds: d.GetGrounds(),
		Statute: d.GetStatute(),
	}
	if out.Kind == policy.DecisionDisclose {
		out.Narrowing = NarrowingToDomain(d.GetScope())
	}
	return out
}

// decisionToProto renders a decision. The scope of a disclosure is the
// narrowing as the reviewer gave it (so the decision folds back exactly),
// with the number of targets it covers; the requirements carry the full
// disclosed scope.
func decisionToProto(d domain.Decision, f domain.RequestFacts) *assessmentv1.Decision {
	out := &assessmentv1.Decision{
		DecisionId: d.ID,
		Kind:       DecisionKinds.Proto(d.Kind),
		LegalBasis: LegalBases.Proto(d.Basis),
		Grounds:    d.Grounds,
		Statute:    d.Statute,
	}
	if d.Kind == policy.DecisionDisclose {
		out.Scope = &assessmentv1.Scope{All: true, TargetCount: int32(domain.DisclosedScope(f, d.Narrowing).Targets())}
		if n := d.Narrowing; n != nil {
			out.Scope.All = false
			out.Scope.TargetRefs = n.TargetIDs
			out.Scope.DataCategories = categoriesToProto(n.DataCategories)
			out.Scope.TimeRange = timeRangeToProto(n.TimeRange)
		}
	}
	return out
}
