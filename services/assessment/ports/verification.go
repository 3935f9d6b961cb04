package ports

import (
	"context"
	"log/slog"
	"unicode/utf8"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// VerificationServer implements assessmentv1.VerificationServiceServer
// (issue 18): the contacts to verify a request through come from the
// authority directory, never from the request.
type VerificationServer struct {
	assessmentv1.UnimplementedVerificationServiceServer
	s   *Server
	log *slog.Logger
	// scopes is the stored verification scope (verifyscope.go).
	scopes *app.VerifyScopes
}

// NewVerificationServer returns the verification desk over the same app
// and clock as s.
func NewVerificationServer(s *Server, log *slog.Logger) *VerificationServer {
	if log == nil {
		log = slog.Default()
	}
	return &VerificationServer{s: s, log: log}
}

// GetVerificationContacts implements assessmentv1.VerificationServiceServer.
func (v *VerificationServer) GetVerificationContacts(ctx context.Context, req *assessmentv1.GetVerificationContactsRequest) (*assessmentv1.GetVerificationContactsResponse, error) {
	if _, err := v.s.staff(ctx, req); err != nil {
		return nil, err
	}
	c, err := v.s.app.VerificationContacts(ctx, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	out := &assessmentv1.GetVerificationContactsResponse{
		AuthorityId: c.Entry.ID, AuthorityName: c.Entry.Name, Source: c.Entry.Source,
		Verification: verificationToProto(c.State.Case.Verification()),
	}
	for _, k := range c.Contacts {
		out.Contacts = append(out.Contacts, &assessmentv1.VerificationContact{ChannelId: app.ChannelID(k), Channel: string(k.Channel), Value: k.Value})
	}
	return out, nil
}

// RecordVerification implements assessmentv1.VerificationServiceServer.
func (v *VerificationServer) RecordVerification(ctx context.Context, req *assessmentv1.RecordVerificationRequest) (*assessmentv1.RecordVerificationResponse, error) {
	actor, err := v.s.staff(ctx, req)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(req.GetNote()) > 2000 {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "note", Description: "at most 2000 characters"})
	}
	res, err := v.s.app.RecordVerification(ctx, actor, req.GetRequestId(), req.GetChannelId(), codec.VerificationOutcomes.Domain(req.GetOutcome()), req.GetNote())
	if err != nil {
		return nil, err
	}
	if res.IncidentID != "" {
		// Ids and a flag only: no sender, officer, target or note.
		v.log.WarnContext(ctx, "security incident opened: the authority confirmed the request forged",
			"request_id", req.GetRequestId(), "incident_id", res.IncidentID, "authority_id", res.AuthorityID, "data_disclosed", res.DataDisclosed)
	}
	return &assessmentv1.RecordVerificationResponse{
		Case:         caseToProto(res.State, v.s.now()),
		Verification: verificationToProto(res.State.Case.Verification()),
	}, nil
}

func verificationToProto(v domain.Verification) *assessmentv1.RequesterVerification {
	var breach []*assessmentv1.BreachDeadline
	for _, d := range v.Breach {
		breach = append(breach, codec.BreachDeadlineToProto(d))
	}
	return &assessmentv1.RequesterVerification{
		BreachDeadlines:          breach,
		DataDisclosed:            v.Disclosed,
		AuthorityId:              v.AuthorityID,
		SenderVerified:           v.SenderVerified,
		Reason:                   v.Reason,
		PriorForgeries:           int32(v.PriorForgeries),
		RequiredForAnyDisclosure: v.Required,
		Outcome:                  codec.VerificationOutcomes.Proto(v.Outcome),
		VerifiedBy:               v.By,
		VerifyTime:               protoconv.Timestamp(v.At),
		ChannelId:                v.ChannelID,
		IncidentId:               v.IncidentID,
	}
}

// AuthorityFlags is the projection that layers AuthorityFlagged events of
// every request over the directory file, for projection.Start.
func AuthorityFlags(d *app.Directory) (filters []string, apply projection.Apply) {
	return projection.Dispatch(
		projection.On(func(ev eventstore.Event, p *assessmentv1.AuthorityFlagged) error {
			d.Flag(p.GetIncidentId(), authority.Flag{AuthorityID: p.GetAuthorityId(), At: codec.OwnTime(p.GetFlagTime(), ev).UTC(), Reason: p.GetReason()})
			return nil
		}),
	)
}
