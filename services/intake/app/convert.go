package app

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/domain"
)

// enumName turns a proto enum value name into the domain's spelling:
// CHANNEL_IN_PERSON with prefix CHANNEL_ becomes "in_person". Unspecified
// becomes "" (the domain reports it as missing); a number the proto does not
// define keeps a spelling the domain reports as unknown.
func enumName(name, prefix string, n int32) string {
	if n == 0 {
		return ""
	}
	if name == "" {
		return fmt.Sprintf("undefined_%d", n)
	}
	return strings.ToLower(strings.TrimPrefix(name, prefix))
}

func tm(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// ToDomain maps a submitted demand onto the domain model, which carries the
// rules protovalidate cannot express.
func ToDomain(groupMember, idempotencyKey string, r *intakev1.DataDisclosureRequest) domain.Request {
	d := domain.Request{
		GroupMember:            groupMember,
		ReceivedAt:             tm(r.GetReceivedAt()),
		Channel:                domain.Channel(enumName(r.GetChannel().String(), "CHANNEL_", int32(r.GetChannel()))),
		ReceivedBy:             r.GetReceivedBy(),
		CitesDataProtectionLaw: r.GetCitesDataProtectionLaw(),
		ScopeDescription:       r.GetScopeDescription(),
		ScopeSelector:          domain.ScopeSelector(enumName(r.GetScopeSelector().String(), "SCOPE_SELECTOR_", int32(r.GetScopeSelector()))),
		CustomerID:             r.GetCustomerId(),
		TimeRange:              domain.TimeRange{From: tm(r.GetTimeRange().GetFrom()), To: tm(r.GetTimeRange().GetTo())},
		StatedPurpose:          r.GetStatedPurpose(),
		Emergency: domain.Emergency{
			Claimed:       r.GetEmergency().GetClaimed(),
			HarmDescribed: r.GetEmergency().GetHarmDescribed(),
			ImminentRisk:  r.GetEmergency().GetImminentRiskOfSeriousHarm(),
		},
		Gag: domain.Gag{
			Present:   r.GetGag().GetPresent(),
			Reference: r.GetGag().GetReference(),
			ExpiresAt: tm(r.GetGag().GetExpiresAt()),
		},
		Deadline:       tm(r.GetDeadline()),
		Attachments:    attachmentsToDomain(r.GetAttachments()),
		Notes:          r.GetNotes(),
		IdempotencyKey: idempotencyKey,
	}
	if a := r.GetAuthority(); a != nil {
		d.Authority = domain.Authority{
			Name:        a.GetName(),
			Kind:        domain.AuthorityKind(enumName(a.GetKind().String(), "AUTHORITY_KIND_", int32(a.GetKind()))),
			Country:     a.GetCountry(),
			Subdivision: a.GetSubdivision(),
		}
	}
	if lp := r.GetLegalProcess(); lp != nil {
		d.LegalProcess = domain.LegalProcess{
			Type:        legalProcessType(lp.GetType()),
			Reference:   lp.GetReference(),
			IssuingBody: lp.GetIssuingBody(),
			Date:        tm(lp.GetDate()),
		}
	}
	for _, t := range r.GetTargets() {
		d.Targets = append(d.Targets, domain.Target{
			Kind:  domain.TargetKind(enumName(t.GetKind().String(), "TARGET_KIND_", int32(t.GetKind()))),
			Value: t.GetValue(),
		})
	}
	for _, c := range r.GetDataCategories() {
		d.DataCategories = append(d.DataCategories, domain.DataCategory(enumName(c.String(), "DATA_CATEGORY_", int32(c))))
	}
	return d
}

// legalProcessType maps the one value whose proto name differs from the
// domain's: the proto says NATIONAL_SECURITY for NSLs and FISA orders.
func legalProcessType(t intakev1.LegalProcessType) domain.LegalProcessType {
	if t == intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_NATIONAL_SECURITY {
		return domain.LegalProcessNationalSecurityOrder
	}
	return domain.LegalProcessType(enumName(t.String(), "LEGAL_PROCESS_TYPE_", int32(t)))
}

func attachmentsToDomain(as []*intakev1.Attachment) []domain.Attachment {
	var out []domain.Attachment
	for _, a := range as {
		out = append(out, domain.Attachment{URI: a.GetUri(), SHA256: a.GetSha256(), MediaType: a.GetMediaType()})
	}
	return out
}
