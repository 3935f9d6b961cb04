package suite_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/platform/seal"
)

// canaries hands out distinct values that occur nowhere else.
type canaries struct {
	run  string
	all  []string
	used map[string]string // canary -> field
}

func newCanaries() *canaries {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &canaries{run: hex.EncodeToString(b), used: map[string]string{}}
}

func (c *canaries) next(field string) string {
	v := fmt.Sprintf("cnry%s%02d", c.run, len(c.all))
	c.all = append(c.all, v)
	c.used[v] = field
	return v
}

// fillMarked puts a canary in every marked string field of m and of the
// messages m already holds (its targets, say): the fields an API caller
// can fill in a valid request. It returns the marked fields it could not
// reach that way.
func fillMarked(c *canaries, m protoreflect.Message) {
	fs := m.Descriptor().Fields()
	for i := range fs.Len() {
		fd := fs.Get(i)
		switch {
		case seal.KindOf(fd) != 0 && fd.Kind() == protoreflect.StringKind && !fd.IsList():
			m.Set(fd, protoreflect.ValueOfString(c.next(string(fd.FullName()))))
		case fd.Message() != nil && fd.IsList() && !fd.IsMap():
			l := m.Get(fd).List()
			for j := range l.Len() {
				fillMarked(c, l.Get(j).Message())
			}
		case fd.Message() != nil && !fd.IsMap() && m.Has(fd):
			fillMarked(c, m.Mutable(fd).Message())
		}
	}
}

// The canary test through the real all-in-one: a canary in every marked
// field the API takes in a request's life (the request's own fields, its
// targets, an amendment, the reviewers' factor assessments, rights
// assessment, challenge reasoning and imminent-risk justification, a
// withdrawal's reason), driven
// through submit, amend, assess, decide, approve, the notification plan
// and the record. Not one
// canary is in any byte JetStream wrote to disk (stream, dead letters,
// buckets), while a control value stored in clear is; and the member and
// the staff read every value back through the API, opened by the
// services entitled to them.
func TestPersonalDataIsSealedEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	p := startSuite(t, runnertest.Options{DataDir: dataDir})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCanaries()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	asAlice := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	asBob := assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver))
	no := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))
	re := reportingv1.NewReportingServiceClient(p.Dial(t, reviewer))

	req := request(time.Now().Add(-2 * time.Hour))
	req.Authority.Name = control
	fillMarked(c, req.ProtoReflect())
	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "sealed-e2e-1", Request: req})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	id := sub.GetRequestId()
	amendment := c.next("ddr.intake.v1.AmendRequest.information")
	must(t, "amend", func() error {
		_, err := in.Amend(ctx, &intakev1.AmendRequest{RequestId: id, Information: amendment})
		return err
	})
	eventually(t, func() error {
		_, err := asAlice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		return err
	})
	must(t, "claim", func() error {
		_, err := asAlice.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id})
		return err
	})
	var factors []*assessmentv1.FactorAssessment
	for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
		factors = append(factors, &assessmentv1.FactorAssessment{Factor: f, Assessment: c.next("ddr.assessment.v1.FactorAssessment.assessment")})
	}
	rights := c.next("ddr.assessment.v1.RecordFactorsRequest.rights_assessment")
	must(t, "factors", func() error {
		_, err := asAlice.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: factors, RightsAssessment: rights})
		return err
	})
	reasoning := c.next("ddr.assessment.v1.RecordChallengeConsiderationRequest.reasoning")
	must(t, "challenge", func() error {
		_, err := asAlice.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Reasoning: reasoning})
		return err
	})
	justification := c.next("ddr.assessment.v1.JustifyImminentRiskRequest.justification")
	var refs []string
	must(t, "justify", func() error {
		res, err := asAlice.JustifyImminentRisk(ctx, &assessmentv1.JustifyImminentRiskRequest{RequestId: id, Justification: justification})
		refs = res.GetCase().GetFacts().GetTargetRefs()
		return err
	})
	var decisionID string
	must(t, "decide", func() error {
		// The request describes its scope in words too (every marked field
		// is filled): only a disclosure naming its targets is not bulk (6.1).
		res, err := asAlice.Decide(ctx, &assessmentv1.DecideRequest{
			RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
			LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION, Scope: &assessmentv1.Scope{TargetRefs: refs},
		})
		decisionID = res.GetCase().GetDecision().GetDecisionId()
		return err
	})
	must(t, "approve", func() error {
		_, err := asBob.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: decisionID})
		return err
	})
	// Notification derives its plan from the opened request (a customer id
	// is set, so the plan waits on the customer's notice), and reporting
	// records the sealed events as they are.
	eventually(t, func() error {
		_, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
		return err
	})
	eventually(t, func() error {
		res, err := re.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
		if err != nil {
			return err
		}
		if n := len(res.GetRecord().GetEntries()); n < 5 {
			return fmt.Errorf("record has %d entries", n)
		}
		return nil
	})

	// A second request, withdrawn with a reason.
	sub2, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "sealed-e2e-2", Request: request(time.Now().Add(-time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	reason := c.next("ddr.intake.v1.WithdrawRequest.reason")
	must(t, "withdraw", func() error {
		_, err := in.Withdraw(ctx, &intakev1.WithdrawRequest{RequestId: sub2.GetRequestId(), Reason: reason})
		return err
	})

	// Read back through the API: the member its request, amendment and
	// withdrawal; the reviewer the case.
	var seen strings.Builder
	for _, rid := range []string{id, sub2.GetRequestId()} {
		got, err := in.Get(ctx, &intakev1.GetRequest{RequestId: rid})
		if err != nil {
			t.Fatal(err)
		}
		seen.WriteString(text(got))
	}
	cs, err := asAlice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	seen.WriteString(text(cs))
	// No API shows a withdrawal's reason: intake, entitled to it, opens it
	// from its stored event; reporting, not entitled, cannot read the key.
	seen.WriteString(openedAs(t, p, "intake", sub2.GetRequestId()))
	if got := openedAs(t, p, "reporting", sub2.GetRequestId()); strings.Contains(got, reason) {
		t.Error("reporting opened the withdrawal reason; it is not entitled to it")
	}
	for _, v := range c.all {
		if !strings.Contains(seen.String(), v) {
			t.Errorf("%s is not read back", c.used[v])
		}
	}
	p.Stop(t)

	store := filepath.Join(dataDir, "jetstream")
	if len(rawFilesContaining(t, store, control)) == 0 {
		t.Fatal("the control string is in no stored file; the raw scan proves nothing")
	}
	for _, v := range c.all {
		if files := rawFilesContaining(t, store, v); len(files) > 0 {
			t.Errorf("%s is stored in clear in %v", c.used[v], files)
		}
	}
	t.Logf("%d canaries over %d marked fields, none stored in clear", len(c.all), len(fieldsOf(c)))
}

func text(m proto.Message) string { return protojson.Format(m) }

func fieldsOf(c *canaries) map[string]bool {
	out := map[string]bool{}
	for _, f := range c.used {
		out[f] = true
	}
	return out
}

// openedAs loads the request's events as service svc (its NATS user and
// keys) through a store that opens what it may, and returns their text.
func openedAs(t *testing.T, p *runnertest.Proc, svc, id string) string {
	t.Helper()
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/"+svc))
	if err != nil {
		t.Fatal(err)
	}
	kek, err := keys.LoadKEKFile(filepath.Join(string(p.PKI), runner.KEKFileName))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keys.Lazy(js, kek)
	if err != nil {
		t.Fatal(err)
	}
	h, err := eventstore.NewStore(js, eventstore.WithSealer(seal.New(kr))).Load(context.Background(), id)
	if err != nil {
		if svc == "reporting" && strings.Contains(err.Error(), "bucket "+keys.Bucket) {
			return "" // its NATS user may not read the data keys
		}
		t.Fatalf("load as %s: %v", svc, err)
	}
	var b strings.Builder
	for _, ev := range h.Events {
		b.WriteString(text(ev.Payload))
	}
	return b.String()
}
