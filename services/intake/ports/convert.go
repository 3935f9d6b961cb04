package ports

// This is intake's one conversion file for its RPC messages. The demand and
// its attachments are also the content of intake's events, so their
// domain -> proto direction is the app's event codec (app/events.go: the app
// must encode events to append them and decode them to fold); this file
// uses it rather than converting them a second time.

import (
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/app"
	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// ToDomain maps a submitted demand onto the domain model, which carries the
// rules protovalidate cannot express.
func ToDomain(groupMember, idempotencyKey string, r *intakev1.DataDisclosureRequest) domain.Request {
	d := domain.Request{
		GroupMember:            groupMember,
		ReceivedAt:             protoconv.Time(r.GetReceivedAt()),
		Channel:                domain.Channel(protoconv.EnumName(r.GetChannel(), "CHANNEL_")),
		ReceivedBy:             r.GetReceivedBy(),
		CitesDataProtectionLaw: r.GetCitesDataProtectionLaw(),
		ScopeDescription:       r.GetScopeDescription(),
		ScopeSelector:          domain.ScopeSelector(protoconv.EnumName(r.GetScopeSelector(), "SCOPE_SELECTOR_")),
		CustomerID:             r.GetCustomerId(),
		TimeRange:              domain.TimeRange{From: protoconv.Time(r.GetTimeRange().GetFrom()), To: protoconv.Time(r.GetTimeRange().GetTo())},
		StatedPurpose:          r.GetStatedPurpose(),
		Emergency: domain.Emergency{
			Claimed:       r.GetEmergency().GetClaimed(),
			HarmDescribed: r.GetEmergency().GetHarmDescribed(),
			ImminentRisk:  r.GetEmergency().GetImminentRiskOfSeriousHarm(),
		},
		Gag: domain.Gag{
			Present:   r.GetGag().GetPresent(),
			Reference: r.GetGag().GetReference(),
			ExpiresAt: protoconv.Time(r.GetGag().GetExpiresAt()),
		},
		Deadline:       protoconv.Time(r.GetDeadline()),
		Attachments:    app.DecodeAttachments(r.GetAttachments()),
		Notes:          r.GetNotes(),
		SenderAddress:  r.GetSenderAddress(),
		IdempotencyKey: idempotencyKey,
	}
	if a := r.GetAuthority(); a != nil {
		d.Authority = domain.Authority{
			Name:        a.GetName(),
			Kind:        domain.AuthorityKind(protoconv.EnumName(a.GetKind(), "AUTHORITY_KIND_")),
			Country:     a.GetCountry(),
			Subdivision: a.GetSubdivision(),
		}
	}
	if lp := r.GetLegalProcess(); lp != nil {
		d.LegalProcess = domain.LegalProcess{
			Type:        legalProcessType(lp.GetType()),
			Reference:   lp.GetReference(),
			IssuingBody: lp.GetIssuingBody(),
			Date:        protoconv.Time(lp.GetDate()),

			EnforcingAuthorityNotified: lp.GetEnforcingAuthorityNotified(),
		}
	}
	for _, t := range r.GetTargets() {
		d.Targets = append(d.Targets, domain.Target{
			Kind:  domain.TargetKind(protoconv.EnumName(t.GetKind(), "TARGET_KIND_")),
			Value: t.GetValue(),
		})
	}
	for _, c := range r.GetDataCategories() {
		d.DataCategories = append(d.DataCategories, domain.DataCategory(protoconv.EnumName(c, "DATA_CATEGORY_")))
	}
	return d
}

// legalProcessType maps the one value whose proto name differs from the
// domain's: the proto says NATIONAL_SECURITY for NSLs and FISA orders.
func legalProcessType(t intakev1.LegalProcessType) domain.LegalProcessType {
	if t == intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_NATIONAL_SECURITY {
		return domain.LegalProcessNationalSecurityOrder
	}
	return domain.LegalProcessType(protoconv.EnumName(t, "LEGAL_PROCESS_TYPE_"))
}

// amendmentProto renders a recorded amendment.
func amendmentProto(a app.Amended) *intakev1.Amendment {
	return &intakev1.Amendment{
		AmendmentId: a.ID,
		Information: a.Amendment.Information,
		Attachments: app.EncodeAttachments(a.Amendment.Attachments),
		AmendTime:   protoconv.Timestamp(a.Amendment.At),
	}
}
