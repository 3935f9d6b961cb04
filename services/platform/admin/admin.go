// Package admin is the operators' gRPC service every ddr process serves:
// the events its reactors gave up on (the dead-letter stream DDR_DLQ) and a
// replay of one, once its cause is fixed. Without it a dead letter could
// only be seen and re-driven by hand on NATS.
package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/ddrsuite/ddr/gen/ddr/admin/v1"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/validate"
)

// ServiceName is the gRPC service, for health reporting.
var ServiceName = adminv1.AdminService_ServiceDesc.ServiceName

// Server implements ddr.admin.v1.AdminService for one process.
type Server struct {
	adminv1.UnimplementedAdminServiceServer
	js    jetstream.JetStream
	store *eventstore.Store
	reg   *consumer.Registry
	valid *validate.Validator
}

// New serves the dead letters on js; replays go to the reactors in reg and
// read the original events from store.
func New(js jetstream.JetStream, store *eventstore.Store, reg *consumer.Registry) (*Server, error) {
	v, err := validate.New()
	if err != nil {
		return nil, err
	}
	return &Server{js: js, store: store, reg: reg, valid: v}, nil
}

// Register registers s on g.
func (s *Server) Register(g *grpc.Server) { adminv1.RegisterAdminServiceServer(g, s) }

// ListDeadLetters lists dead letters, oldest first.
func (s *Server) ListDeadLetters(ctx context.Context, req *adminv1.ListDeadLettersRequest) (*adminv1.ListDeadLettersResponse, error) {
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	dls, err := consumer.ListDeadLetters(ctx, s.js, req.GetConsumer())
	if err != nil {
		return nil, err
	}
	out := &adminv1.ListDeadLettersResponse{}
	for _, d := range dls {
		out.DeadLetters = append(out.DeadLetters, toProto(d))
	}
	return out, nil
}

// ReplayDeadLetter runs the consumer's handler once on the original event.
func (s *Server) ReplayDeadLetter(ctx context.Context, req *adminv1.ReplayDeadLetterRequest) (*adminv1.ReplayDeadLetterResponse, error) {
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	dl, err := s.find(ctx, req.GetConsumer(), req.GetSequence())
	if err != nil {
		return nil, err
	}
	r, ok := s.reg.Lookup(dl.Consumer)
	if !ok {
		return nil, fmt.Errorf("%w: consumer %s does not run in this process (hosted: %v)", ddrerr.ErrFailedPrecondition, dl.Consumer, s.reg.Names())
	}
	ev, err := s.store.GetBySequence(ctx, dl.StreamSequence)
	if errors.Is(err, eventstore.ErrNotFound) {
		return nil, fmt.Errorf("%w: the original event (DDR sequence %d) is gone", ddrerr.ErrNotFound, dl.StreamSequence)
	}
	var de *eventstore.DecodeError
	if errors.As(err, &de) {
		return nil, fmt.Errorf("%w: the original event (DDR sequence %d) still cannot be decoded", ddrerr.ErrFailedPrecondition, dl.StreamSequence)
	}
	if err != nil {
		return nil, err
	}
	if err := r.Replay(ctx, ev); err != nil {
		// The handler's text is what dead letters store too: no personal data.
		return nil, fmt.Errorf("%w: handler failed again: %s", ddrerr.ErrConflict, err.Error())
	}
	return &adminv1.ReplayDeadLetterResponse{DeadLetter: toProto(dl)}, nil
}

// find returns the dead letter at seq in DDR_DLQ, which must be the
// consumer's.
func (s *Server) find(ctx context.Context, consumerName string, seq uint64) (consumer.DeadLetter, error) {
	dls, err := consumer.ListDeadLetters(ctx, s.js, consumerName)
	if err != nil {
		return consumer.DeadLetter{}, err
	}
	for _, d := range dls {
		if d.Sequence == seq {
			return d, nil
		}
	}
	return consumer.DeadLetter{}, fmt.Errorf("%w: no dead letter of %s at sequence %d", ddrerr.ErrNotFound, consumerName, seq)
}

func toProto(d consumer.DeadLetter) *adminv1.DeadLetter {
	out := &adminv1.DeadLetter{
		Sequence:       d.Sequence,
		Consumer:       d.Consumer,
		Subject:        d.Subject,
		StreamSequence: d.StreamSequence,
		RequestId:      d.RequestID,
		EventId:        d.EventID,
		EventType:      d.EventType,
		Reason:         d.Reason,
		Error:          d.Error,
		Deliveries:     d.Deliveries,
	}
	if !d.Time.IsZero() {
		out.DeadLetteredAt = timestamppb.New(d.Time)
	}
	return out
}
