package app

import (
	"time"

	"google.golang.org/protobuf/proto"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// membersRequest is a request as its group member's commands see it: it
// exists only for that member (Call.Actor), so another member's request is
// NOT_FOUND, its existence not the caller's business.
var membersRequest = command.Spec[*View, proto.Message]{
	Fold:   foldView,
	Exists: func(v *View, c command.Call) bool { return v.received != nil && v.GroupMember() == c.Actor },
	Encode: encode,
}

// anyRequest is a request for Submit's append, staff's erasure and the
// idempotency checks: Decide sees whether it was received.
var anyRequest = command.Spec[*View, proto.Message]{
	Fold:   foldView,
	Encode: encode,
}

// call is an intake command's call. Its trigger is the request id: every
// intake fact is once per request (received, withdrawn, erased) or carries
// its own id (an amendment), so the event ids stay those intake has always
// written, and a retry or a second attempt is deduplicated by the stream.
func (in *Intake) call(requestID, actor string, now time.Time) command.Call {
	return command.Call{RequestID: requestID, Actor: actor, Now: now.UTC(), Trigger: requestID}
}

// encode is intake's event codec: each decided payload becomes a stream
// event of the call (the registry names it from the payload).
func encode(_ *View, c command.Call, payloads []proto.Message) ([]eventstore.Event, error) {
	out := make([]eventstore.Event, 0, len(payloads))
	for _, p := range payloads {
		k, err := eventstore.KindOfMessage(p)
		if err != nil {
			return nil, err
		}
		id := c.EventID(k.QualifiedName())
		if a, ok := p.(*intakev1.RequestAmended); ok {
			id = c.EventID(k.QualifiedName(), a.GetAmendmentId())
		}
		out = append(out, eventstore.Event{ID: id, RequestID: c.RequestID, Time: c.Now, Actor: c.Actor, Payload: p})
	}
	return out, nil
}

// EncodeRequest renders a domain demand as the proto demand, the content
// of RequestReceived; ports renders replies with it too. The group member
// and the idempotency key are not part of it: the credentials and the
// SubmitRequest carry them.
func EncodeRequest(d domain.Request) *intakev1.DataDisclosureRequest {
	r := &intakev1.DataDisclosureRequest{
		ReceivedAt:             protoconv.Timestamp(d.ReceivedAt),
		Channel:                protoconv.EnumValue[intakev1.Channel](string(d.Channel), "CHANNEL_"),
		ReceivedBy:             d.ReceivedBy,
		CitesDataProtectionLaw: d.CitesDataProtectionLaw,
		ScopeDescription:       d.ScopeDescription,
		ScopeSelector:          protoconv.EnumValue[intakev1.ScopeSelector](string(d.ScopeSelector), "SCOPE_SELECTOR_"),
		CustomerId:             d.CustomerID,
		TimeRange:              &intakev1.TimeRange{From: protoconv.Timestamp(d.TimeRange.From), To: protoconv.Timestamp(d.TimeRange.To)},
		StatedPurpose:          d.StatedPurpose,
		Emergency: &intakev1.Emergency{
			Claimed:                   d.Emergency.Claimed,
			HarmDescribed:             d.Emergency.HarmDescribed,
			ImminentRiskOfSeriousHarm: d.Emergency.ImminentRisk,
		},
		Gag: &intakev1.Gag{
			Present:   d.Gag.Present,
			Reference: d.Gag.Reference,
			ExpiresAt: protoconv.Timestamp(d.Gag.ExpiresAt),
		},
		Deadline:      protoconv.Timestamp(d.Deadline),
		Attachments:   EncodeAttachments(d.Attachments),
		Notes:         d.Notes,
		SenderAddress: d.SenderAddress,

		CustomerEstablishment: d.CustomerEstablishment,
		Authority: &intakev1.Authority{
			Name:        d.Authority.Name,
			Kind:        protoconv.EnumValue[intakev1.AuthorityKind](string(d.Authority.Kind), "AUTHORITY_KIND_"),
			Country:     d.Authority.Country,
			Subdivision: d.Authority.Subdivision,
		},
		LegalProcess: &intakev1.LegalProcess{
			Type:        encodeLegalProcessType(d.LegalProcess.Type),
			Reference:   d.LegalProcess.Reference,
			IssuingBody: d.LegalProcess.IssuingBody,
			Date:        protoconv.Timestamp(d.LegalProcess.Date),

			EnforcingAuthorityNotified: d.LegalProcess.EnforcingAuthorityNotified,
		},
	}
	// A part the demand left out stays out, as the caller sent it: the
	// event records the demand, not a rendering with empty parts added.
	if d.Authority == (domain.Authority{}) {
		r.Authority = nil
	}
	if d.LegalProcess == (domain.LegalProcess{}) {
		r.LegalProcess = nil
	}
	if d.TimeRange == (domain.TimeRange{}) {
		r.TimeRange = nil
	}
	if d.Emergency == (domain.Emergency{}) {
		r.Emergency = nil
	}
	if d.Gag == (domain.Gag{}) {
		r.Gag = nil
	}
	for _, t := range d.Targets {
		r.Targets = append(r.Targets, &intakev1.Target{
			Kind:  protoconv.EnumValue[intakev1.TargetKind](string(t.Kind), "TARGET_KIND_"),
			Value: t.Value,
		})
	}
	for _, c := range d.DataCategories {
		r.DataCategories = append(r.DataCategories, protoconv.EnumValue[intakev1.DataCategory](string(c), "DATA_CATEGORY_"))
	}
	for _, c := range d.Customers {
		r.Customers = append(r.Customers, &intakev1.Customer{
			CustomerId:    c.ID,
			Role:          protoconv.EnumValue[intakev1.CustomerRole](string(c.Role), "CUSTOMER_ROLE_"),
			Establishment: c.Establishment,
		})
	}
	return r
}

// encodeLegalProcessType maps the one value whose domain name differs from
// the proto's: the proto says NATIONAL_SECURITY for NSLs and FISA orders.
func encodeLegalProcessType(t domain.LegalProcessType) intakev1.LegalProcessType {
	if t == domain.LegalProcessNationalSecurityOrder {
		return intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_NATIONAL_SECURITY
	}
	return protoconv.EnumValue[intakev1.LegalProcessType](string(t), "LEGAL_PROCESS_TYPE_")
}

// DecodeRequest maps a demand onto the domain model: ports decodes
// submissions with it (the domain carries the rules protovalidate cannot
// express), and the view decodes the content of RequestReceived.
func DecodeRequest(groupMember, idempotencyKey string, r *intakev1.DataDisclosureRequest) domain.Request {
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
		Deadline:      protoconv.Time(r.GetDeadline()),
		Attachments:   DecodeAttachments(r.GetAttachments()),
		Notes:         r.GetNotes(),
		SenderAddress: r.GetSenderAddress(),

		CustomerEstablishment: r.GetCustomerEstablishment(),
		IdempotencyKey:        idempotencyKey,
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
			Type:        decodeLegalProcessType(lp.GetType()),
			Reference:   lp.GetReference(),
			IssuingBody: lp.GetIssuingBody(),
			Date:        protoconv.Time(lp.GetDate()),

			EnforcingAuthorityNotified: lp.GetEnforcingAuthorityNotified(),
		}
	}
	for _, t := range r.GetTargets() {
		d.Targets = append(d.Targets, domain.Target{
			Kind:  decodeTargetKind(t.GetKind()),
			Value: t.GetValue(),
		})
	}
	for _, c := range r.GetDataCategories() {
		d.DataCategories = append(d.DataCategories, domain.DataCategory(protoconv.EnumName(c, "DATA_CATEGORY_")))
	}
	for _, c := range r.GetCustomers() {
		d.Customers = append(d.Customers, domain.Customer{
			ID:            c.GetCustomerId(),
			Role:          domain.CustomerRole(protoconv.EnumName(c.GetRole(), "CUSTOMER_ROLE_")),
			Establishment: c.GetEstablishment(),
		})
	}
	return d
}

// decodeLegalProcessType maps the one value whose proto name differs from
// the domain's: the proto says NATIONAL_SECURITY for NSLs and FISA orders.
func decodeLegalProcessType(t intakev1.LegalProcessType) domain.LegalProcessType {
	if t == intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_NATIONAL_SECURITY {
		return domain.LegalProcessNationalSecurityOrder
	}
	return domain.LegalProcessType(protoconv.EnumName(t, "LEGAL_PROCESS_TYPE_"))
}

// decodeTargetKind reads a target's kind.
func decodeTargetKind(k intakev1.TargetKind) domain.TargetKind {
	return domain.TargetKind(protoconv.EnumName(k, "TARGET_KIND_"))
}

// DecodeAttachments maps attachments, of a demand or an amendment, onto the
// domain: RequestAmended folds with it, ports decodes submissions with it.
func DecodeAttachments(as []*intakev1.Attachment) []domain.Attachment {
	var out []domain.Attachment
	for _, a := range as {
		out = append(out, domain.Attachment{URI: a.GetUri(), SHA256: a.GetSha256(), MediaType: a.GetMediaType()})
	}
	return out
}

// EncodeAttachments is DecodeAttachments the other way.
func EncodeAttachments(as []domain.Attachment) []*intakev1.Attachment {
	var out []*intakev1.Attachment
	for _, a := range as {
		out = append(out, &intakev1.Attachment{Uri: a.URI, Sha256: a.SHA256, MediaType: a.MediaType})
	}
	return out
}
