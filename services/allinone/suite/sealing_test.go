package suite_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

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
// targets and attachments, an emergency's harm, an amendment, the
// reviewers' factor assessments, rights assessment, counsel consultation,
// challenge reasoning and imminent-risk justification, a rejected and an approved decision's grounds,
// the rejection's reason, a redirect's support, the 4.2.2 waiver efforts,
// a DPA's answer, an exemption's basis, a withdrawal's reason), driven
// through the API over three requests. Not one canary is in any byte
// JetStream wrote to disk (stream, dead letters, buckets), while a
// control value stored in clear is; the member and the staff read every
// value back through the API, or, where no API shows it, the service
// entitled to it opens it. The marked fields come from the descriptors:
// one that no canary reached fails the test unless notDrivenThroughTheAPI
// says why.
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
	// A document location: a URI, so its canary goes in the path.
	req.Attachments = append(req.Attachments, &intakev1.Attachment{
		Uri:    "https://docs.example/" + c.next("ddr.intake.v1.Attachment.uri"),
		Sha256: strings.Repeat("ab", 32), MediaType: "application/pdf",
	})
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
	counsel := &assessmentv1.CounselConsultation{
		Kind:    assessmentv1.CounselKind_COUNSEL_KIND_OUTSIDE_COUNSEL,
		Counsel: c.next("ddr.assessment.v1.CounselConsultation.counsel"), Summary: c.next("ddr.assessment.v1.CounselConsultation.summary"),
		ConsultTime: timestamppb.New(time.Now().Add(-time.Hour)),
	}
	must(t, "counsel", func() error {
		_, err := asAlice.RecordCounselConsultation(ctx, &assessmentv1.RecordCounselConsultationRequest{RequestId: id, Consultation: counsel})
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
	decide := func() {
		grounds := c.next("ddr.assessment.v1.DecideRequest.grounds")
		must(t, "decide", func() error {
			res, err := asAlice.Decide(ctx, &assessmentv1.DecideRequest{
				RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
				// The request describes its scope in words too (every marked
				// field is filled): only a disclosure naming its targets is
				// not bulk (6.1).
				LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION, Scope: &assessmentv1.Scope{TargetRefs: refs},
				Grounds: grounds,
			})
			decisionID = res.GetCase().GetDecision().GetDecisionId()
			return err
		})
	}
	// A first decision the approver rejects with a reason, then one
	// approved.
	decide()
	rejection := c.next("ddr.assessment.v1.RejectDecisionRequest.reason")
	must(t, "reject", func() error {
		_, err := asBob.RejectDecision(ctx, &assessmentv1.RejectDecisionRequest{RequestId: id, DecisionId: decisionID, Reason: rejection})
		return err
	})
	decide()
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
	// The lead DPA's packet goes out by a two-person manual dispatch (2.2),
	// and its answer is proposed with the company's summary (the outcome
	// waits for a second person, but the proposal is already the record).
	dispatchLeadPacket(t, ctx, p, id)
	dpaSummary := c.next("ddr.notification.v1.ProposeConsultationOutcomeRequest.summary")
	must(t, "dpa outcome", func() error {
		_, err := no.ProposeConsultationOutcome(ctx, &notificationv1.ProposeConsultationOutcomeRequest{RequestId: id, Authority: sgLead,
			Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_GUIDANCE, Summary: dpaSummary,
			ReplyReference: "DPC-REPLY-1", ReplyTime: timestamppb.Now()})
		return err
	})
	// The customer's authority agrees to go to the customer: the support
	// given is the company's record, sealed.
	support := c.next("ddr.notification.v1.RecordRedirectOutcomeRequest.support")
	must(t, "redirect", func() error {
		_, err := no.RecordRedirectOutcome(ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: id, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_AGREED, Support: support})
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

	// A third: a gag in a country without adequate protection, so the
	// plan holds for the DPA: the 4.2.2 efforts, the DPA's answer and an
	// exemption, each with the company's own text.
	req3 := request(time.Now().Add(-3 * time.Hour))
	req3.Authority.Country = "US"
	// From an authority the directory knows, so it can be called back.
	req3.Authority.Name, req3.Authority.Kind = "Federal Bureau of Investigation", intakev1.AuthorityKind_AUTHORITY_KIND_POLICE
	req3.Gag = &intakev1.Gag{Present: true, Reference: "GAG-7/26"}
	sub3, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "sealed-e2e-3", Request: req3})
	if err != nil {
		t.Fatal(err)
	}
	id3 := sub3.GetRequestId()
	eventually(t, func() error {
		_, err := asAlice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id3})
		return err
	})
	must(t, "claim 3", func() error {
		_, err := asAlice.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id3})
		return err
	})
	// Issue 18: the call back's note names the officer reached (RECORD).
	verifyNote := c.next("ddr.assessment.v1.RecordVerificationRequest.note")
	verify := assessmentv1.NewVerificationServiceClient(p.Dial(t, reviewer))
	must(t, "verify the requester of 3", func() error {
		cs, err := verify.GetVerificationContacts(ctx, &assessmentv1.GetVerificationContactsRequest{RequestId: id3})
		if err != nil {
			return err
		}
		if len(cs.GetContacts()) == 0 {
			return fmt.Errorf("no directory contact for %s", cs.GetAuthorityId())
		}
		_, err = verify.RecordVerification(ctx, &assessmentv1.RecordVerificationRequest{RequestId: id3, ChannelId: cs.GetContacts()[0].GetChannelId(),
			Outcome: assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_CONFIRMED, Note: verifyNote})
		return err
	})
	must(t, "factors 3", func() error {
		_, err := asAlice.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: id3, Factors: factorsOf("reviewed"), RightsAssessment: "weighed"})
		return err
	})
	must(t, "challenge 3", func() error {
		_, err := asAlice.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id3, Considered: true, Reasoning: "valid order"})
		return err
	})
	var decision3 string
	must(t, "decide 3", func() error {
		res, err := asAlice.Decide(ctx, &assessmentv1.DecideRequest{
			RequestId: id3, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
			LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION, Scope: &assessmentv1.Scope{All: true},
		})
		decision3 = res.GetCase().GetDecision().GetDecisionId()
		return err
	})
	must(t, "approve 3", func() error {
		_, err := asBob.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id3, DecisionId: decision3})
		return err
	})
	eventually(t, func() error {
		_, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id3})
		return err
	})
	person, notes := c.next("ddr.notification.v1.RecordWaiverEffortRequest.person"), c.next("ddr.notification.v1.RecordWaiverEffortRequest.notes")
	must(t, "waiver effort", func() error {
		_, err := no.RecordWaiverEffort(ctx, &notificationv1.RecordWaiverEffortRequest{RequestId: id3,
			Kind: notificationv1.WaiverEffortKind_WAIVER_EFFORT_KIND_ASK_TO_HOLD, Outcome: notificationv1.WaiverOutcome_WAIVER_OUTCOME_GRANTED,
			Person: person, EffortTime: timestamppb.Now(), Notes: notes})
		return err
	})
	// The gag prohibits consulting the DPA: one person proposes the hold's
	// exemption with the company's basis, a second (legal) confirms it.
	basis := c.next("ddr.notification.v1.ProposeExemptionRequest.basis")
	defeats := c.next("ddr.notification.v1.ProposeExemptionRequest.why_notice_defeats")
	var exemption string
	eventually(t, func() error {
		res, err := no.ProposeExemption(ctx, &notificationv1.ProposeExemptionRequest{RequestId: id3,
			Step: notificationv1.StepKind_STEP_KIND_HOLD_AND_CONSULT_DPA, Reason: "PROHIBITED", Basis: basis, EvidenceReference: "GAG-7/26", WhyNoticeDefeats: defeats})
		exemption = res.GetLiftId()
		return err
	})
	must(t, "confirm the exemption", func() error {
		_, err := notificationv1.NewNotificationServiceClient(p.Dial(t, sgCarol)).ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: id3, LiftId: exemption})
		return err
	})

	// A second request, an emergency, withdrawn with a reason.
	req2 := request(time.Now().Add(-time.Hour))
	req2.Emergency = &intakev1.Emergency{Claimed: true, HarmDescribed: c.next("ddr.intake.v1.Emergency.harm_described")}
	// Several customers (issue 16), in the list form: the first request
	// fills the one-customer form, and a request gives one or the other.
	req2.CustomerId, req2.CustomerEstablishment = "", ""
	req2.Customers = []*intakev1.Customer{
		{CustomerId: c.next("ddr.intake.v1.Customer.customer_id"), Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER},
		{CustomerId: c.next("ddr.intake.v1.Customer.customer_id")},
	}
	sub2, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "sealed-e2e-2", Request: req2})
	if err != nil {
		t.Fatal(err)
	}
	reason := c.next("ddr.intake.v1.WithdrawRequest.reason")
	must(t, "withdraw", func() error {
		_, err := in.Withdraw(ctx, &intakev1.WithdrawRequest{RequestId: sub2.GetRequestId(), Reason: reason})
		return err
	})

	// A reviewer reveals the first request's targets with a reason, which
	// the record keeps sealed (RECORD) and the review shows.
	revealReason := c.next("ddr.intake.v1.RevealTargetsRequest.reason")
	staffIntake := intakev1.NewIntakeServiceClient(p.Dial(t, reviewer))
	must(t, "reveal", func() error {
		_, err := staffIntake.RevealTargets(ctx, &intakev1.RevealTargetsRequest{RequestId: id, Reason: revealReason})
		return err
	})
	// Issue 16, assessment: the first case is linked to the third as the
	// same demand; a correction that weakens a step (an imminent-risk
	// claim added) is proposed and confirmed by a second person, which
	// sends the case back to review, where the member is asked a question.
	linkReason := c.next("ddr.assessment.v1.LinkCaseRequest.reason")
	must(t, "link", func() error {
		_, err := asAlice.LinkCase(ctx, &assessmentv1.LinkCaseRequest{RequestId: id, LinkedRequestId: id3, Reason: linkReason})
		return err
	})
	correctionReason := c.next("ddr.assessment.v1.ProposeFactCorrectionRequest.reason")
	var correction string
	must(t, "correct", func() error {
		claimed := true
		res, err := asAlice.ProposeFactCorrection(ctx, &assessmentv1.ProposeFactCorrectionRequest{RequestId: id, Reason: correctionReason,
			Correction: &assessmentv1.FactCorrection{ImminentRiskClaimed: &claimed}})
		correction = res.GetCorrectionId()
		return err
	})
	must(t, "confirm the correction", func() error {
		_, err := asBob.ConfirmFactCorrection(ctx, &assessmentv1.ConfirmFactCorrectionRequest{RequestId: id, CorrectionId: correction})
		return err
	})
	question := c.next("ddr.assessment.v1.RequestInformationRequest.question")
	must(t, "ask", func() error {
		_, err := asAlice.RequestInformation(ctx, &assessmentv1.RequestInformationRequest{RequestId: id, Question: question})
		return err
	})

	// Read back through the API: the member its request, amendment and
	// withdrawal; the reviewer the case and the whole request.
	var seen strings.Builder
	review, err := staffIntake.GetRequestForReview(ctx, &intakev1.GetRequestForReviewRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	seen.WriteString(text(review))
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
	// A rejected decision's grounds and reason are in the record the
	// case's API does not show: assessment, entitled to them, opens them.
	seen.WriteString(openedAs(t, p, "assessment", id))
	plan, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	seen.WriteString(text(plan))
	plan3, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id3})
	if err != nil {
		t.Fatal(err)
	}
	seen.WriteString(text(plan3))
	seen.WriteString(openedAs(t, p, "notification", id3))
	seen.WriteString(openedAs(t, p, "assessment", id3))
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
	var stored []proto.Message
	for _, rid := range []string{id, sub2.GetRequestId(), id3} {
		stored = append(stored, openedEventsAs(t, p, "intake", rid)...)
	}
	driven := checkMarkedCoverage(t, c, stored, seen.String())
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
	t.Logf("%d canaries over %d API fields, in %d marked event fields, none stored in clear", len(c.all), len(fieldsOf(c)), driven)
}

// notDrivenThroughTheAPI are the marked event fields this test does not
// fill through the API, each with the reason. Every marked field, these
// included, is sealed at the store level by services/platform/seal's
// TestMarkedFieldsNeverReachTheStreamInClear (a canary in every marked
// field of every event type, found from the descriptors), and on a
// 3-node cluster by its TestErasureHoldsOnEveryReplicaOfAThreeNodeCluster.
var notDrivenThroughTheAPI = map[protoreflect.FullName]string{
	"ddr.intake.v1.RequestReceived.content_fingerprint": "intake computes it (a keyed digest of the request's content); " +
		"no caller text reaches it",
	"ddr.intake.v1.TargetsErased.reason": "erasing destroys the SUBJECT key the canaries read back here need; " +
		"TestErasureHolds_SubjectGoneRecordReadableChainVerifies erases through the API",
	"ddr.notification.v1.Delivery.recipient":      "notification takes it from its delivery channel's configuration, not from an API caller",
	"ddr.notification.v1.Delivery.receipt":        "the receiving end's answer to a delivery, not an API caller's text",
	"ddr.notification.v1.Delivery.failure_reason": "the delivery channel's error, not an API caller's text",
	"ddr.notification.v1.PlanInputs.imminent_risk_basis": "notification composes it from the decision's id and legal basis; " +
		"no API caller's text reaches it",
}

// markedEventFields are the marked fields reachable from the event types
// of proto/ddr/*/v1/*events.proto, found from the descriptors.
func markedEventFields() map[protoreflect.FullName]bool {
	out := map[protoreflect.FullName]bool{}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if p := fd.Path(); strings.HasPrefix(p, "ddr/") && strings.HasSuffix(p, "events.proto") {
			for i := range fd.Messages().Len() {
				for _, f := range seal.MarkedFields(fd.Messages().Get(i)) {
					out[f.FullName()] = true
				}
			}
		}
		return true
	})
	return out
}

// canaryFields are the marked fields of the stored (opened) events that
// hold one of c's canaries.
func canaryFields(c *canaries, msgs []proto.Message) map[protoreflect.FullName]bool {
	out := map[protoreflect.FullName]bool{}
	holds := func(v protoreflect.Value) bool {
		s := v.String()
		if b, ok := v.Interface().([]byte); ok {
			s = string(b)
		}
		return strings.Contains(s, "cnry"+c.run)
	}
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsMap():
			case seal.KindOf(fd) != 0 && fd.IsList():
				for i := range v.List().Len() {
					if holds(v.List().Get(i)) {
						out[fd.FullName()] = true
					}
				}
			case seal.KindOf(fd) != 0:
				if holds(v) {
					out[fd.FullName()] = true
				}
			case fd.Message() != nil && fd.IsList():
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			case fd.Message() != nil:
				walk(v.Message())
			}
			return true
		})
	}
	for _, m := range msgs {
		walk(m.ProtoReflect())
	}
	return out
}

// checkMarkedCoverage fails the test for every marked event field that
// holds no canary in the stored events (nor was read back) and is not listed in
// notDrivenThroughTheAPI, and for every stale entry of that list. It
// returns how many marked fields the API drove.
func checkMarkedCoverage(t *testing.T, c *canaries, stored []proto.Message, readBack string) int {
	t.Helper()
	marked := markedEventFields()
	if len(marked) == 0 {
		t.Fatal("no marked event field found in the descriptors; the coverage check proves nothing")
	}
	driven := canaryFields(c, stored)
	// A field the API caller fills in an event's own message (the
	// request's, in RequestReceived) counts when its canary was read back
	// through the API, opened by the service entitled to it: intake seals
	// target values on its own (sealed_value), which the generic opener
	// leaves sealed.
	for v, f := range c.used {
		if marked[protoreflect.FullName(f)] && strings.Contains(readBack, v) {
			driven[protoreflect.FullName(f)] = true
		}
	}
	var missing []string
	for f := range marked {
		if !driven[f] && notDrivenThroughTheAPI[f] == "" {
			missing = append(missing, string(f))
		}
	}
	slices.Sort(missing)
	for _, f := range missing {
		t.Errorf("marked field %s is not driven through the API by this test: fill it through the API here, or list it in notDrivenThroughTheAPI with the reason (the seal-level test covers every marked field meanwhile)", f)
	}
	for f, why := range notDrivenThroughTheAPI {
		switch {
		case !marked[f]:
			t.Errorf("notDrivenThroughTheAPI lists %s (%s), which is no marked event field: remove the entry", f, why)
		case driven[f]:
			t.Errorf("notDrivenThroughTheAPI lists %s (%s), but the test drives it: remove the entry", f, why)
		}
	}
	return len(driven)
}

// factorsOf assesses every factor with text.
func factorsOf(text string) []*assessmentv1.FactorAssessment {
	var out []*assessmentv1.FactorAssessment
	for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
		out = append(out, &assessmentv1.FactorAssessment{Factor: f, Assessment: text})
	}
	return out
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
	var b strings.Builder
	for _, m := range openedEventsAs(t, p, svc, id) {
		b.WriteString(text(m))
	}
	return b.String()
}

// keyringAs is the data-key keyring of service svc in the running process
// p (its NATS user, the process's KEK), with the JetStream it reads by.
func keyringAs(t *testing.T, p *runnertest.Proc, svc string) (jetstream.JetStream, *keys.Keyring) {
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
	return js, kr
}

// storeAs is the event store as service svc reads and writes it in p,
// sealing and opening personal data with svc's keys.
func storeAs(t *testing.T, p *runnertest.Proc, svc string) *eventstore.Store {
	t.Helper()
	js, kr := keyringAs(t, p, svc)
	return eventstore.NewStore(js, eventstore.WithSealer(seal.New(kr)))
}

// openedEventsAs is [openedAs] with the opened payloads.
func openedEventsAs(t *testing.T, p *runnertest.Proc, svc, id string) []proto.Message {
	t.Helper()
	h, err := storeAs(t, p, svc).Load(context.Background(), id)
	if err != nil {
		if svc == "reporting" && strings.Contains(err.Error(), "bucket "+keys.Bucket) {
			return nil // its NATS user may not read the data keys
		}
		t.Fatalf("load as %s: %v", svc, err)
	}
	out := make([]proto.Message, 0, len(h.Events))
	for _, ev := range h.Events {
		out = append(out, ev.Payload)
	}
	return out
}
