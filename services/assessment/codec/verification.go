package codec

import (
	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// Issue 18's events: the requester check, verifications, the authority
// flag, the security incident and the breach with its deadlines.

// VerificationOutcomes maps a verification outcome both ways.
var VerificationOutcomes = protoconv.Names[assessmentv1.VerificationOutcome, domain.VerificationOutcome]{Prefix: "VERIFICATION_OUTCOME_"}

// encodeVerification gives the wire form of an issue-18 event; ok is false
// for any other event.
func (e Encoder) encodeVerification(ev domain.Event) (eventstore.Event, bool) {
	rid := e.RequestID
	out := func(id, actor string, p proto.Message) (eventstore.Event, bool) {
		return eventstore.Event{ID: id, RequestID: rid, Time: e.Now, Actor: actor, Payload: p}, true
	}
	switch ev := ev.(type) {
	case domain.RequesterChecked:
		return out(e.ID("assessment.requester_checked"), ev.By, &assessmentv1.RequesterChecked{
			RequestId: rid, AuthorityId: ev.AuthorityID, Verified: ev.Verified, Reason: ev.Reason,
			PriorForgeries: int32(ev.PriorForgeries), VerificationRequired: ev.VerificationRequired, CheckTime: protoconv.Timestamp(ev.At),
		})
	case domain.RequesterVerified:
		return out(e.ID("assessment.requester_verified"), ev.By, &assessmentv1.RequesterVerified{
			RequestId: rid, AuthorityId: ev.AuthorityID, ChannelId: ev.ChannelID, Channel: ev.Channel, Outcome: VerificationOutcomes.Proto(ev.Outcome),
			Note: ev.Note, VerifiedBy: ev.By, VerifyTime: protoconv.Timestamp(ev.At),
		})
	case domain.AuthorityFlagged: //nolint:dupl // the flag and the incident of one forgery: one shape, different facts
		return out(eventstore.DerivedID(ev.IncidentID, "assessment.authority_flagged"), ev.By, &assessmentv1.AuthorityFlagged{
			RequestId: rid, AuthorityId: ev.AuthorityID, Reason: ev.Reason, IncidentId: ev.IncidentID, FlaggedBy: ev.By, FlagTime: protoconv.Timestamp(ev.At),
		})
	case domain.SecurityIncidentOpened: //nolint:dupl // see AuthorityFlagged
		return out(eventstore.DerivedID(ev.IncidentID, "assessment.security_incident_opened"), ev.By, &assessmentv1.SecurityIncidentOpened{
			RequestId: rid, IncidentId: ev.IncidentID, AuthorityId: ev.AuthorityID, DataDisclosed: ev.DataDisclosed, OpenedBy: ev.By, OpenTime: protoconv.Timestamp(ev.At),
		})
	case domain.BreachOpened:
		p := &assessmentv1.PersonalDataBreachOpened{RequestId: rid, IncidentId: ev.IncidentID, OpenTime: protoconv.Timestamp(ev.At)}
		for _, d := range ev.Deadlines {
			p.Deadlines = append(p.Deadlines, BreachDeadlineToProto(d))
		}
		return out(eventstore.DerivedID(ev.IncidentID, "assessment.breach_opened"), ev.By, p)
	}
	return eventstore.Event{}, false
}

// BreachDeadlineToProto is a deadline.Deadline on the wire.
func BreachDeadlineToProto(d deadline.Deadline) *assessmentv1.BreachDeadline {
	return &assessmentv1.BreachDeadline{
		Id: d.ID, Kind: string(d.Kind), Clause: d.Clause.Number(), What: d.What,
		Counting: string(d.Rule.Counting), N: int32(d.Rule.N), Calendar: d.Rule.Calendar, Source: d.Rule.Source,
		StartTime: protoconv.Timestamp(d.Start), DueTime: protoconv.Timestamp(d.At),
	}
}

// BreachDeadlineToDomain is the deadline a wire BreachDeadline sets.
func BreachDeadlineToDomain(p *assessmentv1.BreachDeadline) deadline.Deadline {
	return deadline.Deadline{
		ID: p.GetId(), Kind: deadline.Kind(p.GetKind()), Clause: policy.Clause(p.GetClause()), What: p.GetWhat(),
		Rule:  deadline.Rule{Counting: deadline.Counting(p.GetCounting()), N: int(p.GetN()), Calendar: p.GetCalendar(), Source: p.GetSource()},
		Start: protoconv.Time(p.GetStartTime()), Due: deadline.Due{At: protoconv.Time(p.GetDueTime())},
	}
}

// decodeVerification maps a stored issue-18 event onto the domain events
// the case folds (reporting's record of a disclosure is lifecycle.go's).
func decodeVerification(ev eventstore.Event) []domain.Event {
	switch p := ev.Payload.(type) {
	case *assessmentv1.RequesterChecked:
		return []domain.Event{domain.RequesterChecked{Meta: meta(ev, ev.Actor, p.GetCheckTime()), AuthorityID: p.GetAuthorityId(),
			Verified: p.GetVerified(), Reason: p.GetReason(), PriorForgeries: int(p.GetPriorForgeries()), VerificationRequired: p.GetVerificationRequired()}}
	case *assessmentv1.RequesterVerified:
		return []domain.Event{domain.RequesterVerified{Meta: meta(ev, p.GetVerifiedBy(), p.GetVerifyTime()), AuthorityID: p.GetAuthorityId(),
			ChannelID: p.GetChannelId(), Channel: p.GetChannel(), Outcome: VerificationOutcomes.Domain(p.GetOutcome()), Note: p.GetNote()}}
	case *assessmentv1.AuthorityFlagged:
		return []domain.Event{domain.AuthorityFlagged{Meta: meta(ev, p.GetFlaggedBy(), p.GetFlagTime()), AuthorityID: p.GetAuthorityId(), Reason: p.GetReason(), IncidentID: p.GetIncidentId()}}
	case *assessmentv1.SecurityIncidentOpened:
		return []domain.Event{domain.SecurityIncidentOpened{Meta: meta(ev, p.GetOpenedBy(), p.GetOpenTime()), IncidentID: p.GetIncidentId(), AuthorityID: p.GetAuthorityId(), DataDisclosed: p.GetDataDisclosed()}}
	case *assessmentv1.PersonalDataBreachOpened:
		b := domain.BreachOpened{Meta: meta(ev, ev.Actor, p.GetOpenTime()), IncidentID: p.GetIncidentId()}
		for _, d := range p.GetDeadlines() {
			b.Deadlines = append(b.Deadlines, BreachDeadlineToDomain(d))
		}
		return []domain.Event{b}
	}
	return nil
}

// RequesterFromReceived is who a received request says is asking, for the
// directory match. The sender's address is personal data (RECORD): it is
// compared by the directory and never leaves this value.
func RequesterFromReceived(r *intakev1.RequestReceived) authority.Requester {
	q := r.GetRequest()
	return authority.Requester{
		Name:    q.GetAuthority().GetName(),
		Country: policy.Country(q.GetAuthority().GetCountry()),
		Kind:    protoconv.EnumName(q.GetAuthority().GetKind(), authorityPrefix),
		Sender:  authority.Sender{Channel: senderChannel(q.GetChannel()), Address: q.GetSenderAddress()},
	}
}

// senderChannel is the directory's name for the channel a request came by:
// the proto's, but for a letter, which the directory calls post. Fax, in
// person and other keep their names: no directory channel verifies them.
func senderChannel(c intakev1.Channel) authority.Channel {
	if c == intakev1.Channel_CHANNEL_LETTER {
		return authority.Post
	}
	return authority.Channel(protoconv.EnumName(c, "CHANNEL_"))
}
