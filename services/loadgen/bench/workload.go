// Package bench measures the suite under load and, in the same run, the
// baselines it is built on (a raw gRPC echo, a raw JetStream publish at
// the same durability), so its numbers read as ratios to what the machine
// can do at all. It also holds the request flow the fault runs drive.
package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

// Identities of a run: several group members and two staff.
const (
	Reviewer = "spiffe://ddr.local/staff/alice"
	Approver = "spiffe://ddr.local/staff/bob"
	Operator = "spiffe://ddr.local/sre/oncall"
)

// Members are the group members that submit, one per client.
var Members = []string{
	"spiffe://ddr.local/group-member/acme-eu",
	"spiffe://ddr.local/group-member/acme-us",
	"spiffe://ddr.local/group-member/acme-uk",
	"spiffe://ddr.local/group-member/acme-jp",
}

// Demand is a realistic demand: a prosecutor's court order for one
// account's subscriber data over three months, which the policy lets the
// suite disclose after review without holds (adequate country, no gag).
func Demand(key string) *intakev1.SubmitRequest {
	now := time.Now()
	return &intakev1.SubmitRequest{
		IdempotencyKey: key,
		Request: &intakev1.DataDisclosureRequest{
			ReceivedAt:     timestamppb.New(now.Add(-2 * time.Hour)),
			Channel:        intakev1.Channel_CHANNEL_LETTER,
			Authority:      &intakev1.Authority{Name: "Staatsanwaltschaft Berlin", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_PROSECUTOR, Country: "DE"},
			LegalProcess:   &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER, Reference: "AG Tiergarten 123/26"},
			Targets:        []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "acct-" + key}},
			DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER},
			TimeRange:      &intakev1.TimeRange{From: timestamppb.New(now.AddDate(0, -3, 0)), To: timestamppb.New(now.AddDate(0, 0, -1))},
			StatedPurpose:  "fraud investigation",
		},
	}
}

// Clients are the gRPC clients of one worker.
type Clients struct {
	Intake   intakev1.IntakeServiceClient // as a group member
	Reviewer assessmentv1.AssessmentServiceClient
	Approver assessmentv1.AssessmentServiceClient
	Record   reportingv1.ReportingServiceClient       // as the reviewer
	Plan     notificationv1.NotificationServiceClient // as the reviewer
	// PlanApprover confirms what the reviewer recorded (two people).
	PlanApprover notificationv1.NotificationServiceClient
}

// NewClients builds the clients of member over connections made by dial;
// close the returned connections when done.
func NewClients(dial func(uri string) (*grpc.ClientConn, error), member string) (Clients, []*grpc.ClientConn, error) {
	var conns []*grpc.ClientConn
	var errs []error
	conn := func(uri string) *grpc.ClientConn {
		c, err := dial(uri)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		conns = append(conns, c)
		return c
	}
	m, r, a := conn(member), conn(Reviewer), conn(Approver)
	if len(errs) > 0 {
		for _, c := range conns {
			_ = c.Close()
		}
		return Clients{}, nil, fmt.Errorf("bench: dial: %w", errors.Join(errs...))
	}
	return Clients{
		Intake:   intakev1.NewIntakeServiceClient(m),
		Reviewer: assessmentv1.NewAssessmentServiceClient(r),
		Approver: assessmentv1.NewAssessmentServiceClient(a),
		Record:   reportingv1.NewReportingServiceClient(r),
		Plan:     notificationv1.NewNotificationServiceClient(r),

		PlanApprover: notificationv1.NewNotificationServiceClient(a),
	}, conns, nil
}

// PollInterval is how often the flow looks for the effect of a reactor.
var PollInterval = 5 * time.Millisecond

// Review is the automatic reviewer and approver: claim the case, record
// the six factors and the rights assessment, consider a challenge, decide
// to disclose a bounded period of the named target, approve. It waits for
// the case to open first. Calls refused as UNAVAILABLE or ABORTED (a
// restarting service, a concurrent writer) are retried, and a step refused
// because it is already done is skipped, so Review can resume a flow that a
// crash interrupted.
func Review(ctx context.Context, c Clients, id string) error {
	if err := retry(ctx, func() error {
		_, err := c.Reviewer.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		return err
	}, codes.NotFound); err != nil {
		return fmt.Errorf("case: %w", err)
	}
	steps := []struct {
		name string
		call func() error
	}{
		{"claim", func() error {
			_, err := c.Reviewer.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id})
			return err
		}},
		{"factors", func() error {
			var fs []*assessmentv1.FactorAssessment
			for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
				fs = append(fs, &assessmentv1.FactorAssessment{Factor: f, Assessment: "assessed: " + f.String()})
			}
			_, err := c.Reviewer.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: fs, RightsAssessment: "one subscriber record; proportionate"})
			return err
		}},
		{"challenge", func() error {
			_, err := c.Reviewer.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Reasoning: "valid court order; no grounds"})
			return err
		}},
	}
	for _, s := range steps {
		if err := retry(ctx, s.call); err != nil && !alreadyDone(err) {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	now := time.Now()
	var decisionID string
	err := retry(ctx, func() error {
		res, err := c.Reviewer.Decide(ctx, &assessmentv1.DecideRequest{
			RequestId:  id,
			Kind:       assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
			LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION,
			Scope: &assessmentv1.Scope{
				TargetRefs: []string{"t1"},
				TimeRange:  &intakev1.TimeRange{From: timestamppb.New(now.AddDate(0, -2, 0)), To: timestamppb.New(now.AddDate(0, 0, -7))},
			},
			Grounds: "court order; one account; two months",
		})
		decisionID = res.GetCase().GetDecision().GetDecisionId()
		return err
	})
	if err != nil && !alreadyDone(err) {
		return fmt.Errorf("decide: %w", err)
	}
	if decisionID == "" {
		// Decided before a crash: the case holds the decision.
		if err := retry(ctx, func() error {
			res, err := c.Reviewer.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
			decisionID = res.GetCase().GetDecision().GetDecisionId()
			return err
		}); err != nil {
			return fmt.Errorf("read decision: %w", err)
		}
	}
	err = retry(ctx, func() error {
		_, err := c.Approver.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: decisionID})
		return err
	})
	if err != nil && !alreadyDone(err) {
		return fmt.Errorf("approve: %w", err)
	}
	return DispatchLeadPacket(ctx, c, id)
}

// LeadDPA is the suite's default lead authority under the BCR.
const LeadDPA = "DPC-IE"

// DispatchLeadPacket sends the lead DPA its packet by hand, as staff do
// where no DPA address is configured: every disclosure notifies the
// competent DPAs first (clause 2.2). The reviewer records the dispatch and
// the approver, a second person who did not propose the decision,
// confirms it. Resumable: the sent time and reference are fixed per
// request, so a retried proposal is the same proposal, and an already
// confirmed lift counts as done.
func DispatchLeadPacket(ctx context.Context, c Clients, id string) error {
	ref := "PORTAL-" + id
	sent := timestamppb.New(time.Now().Add(-time.Minute).Truncate(time.Second))
	lift := ""
	err := retry(ctx, func() error {
		res, err := c.Plan.ProposeManualDispatch(ctx, &notificationv1.ProposeManualDispatchRequest{
			RequestId: id, Authority: LeadDPA, Means: notificationv1.DispatchMeans_DISPATCH_MEANS_PORTAL, Reference: ref, SentTime: sent,
		})
		lift = res.GetLiftId()
		return err
	}, codes.NotFound) // the plan is derived by a reactor
	if err != nil && !alreadyDone(err) {
		return fmt.Errorf("dispatch the lead DPA's packet: %w", err)
	}
	if lift == "" {
		lift = "dispatch/" + LeadDPA + "/" + ref // the plan's id of this dispatch
	}
	err = retry(ctx, func() error {
		_, err := c.PlanApprover.ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: lift})
		return err
	}, codes.NotFound)
	if err != nil && !alreadyDone(err) {
		return fmt.Errorf("confirm the dispatch: %w", err)
	}
	return nil
}

// WaitCleared waits until the group member sees the request cleared.
func WaitCleared(ctx context.Context, c Clients, id string) error {
	return poll(ctx, func() (bool, error) {
		res, err := c.Intake.Get(ctx, &intakev1.GetRequest{RequestId: id})
		if err != nil {
			return false, err
		}
		st := res.GetRequest().GetStage()
		return st == intakev1.Stage_STAGE_CLEARED || st == intakev1.Stage_STAGE_CLOSED, nil
	})
}

// SealedType is the event type that closes a record.
const SealedType = "ddr.reporting.v1.RecordSealed"

// WaitSealed waits until the request's record is sealed.
func WaitSealed(ctx context.Context, c Clients, id string) error {
	return poll(ctx, func() (bool, error) {
		res, err := c.Record.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
		if err != nil {
			return false, err
		}
		es := res.GetRecord().GetEntries()
		return len(es) > 0 && es[len(es)-1].GetEventType() == SealedType, nil
	})
}

// transient are the codes a restarting or busy suite answers with
// (INTERNAL: a call cut off when the service was killed mid-write).
var transient = []codes.Code{codes.Unavailable, codes.Aborted, codes.DeadlineExceeded, codes.Internal}

func isTransient(err error, extra ...codes.Code) bool {
	c := status.Code(err)
	for _, t := range append(transient, extra...) {
		if c == t {
			return true
		}
	}
	return false
}

// alreadyDone says a step was refused because it had been done already
// (a retry after a lost answer, or a resumed flow).
func alreadyDone(err error) bool {
	c := status.Code(err)
	return c == codes.FailedPrecondition || c == codes.AlreadyExists
}

// retry calls f until it succeeds, fails for good, or ctx ends.
func retry(ctx context.Context, f func() error, alsoRetry ...codes.Code) error {
	for {
		err := f()
		if err == nil || !isTransient(err, alsoRetry...) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(PollInterval):
		}
	}
}

// poll calls f until it reports true, fails for good, or ctx ends.
func poll(ctx context.Context, f func() (bool, error)) error {
	for {
		ok, err := f()
		if ok {
			return nil
		}
		if err != nil && !isTransient(err, codes.NotFound) {
			return err
		}
		select {
		case <-ctx.Done():
			if err == nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(PollInterval):
		}
	}
}
