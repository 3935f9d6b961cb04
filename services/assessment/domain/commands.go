package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Rule codes of the policy refusals this package returns.
const (
	RuleDiscloseWithoutBasis    = "DISCLOSE_WITHOUT_BASIS"
	RuleImminentRiskNotWeighed  = "IMMINENT_RISK_NOT_WEIGHED"
	RuleFactorsNotRecorded      = "FACTORS_NOT_RECORDED"
	RuleChallengeNotConsidered  = "CHALLENGE_NOT_CONSIDERED"
	RuleBulkDisclosure          = "BULK_DISCLOSURE"
	RuleOverlayRequirement      = "OVERLAY_REQUIREMENT_UNMET"
	RuleRedirectWithoutCustomer = "REDIRECT_WITHOUT_CUSTOMER"
	// Issue 15.
	RuleImminentRiskNotJustified = "IMMINENT_RISK_NOT_JUSTIFIED"
	RuleStatuteNotCited          = "STATUTE_NOT_CITED"
	RuleLegalApproverRequired    = "LEGAL_APPROVER_REQUIRED"
	RuleChallengeUnresolved      = "CHALLENGE_UNRESOLVED"
	RuleChallengeUpheld          = "CHALLENGE_UPHELD_NEEDS_NARROWER"
	RuleChallengeStillWarranted  = "CHALLENGE_WARRANTED_NEEDS_OUTCOME"
	RuleNoWarrantedChallenge     = "NO_WARRANTED_CHALLENGE"
	RuleChallengeOutcomePending  = "CHALLENGE_OUTCOME_ALREADY_RECORDED"
)

// TransitionError refuses a command the case's status does not allow. It
// matches ddrerr.ErrFailedPrecondition. Two decisions racing on one case
// end here: the loser reloads and finds the case no longer open to it.
type TransitionError struct {
	Status Status
	Action string
}

func (e *TransitionError) Error() string {
	if e.Status == "" {
		return "no case is open: cannot " + e.Action
	}
	return fmt.Sprintf("case is %s: cannot %s", e.Status, e.Action)
}

// Unwrap lets errors.Is match ddrerr.ErrFailedPrecondition.
func (e *TransitionError) Unwrap() error { return ddrerr.ErrFailedPrecondition }

func (c *Case) allow(action string, in ...Status) error {
	if slices.Contains(in, c.status) {
		return nil
	}
	return &TransitionError{Status: c.status, Action: action}
}

func meta(by string, now time.Time) Meta { return Meta{By: by, At: now.UTC()} }

func required(field, value string) error {
	if strings.TrimSpace(value) == "" {
		return ddrerr.Invalid(ddrerr.FieldViolation{Field: field, Description: "required"})
	}
	return nil
}

// requiredText adds to v the violation of a free-text field that must say
// something (what, e.g. "why it is the same demand") and is capped at most
// characters: every event that carries the text keeps it for good.
func requiredText(v *ddrerr.Collector, field, text, what string, most int) {
	switch {
	case strings.TrimSpace(text) == "":
		v.Add(field, "required: "+what)
	case utf8.RuneCountInString(text) > most:
		v.Add(field, fmt.Sprintf("at most %d characters", most))
	}
}

// Open opens the case for a received request. It is idempotent: on a case
// already opened for the same request it returns no events, so a
// redelivered RequestReceived opens nothing twice.
func (c *Case) Open(f RequestFacts, cfg Config, by string, now time.Time) ([]Event, error) {
	if c.Opened() {
		if c.requestID == f.RequestID {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: case already opened for another request", ddrerr.ErrConflict)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("assessment configuration: %w", err)
	}
	r := cfg.RulesFor(f)
	return []Event{CaseOpened{
		Meta:      meta(by, now),
		RequestID: f.RequestID,
		Facts:     f,
		Flags:     computeFlags(f, r),
		Rules:     r,
		ReviewDue: ReviewDue(now, f.Urgent(), r),
	}}, nil
}

// Assign gives the case to assignee.
func (c *Case) Assign(assignee, by string, now time.Time) ([]Event, error) {
	if err := c.allow("assign", StatusOpen, StatusInReview, StatusDecisionPendingApproval); err != nil {
		return nil, err
	}
	if err := required("assignee", assignee); err != nil {
		return nil, err
	}
	if err := required("actor", by); err != nil {
		return nil, err
	}
	if c.assignee == assignee {
		return nil, nil
	}
	return []Event{Assigned{Meta: meta(by, now), Assignee: assignee}}, nil
}

// Claim assigns the case to by. Only an unassigned case can be claimed;
// taking one from a colleague is an explicit Assign.
func (c *Case) Claim(by string, now time.Time) ([]Event, error) {
	if err := c.allow("claim", StatusOpen, StatusInReview, StatusDecisionPendingApproval); err != nil {
		return nil, err
	}
	if err := required("actor", by); err != nil {
		return nil, err
	}
	switch c.assignee {
	case by:
		return nil, nil
	case "":
		return []Event{Assigned{Meta: meta(by, now), Assignee: by}}, nil
	default:
		return nil, fmt.Errorf("%w: case is already assigned to someone else", ddrerr.ErrFailedPrecondition)
	}
}

// The review can change only while no decision is pending, so approvers
// approve exactly the record the proposer saw.
var reviewable = []Status{StatusOpen, StatusInReview}

// RecordFactor records the reviewer's assessment of one factor (3.3).
func (c *Case) RecordFactor(f Factor, assessment, by string, now time.Time) ([]Event, error) {
	if err := c.allow("record a factor", reviewable...); err != nil {
		return nil, err
	}
	var v ddrerr.Collector
	if !f.Valid() {
		v.Add("factor", "must be one of the six factors of 3.3")
	}
	if strings.TrimSpace(assessment) == "" {
		v.Add("assessment", "required")
	}
	if strings.TrimSpace(by) == "" {
		v.Add("actor", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{FactorRecorded{Meta: meta(by, now), Factor: f, Assessment: assessment}}, nil
}

// WeighRights records how the affected people's rights were weighed (2.1).
func (c *Case) WeighRights(text, by string, now time.Time) ([]Event, error) {
	return c.recordText(false, text, by, now)
}

// recordText records a reviewer's written judgement under review: the
// rights weighing, or (justification) an imminent-risk justification.
func (c *Case) recordText(justification bool, text, by string, now time.Time) ([]Event, error) {
	action := "weigh rights"
	if justification {
		action = "justify an imminent risk"
	}
	if err := c.allow(action, reviewable...); err != nil {
		return nil, err
	}
	if err := required("text", text); err != nil {
		return nil, err
	}
	if err := required("actor", by); err != nil {
		return nil, err
	}
	if justification {
		return []Event{ImminentRiskJustified{Meta: meta(by, now), Text: text}}, nil
	}
	return []Event{RightsWeighed{Meta: meta(by, now), Text: text}}, nil
}

// RecordCounsel records a consultation of counsel (3.3).
func (c *Case) RecordCounsel(kind CounselKind, consultedAt time.Time, summary, by string, now time.Time) ([]Event, error) {
	return c.RecordCounselNamed(kind, "", consultedAt, summary, by, now)
}

// RecordCounselNamed is [Case.RecordCounsel] naming who was consulted.
func (c *Case) RecordCounselNamed(kind CounselKind, counsel string, consultedAt time.Time, summary, by string, now time.Time) ([]Event, error) {
	if err := c.allow("record counsel", reviewable...); err != nil {
		return nil, err
	}
	var v ddrerr.Collector
	if !kind.Valid() {
		v.Add("kind", "must be internal_legal or outside_counsel")
	}
	if consultedAt.IsZero() {
		v.Add("consulted_at", "required")
	} else if consultedAt.After(now) {
		v.Add("consulted_at", "must not be in the future")
	}
	if strings.TrimSpace(summary) == "" {
		v.Add("summary", "required")
	}
	if strings.TrimSpace(by) == "" {
		v.Add("actor", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{CounselConsulted{Meta: meta(by, now), Kind: kind, Counsel: counsel, ConsultedAt: consultedAt.UTC(), Summary: summary}}, nil
}

// ConsiderChallenge records whether a challenge is warranted and why (3.3).
func (c *Case) ConsiderChallenge(warranted bool, reasoning, by string, now time.Time) ([]Event, error) {
	if err := c.allow("consider a challenge", reviewable...); err != nil {
		return nil, err
	}
	if err := required("reasoning", reasoning); err != nil {
		return nil, err
	}
	if err := required("actor", by); err != nil {
		return nil, err
	}
	// Un-warranting a warranted challenge would lift the safeguard alone:
	// it is settled by its outcome, which takes two people.
	if ch := c.review.Challenge; ch != nil && ch.Warranted && !warranted {
		return nil, ddrerr.Policy(policy.Clause3_3, RuleChallengeStillWarranted,
			"a challenge judged warranted is settled by its recorded outcome (two people), not by reconsidering it")
	}
	return []Event{ChallengeConsidered{Meta: meta(by, now), Warranted: warranted, Reasoning: reasoning}}, nil
}

// JustifyImminentRisk records a reviewer's justification of an imminent
// risk of serious harm the authority did not claim (2.1). A disclosure on
// that basis without the authority's claim needs it, and a legal approver.
func (c *Case) JustifyImminentRisk(text, by string, now time.Time) ([]Event, error) {
	return c.recordText(true, text, by, now)
}

// challengeOpen are the statuses in which a challenge's outcome may be
// recorded: under review, or after a challenge decision took effect;
// never once the targets were erased, since a confirmed outcome sends the
// case back to review (even after the request ended as challenged).
func (c *Case) challengeOpen(action string) error {
	if err := c.errErased(action); err != nil {
		return err
	}
	if c.status == StatusDecided && c.decided != nil && c.decided.Decision.Kind == policy.DecisionChallenge {
		return nil
	}
	return c.allow(action, reviewable...)
}

// ProposeChallengeOutcome records, for one person, the outcome of a
// challenge judged warranted, with its basis and evidence (the court's or
// authority's reference). It counts only once a second person with the
// legal role confirms ([Case.ConfirmChallengeOutcome]).
func (c *Case) ProposeChallengeOutcome(o ChallengeOutcome, basis, evidence, by string, now time.Time) ([]Event, error) {
	if err := c.challengeOpen("record a challenge outcome"); err != nil {
		return nil, err
	}
	var v ddrerr.Collector
	if o != ChallengeUpheld && o != ChallengeDismissed {
		v.Add("outcome", "must be upheld or dismissed")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	ch := c.review.Challenge
	if ch == nil || !ch.Warranted {
		return nil, ddrerr.Policy(policy.Clause3_3, RuleNoWarrantedChallenge, "no challenge was judged warranted")
	}
	l := policy.Lift{ID: "challenge-outcome", Clause: policy.Clause3_3, What: "the challenge outcome",
		Basis: string(o) + ": " + basis, Evidence: evidence, RecordedBy: by, RecordedAt: now.UTC(),
		ConfirmRoles: []policy.Role{policy.RoleLegal}}
	if strings.TrimSpace(basis) == "" || len(l.Missing()) > 0 {
		var v ddrerr.Collector
		if strings.TrimSpace(basis) == "" {
			v.Add("basis", "required")
		}
		for _, m := range l.Missing() {
			if m != "basis" {
				v.Add(m, "required")
			}
		}
		return nil, v.Err()
	}
	if ch.Outcome != "" {
		if !ch.OutcomeLift.Confirmed() && ch.Outcome == o && ch.OutcomeLift.Basis == l.Basis && ch.OutcomeLift.Evidence == evidence && ch.OutcomeLift.RecordedBy == by {
			return nil, nil
		}
		return nil, ddrerr.Policy(policy.Clause3_3, RuleChallengeOutcomePending, "an outcome of this challenge is already recorded")
	}
	return []Event{ChallengeOutcomeProposed{Meta: meta(by, now), Outcome: o, Lift: l}}, nil
}

// ConfirmChallengeOutcome is the second person (legal, not the recorder)
// confirming the challenge's outcome. A confirmed outcome after a challenge
// decision sends the case back to review for a new decision.
func (c *Case) ConfirmChallengeOutcome(by policy.Person, now time.Time) ([]Event, error) {
	if err := c.challengeOpen("confirm a challenge outcome"); err != nil {
		return nil, err
	}
	ch := c.review.Challenge
	if ch == nil || ch.Outcome == "" {
		return nil, ddrerr.Policy(policy.Clause3_3, RuleNoWarrantedChallenge, "no challenge outcome is waiting for confirmation")
	}
	if ch.OutcomeLift.Confirmed() && ch.OutcomeLift.ConfirmedBy == by.ID {
		return nil, nil
	}
	if r := ch.OutcomeLift.CheckConfirm(by); r != nil {
		return nil, ddrerr.Refused(r)
	}
	m := meta(by.ID, now)
	evs := []Event{ChallengeOutcomeConfirmed{Meta: m, Roles: by.Roles}}
	// After a challenge decision the confirmed outcome sends the case back
	// to review (CHALLENGE_OUTCOME), the decision id naming the cause.
	if c.decided != nil && c.decided.Decision.Kind == policy.DecisionChallenge {
		evs = append(evs, c.reopenAfter(ReopenChallengeOutcome, c.decided.Decision.ID+"/challenge-outcome", by.ID, now)...)
	}
	return evs, nil
}

// renameQuestion reports a missing question of a "request more
// information" decision on the decision's grounds, where the caller gave it.
func renameQuestion(err error) error {
	var ve *ddrerr.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := slices.Clone(ve.Violations)
	for i := range out {
		if out[i].Field == "question" {
			out[i].Field = "decision.grounds"
		}
	}
	return ddrerr.Invalid(out...)
}

// Decide takes decision d. Only the assignee decides. A disclosure returns
// DecisionProposed and takes effect only after [Case.Approve] by other
// people; every other decision returns CaseDecided at once, since it
// discloses nothing.
func (c *Case) Decide(d Decision, by string, now time.Time) ([]Event, error) {
	if err := c.errWithdrawn("decide"); err != nil {
		return nil, err
	}
	if err := c.allow("decide", reviewable...); err != nil {
		return nil, err
	}
	if err := required("actor", by); err != nil {
		return nil, err
	}
	if c.assignee != by {
		return nil, fmt.Errorf("%w: only the reviewer assigned to the case may decide", ddrerr.ErrPermissionDenied)
	}
	if err := c.checkForged(d); err != nil { // issue 18
		return nil, err
	}
	if err := c.check(d); err != nil {
		return nil, err
	}
	if ch := c.review.Challenge; d.Kind == policy.DecisionDisclose && ch != nil && ch.Warranted && ch.OutcomeLift.ConfirmedBy == by {
		return nil, ddrerr.Policy(policy.Clause3_3, policy.RuleLiftBarredConfirmer,
			"the person who confirmed the challenge outcome cannot propose the disclosure it allows")
	}
	m := meta(by, now)
	if d.Kind == policy.DecisionDisclose {
		return []Event{DecisionProposed{Meta: m, Decision: d, PolicyVersion: c.rules.PolicyVersion}}, nil
	}
	// "Request more information" is not a decision that closes the case
	// (issue 16): it asks the member, exactly as RequestInformation does,
	// with the grounds as the question.
	if d.Kind == policy.DecisionRequestMoreInformation {
		evs, err := c.RequestInformation(d.Grounds, by, now)
		return evs, renameQuestion(err)
	}
	return []Event{c.decidedEvent(m, d, by, nil)}, nil
}

func (c *Case) decidedEvent(m Meta, d Decision, decidedBy string, approvers []string) CaseDecided {
	return CaseDecided{
		Meta:          m,
		Decision:      d,
		DecidedBy:     decidedBy,
		ApprovedBy:    approvers,
		PolicyVersion: c.rules.PolicyVersion,
		Notification:  c.requirements(d),
	}
}

func (c *Case) requirements(d Decision) NotificationRequirements {
	n := notificationRequirements(c.facts, c.rules, d)
	if c.review.RiskJustified != nil {
		n.ImminentRiskJustification = c.review.RiskJustified.Text
	}
	return n
}

// check is the policy gate every decision passes, at proposal and again at
// the final approval.
func (c *Case) check(d Decision) error {
	var v ddrerr.Collector
	if !d.Kind.Valid() {
		v.Add("decision.kind", "unknown decision")
	}
	if d.Kind != policy.DecisionDisclose {
		if d.Basis != "" {
			v.Add("decision.basis", "only a disclosure has a legal basis")
		}
		if d.Narrowing != nil {
			v.Add("decision.narrowing", "only a disclosure can be narrowed")
		}
	}
	switch d.Kind {
	case policy.DecisionChallenge, policy.DecisionReject, policy.DecisionRequestMoreInformation:
		if strings.TrimSpace(d.Grounds) == "" {
			v.Add("decision.grounds", "required for this decision")
		}
	case policy.DecisionDisclose:
		for _, p := range validateNarrowing(c.facts, d.Narrowing) {
			field, desc, _ := strings.Cut(p, ": ")
			v.Add("decision."+field, desc)
		}
	}
	if err := v.Err(); err != nil {
		return err
	}

	if d.Kind == policy.DecisionDisclose {
		if err := c.checkDisclosureBasis(d); err != nil {
			return err
		}
	}
	if missing := c.review.Missing(c.rules.RequiredFactors(d.Kind)); len(missing) > 0 {
		return ddrerr.Policy(policy.Clause3_3, RuleFactorsNotRecorded, fmt.Sprintf(
			"a %s decision needs the review of %s first", d.Kind, factorList(missing)))
	}
	switch d.Kind {
	case policy.DecisionRedirectToCustomer:
		if !c.facts.anyController() {
			return ddrerr.Policy(policy.Clause4_1_1, RuleRedirectWithoutCustomer,
				"only a request for data a customer controls can be redirected to the customer")
		}
	case policy.DecisionDisclose:
		return c.checkDisclosure(d)
	}
	return nil
}

// legalProcessNone: the request came with no legal process (3.2).
func (f RequestFacts) legalProcessNone() bool {
	lp := strings.TrimSpace(strings.ToLower(f.LegalProcess))
	return lp == "" || lp == "none"
}

// needsLegalApprover: a disclosure whose basis rests on the company's own
// reading rather than the authority's papers needs legal among its
// approvers (rule 8 of issue 15): imminent risk the authority did not
// claim, or a compelling obligation without legal process.
func (c *Case) needsLegalApprover(d Decision) bool {
	return d.Kind == policy.DecisionDisclose && ((d.Basis == BasisImminentRisk && !c.facts.ImminentRiskClaimed) ||
		(d.Basis == BasisCompellingLegalObligation && c.facts.legalProcessNone()))
}

func (c *Case) checkDisclosureBasis(d Decision) error {
	if !d.Basis.Valid() {
		return ddrerr.Policy(policy.Clause2_1, RuleDiscloseWithoutBasis,
			"a disclosure needs a compelling legal obligation or an imminent risk of serious harm")
	}
	if d.Basis == BasisCompellingLegalObligation && c.facts.legalProcessNone() && strings.TrimSpace(d.Statute) == "" {
		return ddrerr.Policy(policy.Clause2_1, RuleStatuteNotCited,
			"a compelling legal obligation without legal process must cite the statute that creates it, and needs a legal approver")
	}
	if d.Basis != BasisImminentRisk {
		return nil
	}
	missing := c.review.Missing(AllFactors())
	if len(missing) > 0 || c.review.RightsWeighed == nil {
		var gaps []string
		if len(missing) > 0 {
			gaps = append(gaps, "the factors "+factorList(missing))
		}
		if c.review.RightsWeighed == nil {
			gaps = append(gaps, "the affected people's rights and freedoms")
		}
		return ddrerr.Policy(policy.Clause2_1, RuleImminentRiskNotWeighed,
			"a disclosure on imminent risk of serious harm must first weigh "+strings.Join(gaps, " and "))
	}
	if !c.facts.ImminentRiskClaimed && c.review.RiskJustified == nil {
		return ddrerr.Policy(policy.Clause2_1, RuleImminentRiskNotJustified,
			"the authority claimed no imminent risk: a reviewer's justification must be recorded, and a legal approver approve")
	}
	return nil
}

func (c *Case) checkDisclosure(d Decision) error {
	if c.review.Challenge == nil {
		return ddrerr.Policy(policy.Clause3_3, RuleChallengeNotConsidered,
			"whether to challenge the request must be considered before disclosing")
	}
	if ch := c.review.Challenge; ch.Warranted {
		if !ch.Resolved() {
			return ddrerr.Policy(policy.Clause3_3, RuleChallengeUnresolved,
				"a challenge was judged warranted: no disclosure until its outcome is recorded and confirmed by a second person")
		}
		if ch.Outcome == ChallengeUpheld && !strictlyNarrower(c.facts, d.Narrowing) {
			return ddrerr.Policy(policy.Clause3_3, RuleChallengeUpheld,
				"the challenge was upheld: only a reject or a disclosure narrower than the request may follow")
		}
	}
	if c.rules.RightsWeighedForAllDisclosures && c.review.RightsWeighed == nil {
		return ddrerr.Policy(policy.Clause1_2, RuleOverlayRequirement, fmt.Sprintf(
			"the law of %s requires the affected people's rights to be weighed before any disclosure", overlayList(c.rules)))
	}
	for _, k := range c.rules.CounselBeforeDisclosure {
		if !c.review.Consulted(k) {
			return ddrerr.Policy(policy.Clause1_2, RuleOverlayRequirement, fmt.Sprintf(
				"the law of %s requires %s to be consulted before any disclosure", overlayList(c.rules), k))
		}
	}
	if reasons := BulkReasons(DisclosedScope(c.facts, d.Narrowing), c.rules.Bulk); len(reasons) > 0 {
		return ddrerr.Policy(policy.Clause6_1, RuleBulkDisclosure,
			"the disclosure would be a bulk transfer ("+strings.Join(reasons, "; ")+"); narrow it below the thresholds")
	}
	return nil
}

func factorList(fs []Factor) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

func overlayList(r Rules) string {
	if len(r.Overlays) == 0 {
		return "the applicable jurisdiction"
	}
	return strings.Join(r.Overlays, ", ")
}

// Approve approves the pending disclosure (four eyes) as someone whose
// roles are not known: see [Case.ApproveAs].
func (c *Case) Approve(by string, now time.Time) ([]Event, error) {
	return c.ApproveAs(policy.Person{ID: by}, now)
}

// ApproveAs approves the pending disclosure (four eyes). The proposer can
// never approve; each approver counts once. A disclosure that needs a legal
// approver (imminent risk the authority did not claim, a compelling
// obligation without legal process) cannot take effect without one. When
// the last required approval arrives the decision takes effect: the events
// end with CaseDecided.
func (c *Case) ApproveAs(who policy.Person, now time.Time) ([]Event, error) {
	by := who.ID
	if err := c.errWithdrawn("approve"); err != nil {
		return nil, err
	}
	if err := c.allow("approve", StatusDecisionPendingApproval); err != nil {
		return nil, err
	}
	if err := required("actor", by); err != nil {
		return nil, err
	}
	p := c.proposal
	if p.By == by {
		return nil, fmt.Errorf("%w: four eyes: the proposer cannot approve their own disclosure", ddrerr.ErrPermissionDenied)
	}
	if slices.Contains(p.ApprovedBy, by) {
		return nil, fmt.Errorf("%w: this approver has already approved; another person must", ddrerr.ErrFailedPrecondition)
	}
	if err := c.check(p.Decision); err != nil {
		return nil, err
	}
	m := meta(by, now)
	approvers := append(slices.Clone(p.ApprovedBy), by)
	last := len(approvers) >= max(c.rules.RequiredApprovals, 1)
	if last && c.needsLegalApprover(p.Decision) && !p.LegalApproved && !who.Has(policy.RoleLegal) {
		return nil, ddrerr.Policy(policy.Clause2_1, RuleLegalApproverRequired,
			"this disclosure rests on the company's own reading (imminent risk not claimed by the authority, or no legal process): a legal approver must approve it")
	}
	if err := c.checkVerified(p.Decision); last && err != nil { // issue 18
		return nil, err
	}
	evs := []Event{DecisionApproved{Meta: m, Roles: slices.Clone(who.Roles)}}
	if last {
		evs = append(evs, c.decidedEvent(m, p.Decision, p.By, approvers))
	}
	return evs, nil
}

// RejectProposal sends the pending disclosure back to review. Anyone but
// the proposer may reject it.
func (c *Case) RejectProposal(reason, by string, now time.Time) ([]Event, error) {
	if err := c.allow("reject the proposal", StatusDecisionPendingApproval); err != nil {
		return nil, err
	}
	if err := required("reason", reason); err != nil {
		return nil, err
	}
	if err := required("actor", by); err != nil {
		return nil, err
	}
	if c.proposal.By == by {
		return nil, fmt.Errorf("%w: the proposer cannot review their own proposal", ddrerr.ErrPermissionDenied)
	}
	return []Event{DecisionRejected{Meta: meta(by, now), Reason: reason}}, nil
}

// MarkOverdue returns ReviewOverdue once when the case is overdue at now,
// and nothing otherwise.
func (c *Case) MarkOverdue(now time.Time) ([]Event, error) {
	if !c.Overdue(now) || c.overdue {
		return nil, nil
	}
	return []Event{ReviewOverdue{Meta: meta("", now), Due: c.reviewDue}}, nil
}
