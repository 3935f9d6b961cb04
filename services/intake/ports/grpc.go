// Package ports exposes intake over gRPC. It authenticates the group
// member, runs the proto rules, and hands the rest to the app.
package ports

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/app"
	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/pagetoken"
	"github.com/ddrsuite/ddr/services/platform/validate"
)

// Lister reads the group members' view, a projection of the stream: reads
// from memory stay fast however long the stream grows, where loading a
// request's events from the stream costs more the longer it is.
type Lister interface {
	// Get returns a member's request, false when the view has none (yet).
	Get(groupMember, requestID string) (app.Request, bool)
	// Page returns a page of a member's requests, newest first, as ids
	// with the versions of their views.
	Page(groupMember string, after string, limit int) (rows []app.Row, next string)
	// Versioned is Get with the version of the view it read.
	Versioned(groupMember, requestID string) (app.Request, uint64, bool)
}

// Waiter blocks until the view reflects the stream up to a sequence.
type Waiter func(ctx context.Context, seq uint64) error

// settleTimeout bounds how long a write waits for the view to show it. The
// write is durable either way; past the bound, a read right after it may
// briefly not show it.
const settleTimeout = 2 * time.Second

// Server implements intakev1.IntakeServiceServer.
type Server struct {
	intakev1.UnimplementedIntakeServiceServer
	app    *app.Intake
	list   Lister
	valid  *validate.Validator
	limits domain.Limits
	now    func() time.Time
	wait   Waiter
	rows   *rowCache
}

// NewServer returns the gRPC server of intake. wait makes a member's own
// writes visible to its next read (read-your-writes); nil waits for nothing.
func NewServer(a *app.Intake, l Lister, v *validate.Validator, cfg app.Config, wait Waiter) *Server {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if wait == nil {
		wait = func(context.Context, uint64) error { return nil }
	}
	return &Server{app: a, list: l, valid: v, limits: cfg.Limits, now: now, wait: wait, rows: newRowCache(rowCacheSize)}
}

// Erased drops what the server keeps rendered of a request whose view has
// just forgotten its erased values: give it to [app.Index.OnErased].
func (s *Server) Erased(requestID string, seq uint64) { s.rows.forget(requestID, seq) }

// settle waits, bounded, until the view shows the write at seq.
func (s *Server) settle(ctx context.Context, seq uint64) {
	if seq == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	_ = s.wait(ctx, seq)
}

// groupMember is the authenticated caller; only a group member may submit
// and see requests here. The member comes from the credentials, never from
// the payload.
func groupMember(ctx context.Context) (string, error) {
	id, err := auth.Require(ctx, auth.KindGroupMember)
	return id.URI, err
}

// check runs the proto rules of msg.
func (s *Server) check(msg proto.Message) error {
	return s.valid.Check(msg)
}

// checkSubmit runs the proto rules and the domain's together, so the caller
// learns every problem at once, one violation per field: where both rule
// sets object to one field, the proto rule's wording is kept. The domain
// rules run here only: the submission it returns is what the app records.
func (s *Server) checkSubmit(member string, req *intakev1.SubmitRequest) (app.Submission, error) {
	perr := s.valid.Check(req)
	var pv *ddrerr.ValidationError
	if perr != nil && !errors.As(perr, &pv) {
		return app.Submission{}, perr
	}
	sub, derr := app.CheckSubmission(app.DecodeRequest(member, req.GetIdempotencyKey(), req.GetRequest()), s.now(), s.limits)
	var dv *ddrerr.ValidationError
	if derr != nil && !errors.As(derr, &dv) {
		return app.Submission{}, derr
	}
	if pv == nil && dv == nil {
		return sub, nil
	}
	var c ddrerr.Collector
	seen := map[string]bool{}
	if pv != nil {
		for _, v := range pv.Violations {
			seen[v.Field] = true
			c.Add(v.Field, v.Description)
		}
	}
	if dv != nil {
		for _, v := range dv.Violations {
			// Domain paths are relative to the demand; the wire path is
			// under SubmitRequest.request (except the key itself).
			field := v.Field
			switch field {
			case "group_member":
				continue // taken from the credentials, never the caller's to fix
			case "idempotency_key", "":
			default:
				field = "request." + field
			}
			if !seen[field] {
				seen[field] = true
				c.Add(field, v.Description)
			}
		}
	}
	return app.Submission{}, c.Err()
}

// Submit implements intakev1.IntakeServiceServer.
func (s *Server) Submit(ctx context.Context, req *intakev1.SubmitRequest) (*intakev1.SubmitResponse, error) {
	member, err := groupMember(ctx)
	if err != nil {
		return nil, err
	}
	sub, err := s.checkSubmit(member, req)
	if err != nil {
		return nil, err
	}
	res, err := s.app.Submit(ctx, sub)
	if err != nil {
		return nil, err
	}
	s.settle(ctx, res.Sequence)
	return &intakev1.SubmitResponse{
		RequestId:      res.RequestID,
		SubmitTime:     timestamppb.New(res.SubmitTime),
		Replayed:       res.Replayed,
		LateForwarding: res.LateForwarding,
	}, nil
}

// Get implements intakev1.IntakeServiceServer.
func (s *Server) Get(ctx context.Context, req *intakev1.GetRequest) (*intakev1.GetResponse, error) {
	member, err := groupMember(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.check(req); err != nil {
		return nil, err
	}
	view, ok := s.list.Get(member, req.GetRequestId())
	if !ok {
		// Not in this process's view (yet): the stream decides, and a
		// request of another member stays NOT_FOUND.
		if view, err = s.app.Get(ctx, member, req.GetRequestId()); err != nil {
			return nil, err
		}
	}
	r, err := s.app.Reveal(ctx, view)
	if err != nil {
		return nil, err
	}
	return &intakev1.GetResponse{Request: requestProto(r)}, nil
}

// List implements intakev1.IntakeServiceServer.
func (s *Server) List(ctx context.Context, req *intakev1.ListRequest) (*intakev1.ListResponse, error) {
	member, err := groupMember(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.check(req); err != nil {
		return nil, err
	}
	after, size, err := pagetoken.Page(req)
	if err != nil {
		return nil, err
	}
	page, next := s.list.Page(member, after, size)
	out, err := s.listRows(ctx, member, page)
	if err != nil {
		return nil, err
	}
	return &intakev1.ListResponse{Requests: out, NextPageToken: pagetoken.Encode(next)}, nil
}

// Amend implements intakev1.IntakeServiceServer.
func (s *Server) Amend(ctx context.Context, req *intakev1.AmendRequest) (*intakev1.AmendResponse, error) {
	member, err := groupMember(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.check(req); err != nil {
		return nil, err
	}
	a, err := s.app.Amend(ctx, member, req.GetRequestId(), req.GetInformation(), app.DecodeAttachments(req.GetAttachments()))
	if err != nil {
		return nil, err
	}
	s.settle(ctx, a.Sequence)
	return &intakev1.AmendResponse{Amendment: amendmentProto(a)}, nil
}

// Withdraw implements intakev1.IntakeServiceServer.
func (s *Server) Withdraw(ctx context.Context, req *intakev1.WithdrawRequest) (*intakev1.WithdrawResponse, error) { //nolint:dupl // RecordWithdrawal is the staff's door to the same fact; only the caller's kind differs
	member, err := groupMember(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.check(req); err != nil {
		return nil, err
	}
	at, seq, err := s.app.Withdraw(ctx, member, req.GetRequestId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	s.settle(ctx, seq)
	return &intakev1.WithdrawResponse{WithdrawTime: timestamppb.New(at)}, nil
}

// EraseTargets implements intakev1.IntakeServiceServer. Who may erase is
// the policy table's decision (legal); the caller is recorded as actor.
func (s *Server) EraseTargets(ctx context.Context, req *intakev1.EraseTargetsRequest) (*intakev1.EraseTargetsResponse, error) {
	id, err := auth.Require(ctx, auth.KindStaff)
	if err != nil {
		return nil, err
	}
	if err := s.check(req); err != nil {
		return nil, err
	}
	res, err := s.app.EraseTargets(ctx, id.URI, req.GetRequestId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	// The answer waits until this process's view has folded the erasure
	// and forgotten the values it held opened (app.View): a List or Get
	// after it shows them gone.
	s.settle(ctx, res.Sequence)
	return &intakev1.EraseTargetsResponse{EraseTime: timestamppb.New(res.EraseTime), ErasedNow: res.ErasedNow}, nil
}

// staff is the authenticated staff member; which staff roles may call what
// is the policy table's decision (platform/authz).
func staff(ctx context.Context) (string, error) {
	id, err := auth.Require(ctx, auth.KindStaff)
	return id.URI, err
}

// RecordWithdrawal implements intakev1.IntakeServiceServer.
func (s *Server) RecordWithdrawal(ctx context.Context, req *intakev1.RecordWithdrawalRequest) (*intakev1.RecordWithdrawalResponse, error) { //nolint:dupl // Withdraw is the member's door to the same fact; only the caller's kind differs
	who, err := staff(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.check(req); err != nil {
		return nil, err
	}
	at, seq, err := s.app.RecordWithdrawal(ctx, who, req.GetRequestId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	s.settle(ctx, seq)
	return &intakev1.RecordWithdrawalResponse{WithdrawTime: timestamppb.New(at)}, nil
}

// GetRequestForReview implements intakev1.IntakeServiceServer.
func (s *Server) GetRequestForReview(ctx context.Context, req *intakev1.GetRequestForReviewRequest) (*intakev1.GetRequestForReviewResponse, error) {
	if _, err := staff(ctx); err != nil {
		return nil, err
	}
	if err := s.check(req); err != nil {
		return nil, err
	}
	r, err := s.app.GetRequestForReview(ctx, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &intakev1.GetRequestForReviewResponse{Request: reviewProto(r)}, nil
}

// RevealTargets implements intakev1.IntakeServiceServer. The caller's
// roles go into the record with the reveal.
func (s *Server) RevealTargets(ctx context.Context, req *intakev1.RevealTargetsRequest) (*intakev1.RevealTargetsResponse, error) {
	who, err := staff(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.check(req); err != nil {
		return nil, err
	}
	r, err := s.app.RevealTargets(ctx, who, auth.Roles(ctx), req.GetRequestId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &intakev1.RevealTargetsResponse{Targets: targetsProto(r.Targets), RevealTime: timestamppb.New(r.RevealTime)}, nil
}
