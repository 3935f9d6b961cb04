package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
)

// option is one choice of an enum select.
type option struct {
	Value int32
	Label string
}

// options lists an enum's values, except UNSPECIFIED, for a select.
func options(d protoreflect.EnumDescriptor) []option {
	var out []option
	vs := d.Values()
	for i := range vs.Len() {
		v := vs.Get(i)
		if v.Number() == 0 {
			continue
		}
		out = append(out, option{Value: int32(v.Number()), Label: enumName(dynEnum{d, v.Number()})})
	}
	return out
}

// dynEnum lets enumName read any enum value from its descriptor.
type dynEnum struct {
	d protoreflect.EnumDescriptor
	n protoreflect.EnumNumber
}

func (e dynEnum) Descriptor() protoreflect.EnumDescriptor { return e.d }
func (e dynEnum) Type() protoreflect.EnumType             { return nil }
func (e dynEnum) Number() protoreflect.EnumNumber         { return e.n }

// enumForm reads an enum value posted by a select; 0 when absent.
func enumForm(r *http.Request, name string) int32 {
	n, _ := strconv.ParseInt(r.PostForm.Get(name), 10, 32)
	return int32(n)
}

func (c *Console) view(ss *session, title, nav string, data any) *view {
	return &view{Title: title, Nav: nav, User: ss.name, CSRF: ss.csrf, Data: data}
}

// queue

type queueData struct {
	Cases         []*assessmentv1.Case
	Statuses      []statusChoice
	Mine          bool
	EmergencyOnly bool
	Claimed       string
}

type statusChoice struct {
	option
	Checked bool
}

func (c *Console) queuePage(w http.ResponseWriter, r *http.Request, ss *session) {
	c.showQueue(w, r, ss, nil, "")
}

func (c *Console) showQueue(w http.ResponseWriter, r *http.Request, ss *session, refused *refusal, claimed string) {
	q := r.URL.Query()
	d := &queueData{Mine: q.Get("mine") == "1", EmergencyOnly: q.Get("emergency") == "1", Claimed: claimed}
	req := &assessmentv1.ListCasesRequest{PageSize: 500}
	picked := q["status"]
	for _, o := range options(assessmentv1.CaseStatus(0).Descriptor()) {
		checked := slices.Contains(picked, strconv.Itoa(int(o.Value)))
		d.Statuses = append(d.Statuses, statusChoice{o, checked})
		if checked {
			req.Statuses = append(req.Statuses, assessmentv1.CaseStatus(o.Value))
		}
	}
	ctx, cancel := c.call(r, ss)
	defer cancel()
	for {
		res, err := c.assessment.ListCases(ctx, req)
		if err != nil {
			c.failed(w, r, ss, "Queue", err)
			return
		}
		d.Cases = append(d.Cases, res.GetCases()...)
		if req.PageToken = res.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	d.Cases = slices.DeleteFunc(d.Cases, func(k *assessmentv1.Case) bool {
		return (d.EmergencyOnly && !k.GetEmergency()) || (d.Mine && !strings.HasSuffix(k.GetAssignee(), "/"+ss.subject))
	})
	// The service orders the queue (emergencies first, then the nearest
	// deadline); a stable sort keeps that promise visible here too.
	slices.SortStableFunc(d.Cases, func(a, b *assessmentv1.Case) int {
		if a.GetEmergency() != b.GetEmergency() {
			if a.GetEmergency() {
				return -1
			}
			return 1
		}
		return a.GetReviewDueTime().AsTime().Compare(b.GetReviewDueTime().AsTime())
	})
	v := c.view(ss, "Review queue", "queue", d)
	v.Refusal = refused
	c.renderPage(w, r, "queue", v)
}

func (c *Console) claim(w http.ResponseWriter, r *http.Request, ss *session) {
	id, ctx, cancel, ok := c.onRequest(w, r, ss)
	if !ok {
		return
	}
	defer cancel()
	if _, err := c.assessment.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id}); err != nil {
		c.showQueue(w, r, ss, describe(err), "")
		return
	}
	if r.PostForm.Get("to") == "case" {
		http.Redirect(w, r, "/cases/"+id+"?done=claim", http.StatusSeeOther) //nolint:gosec // id passed requestID: hex digits and dashes only
		return
	}
	c.showQueue(w, r, ss, nil, id)
}

// case

type caseData struct {
	Case        *assessmentv1.Case
	Request     *intakev1.ReviewRequest
	RequestErr  *refusal
	Revealed    *intakev1.RevealTargetsResponse
	Factors     []factorRow
	Kinds       []option
	Bases       []option
	Counsel     []option
	Pending     bool
	OwnDecision bool
	Contacts    *assessmentv1.GetVerificationContactsResponse
	ContactsErr *refusal
	Outcomes    []option
	// ChallengeOutcomes are the choices of the challenge-outcome form.
	ChallengeOutcomes []option
}

type factorRow struct {
	Value int32
	Name  string
	Text  string
	By    string
}

// doneNotices are the actions whose success the case page confirms (the
// redirect after a POST names one in ?done=).
var doneNotices = map[string]string{
	"claim": "The case is yours.", "factors": "Factors recorded.", "counsel": "Consultation recorded.",
	"challenge": "Challenge consideration recorded.", "decision": "Decision recorded.", "approval": "Decision approved.",
	"rejection": "Decision sent back to review.", "verification": "Verification recorded.",
}

func (c *Console) casePage(w http.ResponseWriter, r *http.Request, ss *session) {
	c.showCase(w, r, ss, nil, nil, "")
}

// showCase renders the case page; refused is the answer to the action just
// tried, shown above the case as it now stands.
func (c *Console) showCase(w http.ResponseWriter, r *http.Request, ss *session, refused *refusal, revealed *intakev1.RevealTargetsResponse, notice string) {
	id, ctx, cancel, ok := c.onRequest(w, r, ss)
	if !ok {
		return
	}
	defer cancel()
	res, err := c.assessment.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
	if err != nil {
		c.failed(w, r, ss, "Case", err)
		return
	}
	d := &caseData{
		Case:     res.GetCase(),
		Revealed: revealed,
		Kinds:    options(assessmentv1.DecisionKind(0).Descriptor()),
		Bases:    options(assessmentv1.LegalBasis(0).Descriptor()),
		Counsel:  options(assessmentv1.CounselKind(0).Descriptor()),
	}
	if rq, err := c.intake.GetRequestForReview(ctx, &intakev1.GetRequestForReviewRequest{RequestId: id}); err != nil {
		d.RequestErr = describe(err)
	} else {
		d.Request = rq.GetRequest()
	}
	// Who is asking (issue 18): the directory's contacts to call back and
	// the verification so far.
	if vc, err := c.verification.GetVerificationContacts(ctx, &assessmentv1.GetVerificationContactsRequest{RequestId: id}); err != nil {
		d.ContactsErr = describe(err)
	} else {
		d.Contacts = vc
	}
	d.Outcomes = options(assessmentv1.VerificationOutcome(0).Descriptor())
	d.ChallengeOutcomes = options(assessmentv1.ChallengeOutcome(0).Descriptor())
	done := map[assessmentv1.Factor]*assessmentv1.FactorAssessment{}
	for _, f := range d.Case.GetReview().GetFactors() {
		done[f.GetFactor()] = f
	}
	for _, o := range options(assessmentv1.Factor(0).Descriptor()) {
		f := done[assessmentv1.Factor(o.Value)]
		d.Factors = append(d.Factors, factorRow{Value: o.Value, Name: o.Label, Text: f.GetAssessment(), By: f.GetReviewer()})
	}
	dec := d.Case.GetDecision()
	d.Pending = dec.GetStatus() == assessmentv1.DecisionStatus_DECISION_STATUS_PENDING_APPROVAL
	d.OwnDecision = strings.HasSuffix(dec.GetDecidedBy(), "/"+ss.subject)
	v := c.view(ss, "Case "+id, "queue", d)
	v.Refusal, v.Notice = refused, notice
	if done := r.URL.Query().Get("done"); refused == nil && notice == "" && doneNotices[done] != "" {
		v.Notice, v.Done = doneNotices[done], done
	}
	c.renderPage(w, r, "case", v)
}

// actFunc runs one action (what) on the request named in the path.
type actFunc func(w http.ResponseWriter, r *http.Request, ss *session, what string, f func(ctx ctxT, id string) error)

// actOn returns the runner of actions on one page (base, e.g. "/cases/"):
// success goes back to the page (a fresh GET, so a reload repeats
// nothing); a refusal is shown on it by show, and a lapsed sign-in on the
// error page. The case, plan and record pages share it.
func (c *Console) actOn(base string, show func(w http.ResponseWriter, r *http.Request, ss *session, refused *refusal)) actFunc {
	return func(w http.ResponseWriter, r *http.Request, ss *session, what string, f func(ctx ctxT, id string) error) {
		id, ctx, cancel, ok := c.onRequest(w, r, ss)
		if !ok {
			return
		}
		defer cancel()
		if err := f(ctx, id); err != nil {
			c.log.Info("action refused", "what", what, "code", status.Code(err).String())
			if status.Code(err) == codes.Unauthenticated {
				c.render(w, r, http.StatusUnauthorized, "error", &view{Title: what, User: ss.name, CSRF: ss.csrf, Refusal: describe(err)})
				return
			}
			show(w, r, ss, describe(err))
			return
		}
		http.Redirect(w, r, base+id+"?done="+what, http.StatusSeeOther) //nolint:gosec // id passed requestID; what is a constant
	}
}

// act runs one action on a case (see actOn).
func (c *Console) act(w http.ResponseWriter, r *http.Request, ss *session, what string, f func(ctx ctxT, id string) error) {
	c.actOn("/cases/", func(w http.ResponseWriter, r *http.Request, ss *session, refused *refusal) {
		c.showCase(w, r, ss, refused, nil, "")
	})(w, r, ss, what, f)
}

func (c *Console) reveal(w http.ResponseWriter, r *http.Request, ss *session) {
	id, ctx, cancel, ok := c.onRequest(w, r, ss)
	if !ok {
		return
	}
	defer cancel()
	// The values are shown in this answer only (no-store, never in a URL);
	// the reveal and its reason are in the record before they are shown.
	res, err := c.intake.RevealTargets(ctx, &intakev1.RevealTargetsRequest{RequestId: id, Reason: r.PostForm.Get("reason")})
	if err != nil {
		c.showCase(w, r, ss, describe(err), nil, "")
		return
	}
	c.showCase(w, r, ss, nil, res, "Targets revealed; the reveal is in the record.")
}

func (c *Console) factors(w http.ResponseWriter, r *http.Request, ss *session) {
	c.act(w, r, ss, "factors", func(ctx ctxT, id string) error {
		req := &assessmentv1.RecordFactorsRequest{RequestId: id, RightsAssessment: strings.TrimSpace(r.PostForm.Get("rights"))}
		for _, o := range options(assessmentv1.Factor(0).Descriptor()) {
			if t := strings.TrimSpace(r.PostForm.Get("factor_" + strconv.Itoa(int(o.Value)))); t != "" {
				req.Factors = append(req.Factors, &assessmentv1.FactorAssessment{Factor: assessmentv1.Factor(o.Value), Assessment: t})
			}
		}
		_, err := c.assessment.RecordFactors(ctx, req)
		return err
	})
}

func (c *Console) counsel(w http.ResponseWriter, r *http.Request, ss *session) {
	c.act(w, r, ss, "counsel", func(ctx ctxT, id string) error {
		_, err := c.assessment.RecordCounselConsultation(ctx, &assessmentv1.RecordCounselConsultationRequest{RequestId: id, Consultation: &assessmentv1.CounselConsultation{
			Kind: assessmentv1.CounselKind(enumForm(r, "kind")), Counsel: r.PostForm.Get("counsel"), Summary: r.PostForm.Get("summary"), ConsultTime: nowPB(c.now()),
		}})
		return err
	})
}

func (c *Console) challenge(w http.ResponseWriter, r *http.Request, ss *session) {
	c.act(w, r, ss, "challenge", func(ctx ctxT, id string) error {
		_, err := c.assessment.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{
			RequestId: id, Considered: true, Reasoning: r.PostForm.Get("reasoning"), Warranted: r.PostForm.Get("warranted") == "on",
		})
		return err
	})
}

func (c *Console) verify(w http.ResponseWriter, r *http.Request, ss *session) {
	c.act(w, r, ss, "verification", func(ctx ctxT, id string) error {
		_, err := c.verification.RecordVerification(ctx, &assessmentv1.RecordVerificationRequest{
			RequestId: id, ChannelId: r.PostForm.Get("channel"), Outcome: assessmentv1.VerificationOutcome(enumForm(r, "outcome")), Note: r.PostForm.Get("note"),
		})
		return err
	})
}

func (c *Console) decide(w http.ResponseWriter, r *http.Request, ss *session) {
	c.act(w, r, ss, "decision", func(ctx ctxT, id string) error {
		req := &assessmentv1.DecideRequest{
			RequestId:  id,
			Kind:       assessmentv1.DecisionKind(enumForm(r, "kind")),
			LegalBasis: assessmentv1.LegalBasis(enumForm(r, "basis")),
			Grounds:    r.PostForm.Get("grounds"),
			Statute:    r.PostForm.Get("statute"),
		}
		if v, err := strconv.ParseUint(r.PostForm.Get("version"), 10, 64); err == nil {
			// Decide on the case as the person saw it, not as it may
			// have changed since.
			req.ExpectedVersion = v
		}
		if req.Kind == assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE {
			req.Scope = &assessmentv1.Scope{All: true}
		}
		_, err := c.assessment.Decide(ctx, req)
		return err
	})
}

func (c *Console) approve(w http.ResponseWriter, r *http.Request, ss *session) {
	c.act(w, r, ss, "approval", func(ctx ctxT, id string) error {
		_, err := c.assessment.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: r.PostForm.Get("decision")})
		return err
	})
}

func (c *Console) rejectDecision(w http.ResponseWriter, r *http.Request, ss *session) {
	c.act(w, r, ss, "rejection", func(ctx ctxT, id string) error {
		_, err := c.assessment.RejectDecision(ctx, &assessmentv1.RejectDecisionRequest{RequestId: id, DecisionId: r.PostForm.Get("decision"), Reason: r.PostForm.Get("reason")})
		return err
	})
}

// plan

type planData struct {
	Plan    *notificationv1.Plan
	Holds   []*notificationv1.Hold
	Pending []pendingLift
	// The choices of the plan's forms.
	Steps, ConsultOutcomes, RedirectOutcomes, Means []option
}

type pendingLift struct {
	ID, Clause, What, RecordedBy string
	Own                          bool
}

func (c *Console) planPage(w http.ResponseWriter, r *http.Request, ss *session) {
	c.showPlan(w, r, ss, nil, "")
}

func (c *Console) showPlan(w http.ResponseWriter, r *http.Request, ss *session, refused *refusal, notice string) {
	id, ctx, cancel, ok := c.onRequest(w, r, ss)
	if !ok {
		return
	}
	defer cancel()
	res, err := c.notification.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
	if err != nil {
		c.failed(w, r, ss, "Plan", err)
		return
	}
	d := &planData{
		Plan:             res.GetPlan(),
		Steps:            options(notificationv1.StepKind(0).Descriptor()),
		ConsultOutcomes:  options(notificationv1.ConsultationOutcome(0).Descriptor()),
		RedirectOutcomes: options(notificationv1.RedirectOutcome(0).Descriptor()),
		Means:            options(notificationv1.DispatchMeans(0).Descriptor()),
	}
	hreq := &notificationv1.ListHoldsRequest{PageSize: 500}
	for {
		hs, err := c.notification.ListHolds(ctx, hreq)
		if err != nil {
			break // the plan still shows its hold time; the age is a convenience
		}
		for _, h := range hs.GetHolds() {
			if h.GetRequestId() == id {
				d.Holds = append(d.Holds, h)
			}
		}
		if hreq.PageToken = hs.GetNextPageToken(); hreq.PageToken == "" {
			break
		}
	}
	for _, l := range d.Plan.GetLifts() {
		if l.GetConfirmedBy() == "" {
			d.Pending = append(d.Pending, pendingLift{ID: l.GetId(), Clause: l.GetClause(), What: l.GetWhat(), RecordedBy: l.GetRecordedBy(), Own: strings.HasSuffix(l.GetRecordedBy(), "/"+ss.subject)})
		}
	}
	v := c.view(ss, "Plan "+id, "queue", d)
	v.Refusal, v.Notice = refused, notice
	if done := r.URL.Query().Get("done"); refused == nil && notice == "" && planNotices[done] != "" {
		v.Notice, v.Done = planNotices[done], done
	}
	c.renderPage(w, r, "plan", v)
}

func (c *Console) confirmLift(w http.ResponseWriter, r *http.Request, ss *session) {
	id, ctx, cancel, ok := c.onRequest(w, r, ss)
	if !ok {
		return
	}
	defer cancel()
	if _, err := c.notification.ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: r.PostForm.Get("lift")}); err != nil {
		c.showPlan(w, r, ss, describe(err), "")
		return
	}
	http.Redirect(w, r, "/plans/"+id+"?done=confirm", http.StatusSeeOther) //nolint:gosec // id passed requestID: hex digits and dashes only
}
