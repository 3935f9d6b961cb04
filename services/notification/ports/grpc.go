// Package ports exposes notification over gRPC to the Privacy Team and
// reacts to assessment's decisions. It authenticates the caller, runs the
// proto rules, and hands the rest to the app.
package ports

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/pagetoken"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/platform/validate"
)

// Holds lists standing holds (the index).
type Holds interface {
	Holds(now time.Time, after string, limit int) ([]domain.OpenHold, string)
}

// Retrier schedules an immediate delivery attempt.
type Retrier interface {
	Retry(requestID string)
}

// Server implements notificationv1.NotificationServiceServer.
type Server struct {
	notificationv1.UnimplementedNotificationServiceServer
	app   *app.Notification
	holds Holds
	retry Retrier
	valid *validate.Validator
}

// NewServer returns the gRPC server of notification.
func NewServer(a *app.Notification, h Holds, r Retrier, v *validate.Validator) *Server {
	return &Server{app: a, holds: h, retry: r, valid: v}
}

// staff is the authenticated Privacy Team member; every command is theirs
// and their identity is recorded as the event's actor.
func staff(ctx context.Context) (string, error) {
	id, err := auth.Require(ctx, auth.KindStaff)
	return id.URI, err
}

// reader may read plans: staff, or another service of the suite.
func reader(ctx context.Context) error {
	_, err := auth.Require(ctx, auth.KindStaff, auth.KindService)
	return err
}

func (s *Server) staffCheck(ctx context.Context, msg proto.Message) (string, error) {
	actor, err := staff(ctx)
	if err != nil {
		return "", err
	}
	return actor, s.valid.Check(msg)
}

// GetPlan implements notificationv1.NotificationServiceServer.
func (s *Server) GetPlan(ctx context.Context, req *notificationv1.GetPlanRequest) (*notificationv1.GetPlanResponse, error) {
	if err := reader(ctx); err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	p, err := s.app.GetPlan(ctx, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &notificationv1.GetPlanResponse{Plan: planToProto(p)}, nil
}

// ListHolds implements notificationv1.NotificationServiceServer.
func (s *Server) ListHolds(ctx context.Context, req *notificationv1.ListHoldsRequest) (*notificationv1.ListHoldsResponse, error) {
	if err := reader(ctx); err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	after, err := pagetoken.Decode(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	hs, next := s.holds.Holds(s.app.Now(), after, size)
	out := &notificationv1.ListHoldsResponse{NextPageToken: pagetoken.Encode(next)}
	for _, h := range hs {
		out.Holds = append(out.Holds, holdToProto(h))
	}
	return out, nil
}

// RecordRedirectOutcome implements notificationv1.NotificationServiceServer.
//
//nolint:dupl // one staff command on a request: the shape of every such RPC; only the call differs
func (s *Server) RecordRedirectOutcome(ctx context.Context, req *notificationv1.RecordRedirectOutcomeRequest) (*notificationv1.RecordRedirectOutcomeResponse, error) {
	actor, err := s.staffCheck(ctx, req)
	if err != nil {
		return nil, err
	}
	p, err := s.app.RecordRedirectOutcomeFor(ctx, actor, req.GetRequestId(), req.GetCustomerRef(), app.RedirectOutcomeFromProto(req.GetOutcome()), req.GetSupport())
	if err != nil {
		return nil, err
	}
	return &notificationv1.RecordRedirectOutcomeResponse{Plan: planToProto(p)}, nil
}

// RecordExemption implements notificationv1.NotificationServiceServer.
func (s *Server) RecordExemption(ctx context.Context, req *notificationv1.RecordExemptionRequest) (*notificationv1.RecordExemptionResponse, error) {
	actor, err := s.staffCheck(ctx, req)
	if err != nil {
		return nil, err
	}
	p, err := s.app.RecordExemption(ctx, actor, req.GetRequestId(), app.StepKindFromProto(req.GetStep()), domain.SkipReason(req.GetReason()), req.GetBasis())
	if err != nil {
		return nil, err
	}
	return &notificationv1.RecordExemptionResponse{Plan: planToProto(p)}, nil
}

// RecordDpaConsultation implements notificationv1.NotificationServiceServer.
//
//nolint:dupl // one staff command on a request: the shape of every such RPC; only the call differs
func (s *Server) RecordDpaConsultation(ctx context.Context, req *notificationv1.RecordDpaConsultationRequest) (*notificationv1.RecordDpaConsultationResponse, error) {
	actor, err := s.staffCheck(ctx, req)
	if err != nil {
		return nil, err
	}
	p, err := s.app.RecordConsultation(ctx, actor, req.GetRequestId(), req.GetAuthority(), app.ConsultationOutcomeFromProto(req.GetOutcome()), req.GetSummary())
	if err != nil {
		return nil, err
	}
	return &notificationv1.RecordDpaConsultationResponse{Plan: planToProto(p)}, nil
}

// LiftHold implements notificationv1.NotificationServiceServer.
func (s *Server) LiftHold(ctx context.Context, req *notificationv1.LiftHoldRequest) (*notificationv1.LiftHoldResponse, error) {
	actor, err := s.staffCheck(ctx, req)
	if err != nil {
		return nil, err
	}
	p, err := s.app.LiftHold(ctx, actor, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &notificationv1.LiftHoldResponse{Plan: planToProto(p)}, nil
}

// RecordWaiverEffort implements notificationv1.NotificationServiceServer.
func (s *Server) RecordWaiverEffort(ctx context.Context, req *notificationv1.RecordWaiverEffortRequest) (*notificationv1.RecordWaiverEffortResponse, error) {
	actor, err := s.staffCheck(ctx, req)
	if err != nil {
		return nil, err
	}
	p, err := s.app.RecordWaiverEffort(ctx, actor, req.GetRequestId(), effortFromRequest(req))
	if err != nil {
		return nil, err
	}
	return &notificationv1.RecordWaiverEffortResponse{Plan: planToProto(p)}, nil
}

// RetryDelivery implements notificationv1.NotificationServiceServer.
func (s *Server) RetryDelivery(ctx context.Context, req *notificationv1.RetryDeliveryRequest) (*notificationv1.RetryDeliveryResponse, error) {
	if _, err := s.staffCheck(ctx, req); err != nil {
		return nil, err
	}
	p, err := s.app.GetPlan(ctx, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	s.retry.Retry(req.GetRequestId())
	return &notificationv1.RetryDeliveryResponse{Plan: planToProto(p)}, nil
}

// PlanReactor is the reactor on assessment.decided: it derives the plan.
// What is retried and what is dead-lettered is ddrerr.Classify's call, the
// one rule: invalid requirements are a client error and go to the
// dead-letter stream at once; a conflict (a concurrent write won) is retried.
//
// It also stops every pending step when the authority withdraws the
// request (intake.withdrawn) or the case goes back to review
// (assessment.reopened): StepsStopped, once per cause.
func PlanReactor(a *app.Notification) consumer.ReactorHandlers {
	return consumer.Reactor(consumer.On(func(ctx context.Context, ev eventstore.Event, d *assessmentv1.AssessmentDecided) error {
		if err := a.Derive(ctx, app.DecodeDecided(ev, d)); err != nil {
			return fmt.Errorf("notification plan for request %s: %w", ev.RequestID, err)
		}
		return nil
	}),
		consumer.On(func(ctx context.Context, ev eventstore.Event, _ *intakev1.RequestWithdrawn) error {
			return stop(ctx, a, ev, domain.StopWithdrawn)
		}),
		consumer.On(func(ctx context.Context, ev eventstore.Event, _ *assessmentv1.CaseReopened) error {
			return stop(ctx, a, ev, domain.StopReopened)
		}))
}

// stop records StepsStopped for the withdrawal or reopening ev.
func stop(ctx context.Context, a *app.Notification, ev eventstore.Event, why domain.StopReason) error {
	if err := a.Stop(ctx, ev.RequestID, why, ev.ID); err != nil {
		return fmt.Errorf("notification: stop the steps of request %s (%s): %w", ev.RequestID, why, err)
	}
	return nil
}

// person is the authenticated staff member with their roles, for the
// two-person safeguards: the domain checks the roles a lift needs.
func (s *Server) person(ctx context.Context, msg proto.Message) (policy.Person, error) {
	p, err := auth.RequireStaffPerson(ctx)
	if err != nil {
		return policy.Person{}, err
	}
	return p, s.valid.Check(msg)
}

// proposeRequest is a Propose* request.
type proposeRequest interface {
	proto.Message
	GetRequestId() string
}

// propose runs one proposal for the authenticated staff member: conv reads
// the request, run is the app's command, out makes the answer with the plan
// after it and the lift a second person confirms.
func propose[Req proposeRequest, X, Resp any](ctx context.Context, s *Server, req Req, conv func(Req) X,
	run func(ctx context.Context, actor, requestID string, x X) (app.Proposed, error), out func(*notificationv1.Plan, string) Resp,
) (Resp, error) {
	var none Resp
	by, err := s.person(ctx, req)
	if err != nil {
		return none, err
	}
	r, err := run(ctx, by.ID, req.GetRequestId(), conv(req))
	if err != nil {
		return none, err
	}
	return out(planToProto(r.PlanView), r.LiftID), nil
}

// ProposeExemption implements notificationv1.NotificationServiceServer.
func (s *Server) ProposeExemption(ctx context.Context, req *notificationv1.ProposeExemptionRequest) (*notificationv1.ProposeExemptionResponse, error) {
	return propose(ctx, s, req, exemptionFromRequest, s.app.ProposeExemption, exemptionProposed)
}

// ProposeConsultationOutcome implements notificationv1.NotificationServiceServer.
func (s *Server) ProposeConsultationOutcome(ctx context.Context, req *notificationv1.ProposeConsultationOutcomeRequest) (*notificationv1.ProposeConsultationOutcomeResponse, error) {
	return propose(ctx, s, req, consultationFromRequest, s.app.ProposeConsultationOutcome, consultationProposed)
}

// ProposeManualDispatch implements notificationv1.NotificationServiceServer.
func (s *Server) ProposeManualDispatch(ctx context.Context, req *notificationv1.ProposeManualDispatchRequest) (*notificationv1.ProposeManualDispatchResponse, error) {
	return propose(ctx, s, req, dispatchFromRequest, s.app.ProposeManualDispatch, dispatchProposed)
}

// ProposeWeakening implements notificationv1.NotificationServiceServer.
func (s *Server) ProposeWeakening(ctx context.Context, req *notificationv1.ProposeWeakeningRequest) (*notificationv1.ProposeWeakeningResponse, error) {
	return propose(ctx, s, req, weakeningFromRequest, s.app.ProposeWeakening, weakeningProposed)
}

// ConfirmLift implements notificationv1.NotificationServiceServer.
func (s *Server) ConfirmLift(ctx context.Context, req *notificationv1.ConfirmLiftRequest) (*notificationv1.ConfirmLiftResponse, error) {
	by, err := s.person(ctx, req)
	if err != nil {
		return nil, err
	}
	p, err := s.app.ConfirmLift(ctx, by, req.GetRequestId(), req.GetLiftId())
	if err != nil {
		return nil, err
	}
	return &notificationv1.ConfirmLiftResponse{Plan: planToProto(p)}, nil
}

// CheckDisclosure implements notificationv1.NotificationServiceServer. A
// service (reporting) may ask too; the caller is recorded on any events.
func (s *Server) CheckDisclosure(ctx context.Context, req *notificationv1.CheckDisclosureRequest) (*notificationv1.CheckDisclosureResponse, error) {
	id, err := auth.Require(ctx, auth.KindStaff, auth.KindService)
	if err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	p, err := s.app.CheckDisclosure(ctx, id.URI, req.GetRequestId(), protoconv.Time(req.GetDisclosureTime()))
	if err != nil {
		return nil, err
	}
	return &notificationv1.CheckDisclosureResponse{Plan: planToProto(p)}, nil
}
