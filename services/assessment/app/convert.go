package app

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// The domain spells enum values in lower case without the proto prefix
// (DECISION_KIND_REDIRECT_TO_CUSTOMER is "redirect_to_customer"), so one
// pair of helpers maps every enum both ways.

type protoEnum interface {
	~int32
	String() string
}

func fromEnum[E protoEnum](e E, prefix string) string {
	if e == 0 {
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(e.String(), prefix))
}

// toEnum returns 0 (unspecified) for a value the proto does not define, which
// the domain or protovalidate then reports.
func toEnum[E ~int32](s, prefix string, values map[string]int32) E {
	if s == "" {
		return 0
	}
	return E(values[prefix+strings.ToUpper(s)])
}

// Factors differ in one spelling: the proto's VALIDITY is the domain's
// "validity_under_applicable_law".
func factorToDomain(f assessmentv1.Factor) domain.Factor {
	if f == assessmentv1.Factor_FACTOR_VALIDITY {
		return domain.FactorValidity
	}
	return domain.Factor(fromEnum(f, "FACTOR_"))
}

func factorToProto(f domain.Factor) assessmentv1.Factor {
	if f == domain.FactorValidity {
		return assessmentv1.Factor_FACTOR_VALIDITY
	}
	return toEnum[assessmentv1.Factor](string(f), "FACTOR_", assessmentv1.Factor_value)
}

func tm(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime().UTC()
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func dur(d *durationpb.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.AsDuration()
}

func timeRangeToDomain(r *intakev1.TimeRange) domain.TimeRange {
	return domain.TimeRange{From: tm(r.GetFrom()), To: tm(r.GetTo())}
}

func timeRangeToProto(r domain.TimeRange) *intakev1.TimeRange {
	if r == (domain.TimeRange{}) {
		return nil
	}
	return &intakev1.TimeRange{From: ts(r.From), To: ts(r.To)}
}

func categoriesToDomain(cs []intakev1.DataCategory) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fromEnum(c, "DATA_CATEGORY_"))
	}
	return out
}

func categoriesToProto(cs []string) []intakev1.DataCategory {
	var out []intakev1.DataCategory
	for _, c := range cs {
		out = append(out, toEnum[intakev1.DataCategory](c, "DATA_CATEGORY_", intakev1.DataCategory_value))
	}
	return out
}

// Adequacy answers whether a country gives an adequate level of protection
// on a date (clause 4.2.1), and why. In production it is
// (*policy.AdequacyRegistry).IsAdequate of the process's registry: the same
// judgement notification makes for the hold (see package policy).
type Adequacy func(country string, at time.Time) (adequate bool, reason string)

// FactsFromReceived reads the facts the rules need from intake's event.
// Targets become their references; their values stay in intake's event.
func FactsFromReceived(r *intakev1.RequestReceived, adequacy Adequacy) (domain.RequestFacts, string) {
	q := r.GetRequest()
	received := tm(q.GetReceivedAt())
	country := q.GetAuthority().GetCountry()
	adequate, reason := adequacy(country, received)
	f := domain.RequestFacts{
		RequestID:            r.GetRequestId(),
		ReceivedAt:           received,
		ForwardedAt:          tm(r.GetSubmitTime()),
		LateForwarded:        r.GetLateForwarding(),
		AuthorityKind:        fromEnum(q.GetAuthority().GetKind(), "AUTHORITY_KIND_"),
		AuthorityCountry:     country,
		CountryAdequate:      adequate,
		LegalProcess:         fromEnum(q.GetLegalProcess().GetType(), "LEGAL_PROCESS_TYPE_"),
		TargetCount:          len(q.GetTargets()),
		ScopeDescribed:       q.GetScopeDescription() != "" || q.GetScopeSelector() == intakev1.ScopeSelector_SCOPE_SELECTOR_DESCRIBED,
		Selectors:            domain.Selectors{WholeTenant: q.GetScopeSelector() == intakev1.ScopeSelector_SCOPE_SELECTOR_WHOLE_TENANT, WholeService: q.GetScopeSelector() == intakev1.ScopeSelector_SCOPE_SELECTOR_WHOLE_SERVICE},
		DataCategories:       categoriesToDomain(q.GetDataCategories()),
		TimeRange:            timeRangeToDomain(q.GetTimeRange()),
		EmergencyClaimed:     q.GetEmergency().GetClaimed(),
		ImminentRiskClaimed:  q.GetEmergency().GetImminentRiskOfSeriousHarm(),
		Gag:                  domain.Gag{Present: q.GetGag().GetPresent(), Reference: q.GetGag().GetReference(), Expires: tm(q.GetGag().GetExpiresAt())},
		Deadline:             tm(q.GetDeadline()),
		CustomerIsController: q.GetCustomerId() != "",
		CustomerID:           q.GetCustomerId(),
	}
	for i, t := range q.GetTargets() {
		ref := t.GetRef()
		if ref == "" {
			ref = "t" + strconv.Itoa(i+1)
		}
		f.TargetIDs = append(f.TargetIDs, ref)
	}
	return f, reason
}

func factsToProto(f domain.RequestFacts, adequacyReason string) *assessmentv1.CaseFacts {
	return &assessmentv1.CaseFacts{
		ReceiveTime:          ts(f.ReceivedAt),
		ForwardTime:          ts(f.ForwardedAt),
		LateForwarding:       f.LateForwarded,
		AuthorityKind:        toEnum[intakev1.AuthorityKind](f.AuthorityKind, "AUTHORITY_KIND_", intakev1.AuthorityKind_value),
		AuthorityCountry:     f.AuthorityCountry,
		CountryAdequate:      f.CountryAdequate,
		AdequacyReason:       adequacyReason,
		Jurisdictions:        f.Jurisdictions,
		LegalProcess:         toEnum[intakev1.LegalProcessType](f.LegalProcess, "LEGAL_PROCESS_TYPE_", intakev1.LegalProcessType_value),
		TargetCount:          int32(f.TargetCount),
		TargetRefs:           f.TargetIDs,
		ScopeDescribed:       f.ScopeDescribed,
		WholeTenant:          f.Selectors.WholeTenant,
		WholeService:         f.Selectors.WholeService,
		DataCategories:       categoriesToProto(f.DataCategories),
		TimeRange:            timeRangeToProto(f.TimeRange),
		EmergencyClaimed:     f.EmergencyClaimed,
		ImminentRiskClaimed:  f.ImminentRiskClaimed,
		Prohibition:          &assessmentv1.Prohibition{Present: f.Gag.Present, Reference: f.Gag.Reference, ExpiresAt: ts(f.Gag.Expires)},
		DeadlineTime:         ts(f.Deadline),
		CustomerIsController: f.CustomerIsController,
		CustomerId:           f.CustomerID,
	}
}

func factsToDomain(requestID string, p *assessmentv1.CaseFacts) domain.RequestFacts {
	return domain.RequestFacts{
		RequestID:            requestID,
		ReceivedAt:           tm(p.GetReceiveTime()),
		ForwardedAt:          tm(p.GetForwardTime()),
		LateForwarded:        p.GetLateForwarding(),
		AuthorityKind:        fromEnum(p.GetAuthorityKind(), "AUTHORITY_KIND_"),
		AuthorityCountry:     p.GetAuthorityCountry(),
		CountryAdequate:      p.GetCountryAdequate(),
		Jurisdictions:        p.GetJurisdictions(),
		LegalProcess:         fromEnum(p.GetLegalProcess(), "LEGAL_PROCESS_TYPE_"),
		TargetCount:          int(p.GetTargetCount()),
		TargetIDs:            p.GetTargetRefs(),
		ScopeDescribed:       p.GetScopeDescribed(),
		Selectors:            domain.Selectors{WholeTenant: p.GetWholeTenant(), WholeService: p.GetWholeService()},
		DataCategories:       categoriesToDomain(p.GetDataCategories()),
		TimeRange:            timeRangeToDomain(p.GetTimeRange()),
		EmergencyClaimed:     p.GetEmergencyClaimed(),
		ImminentRiskClaimed:  p.GetImminentRiskClaimed(),
		Gag:                  domain.Gag{Present: p.GetProhibition().GetPresent(), Reference: p.GetProhibition().GetReference(), Expires: tm(p.GetProhibition().GetExpiresAt())},
		Deadline:             tm(p.GetDeadlineTime()),
		CustomerIsController: p.GetCustomerIsController(),
		CustomerID:           p.GetCustomerId(),
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
	}
	for _, f := range r.ExtraFactors {
		out.ExtraFactors = append(out.ExtraFactors, factorToProto(f))
	}
	for _, k := range r.CounselBeforeDisclosure {
		out.CounselBeforeDisclosure = append(out.CounselBeforeDisclosure, toEnum[assessmentv1.CounselKind](string(k), "COUNSEL_KIND_", assessmentv1.CounselKind_value))
	}
	return out
}

func rulesToDomain(p *assessmentv1.CaseRules) domain.Rules {
	r := domain.Rules{
		PolicyVersion:                  p.GetPolicyVersion(),
		Bulk:                           domain.BulkThresholds{MaxTargets: int(p.GetBulkMaxTargets()), MaxTimeRange: dur(p.GetBulkMaxTimeRange())},
		EmergencyReview:                dur(p.GetEmergencyReview()),
		StandardReviewBusinessDays:     int(p.GetStandardReviewBusinessDays()),
		RequiredApprovals:              int(p.GetRequiredApprovals()),
		CustomerNoticePeriod:           dur(p.GetCustomerNoticePeriod()),
		RightsWeighedForAllDisclosures: p.GetRightsWeighedForAllDisclosures(),
		Overlays:                       p.GetOverlays(),
	}
	for _, f := range p.GetExtraFactors() {
		r.ExtraFactors = append(r.ExtraFactors, factorToDomain(f))
	}
	for _, k := range p.GetCounselBeforeDisclosure() {
		r.CounselBeforeDisclosure = append(r.CounselBeforeDisclosure, domain.CounselKind(fromEnum(k, "COUNSEL_KIND_")))
	}
	return r
}

func flagsToProto(fs []domain.Flag) []*assessmentv1.Flag {
	var out []*assessmentv1.Flag
	for _, f := range fs {
		out = append(out, &assessmentv1.Flag{
			Code:        toEnum[assessmentv1.FlagCode](string(f.Code), "FLAG_CODE_", assessmentv1.FlagCode_value),
			Clause:      f.Clause.Number(),
			Explanation: f.Explanation,
		})
	}
	return out
}

func flagsToDomain(fs []*assessmentv1.Flag) []domain.Flag {
	var out []domain.Flag
	for _, f := range fs {
		out = append(out, domain.Flag{
			Code:        domain.FlagCode(strings.TrimPrefix(f.GetCode().String(), "FLAG_CODE_")),
			Clause:      policy.Clause(f.GetClause()),
			Explanation: f.GetExplanation(),
		})
	}
	return out
}

// openingRequirements is what notification can know before any decision:
// everything but the scope.
func openingRequirements(f domain.RequestFacts, r domain.Rules) *assessmentv1.NotificationRequirements {
	return &assessmentv1.NotificationRequirements{
		CustomerIsController: f.CustomerIsController,
		CustomerId:           f.CustomerID,
		Prohibition:          &assessmentv1.Prohibition{Present: f.Gag.Present, Reference: f.Gag.Reference, ExpiresAt: ts(f.Gag.Expires)},
		AuthorityCountry:     f.AuthorityCountry,
		CountryAdequate:      f.CountryAdequate,
		ReceiveTime:          ts(f.ReceivedAt),
		CustomerNoticePeriod: durationpb.New(r.CustomerNoticePeriod),
		Overlays:             r.Overlays,
		ImminentRiskClaimed:  f.ImminentRiskClaimed,
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
		ReceiveTime:          ts(receivedAt),
		CustomerNoticePeriod: durationpb.New(n.CustomerNoticePeriod),
		Overlays:             n.Overlays,
		ImminentRiskClaimed:  n.ImminentRiskClaimed,
	}
	if p := n.Prohibition; p != nil {
		out.Prohibition = &assessmentv1.Prohibition{Present: true, Reference: p.Reference, ExpiresAt: ts(p.Expires)}
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

// narrowingToDomain reads a decision's scope: "all" is no narrowing.
func narrowingToDomain(s *assessmentv1.Scope) *domain.Narrowing {
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
		Kind:    domain.DecisionKind(fromEnum(d.GetKind(), "DECISION_KIND_")),
		Basis:   domain.LegalBasis(fromEnum(d.GetLegalBasis(), "LEGAL_BASIS_")),
		Grounds: d.GetGrounds(),
	}
	if out.Kind == domain.Disclose {
		out.Narrowing = narrowingToDomain(d.GetScope())
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
		Kind:       toEnum[assessmentv1.DecisionKind](string(d.Kind), "DECISION_KIND_", assessmentv1.DecisionKind_value),
		LegalBasis: toEnum[assessmentv1.LegalBasis](string(d.Basis), "LEGAL_BASIS_", assessmentv1.LegalBasis_value),
		Grounds:    d.Grounds,
	}
	if d.Kind == domain.Disclose {
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
