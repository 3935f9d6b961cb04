package policy

import "slices"

// DecisionKind is the Privacy Team's decision on a request: assessment
// decides it (four eyes), notification plans the steps of section 4 from
// it, reporting checks the record against it. The spellings are those of
// assessment's DecisionKind enum in the stream (DECISION_KIND_DISCLOSE is
// "disclose", see platform/protoconv), so every event ever written reads
// back as one of these.
type DecisionKind string

// The decisions.
const (
	// DecisionDisclose: disclose within a decided scope, on one of the two
	// bases of 2.1, after the steps of section 4.
	DecisionDisclose DecisionKind = "disclose"
	// DecisionRedirectToCustomer: ask the authority to go to the customer
	// (4.1.1).
	DecisionRedirectToCustomer DecisionKind = "redirect_to_customer"
	// DecisionChallenge: challenge the demand (3.3).
	DecisionChallenge DecisionKind = "challenge"
	// DecisionReject: refuse the demand (2.1).
	DecisionReject DecisionKind = "reject"
	// DecisionRequestMoreInformation: ask the group member for more.
	DecisionRequestMoreInformation DecisionKind = "request_more_information"
)

var decisionKinds = []DecisionKind{DecisionDisclose, DecisionRedirectToCustomer, DecisionChallenge, DecisionReject, DecisionRequestMoreInformation}

// DecisionKinds lists every decision.
func DecisionKinds() []DecisionKind { return slices.Clone(decisionKinds) }

// Valid reports whether k is one of the decisions.
func (k DecisionKind) Valid() bool { return slices.Contains(decisionKinds, k) }

// Outcome is how a request ended: the terminal points of the request's
// lifecycle (platform/lifecycle), as intake shows them to the group
// member, notification tells them to a consulted DPA (5.1) and reporting
// records them (6.1). The spellings are those already in the stream:
// notification's outcome notices record them as they are (request_end),
// and reporting's TerminalOutcome enum names them (TERMINAL_OUTCOME_NO_DATA_FOUND
// is "no_data_found"). Intake's API says OUTCOME_NO_DATA for
// [OutcomeNoDataFound]; its conversion maps that one name.
type Outcome string

// The ends of a request.
const (
	// OutcomeDisclosed: data was disclosed (2.1, 6.1). A withdrawal after
	// it undoes nothing.
	OutcomeDisclosed Outcome = "disclosed"
	// OutcomeNoDataFound: a disclosure was decided but there was no data
	// to disclose.
	OutcomeNoDataFound Outcome = "no_data_found"
	// OutcomeRejected: the demand was refused (2.1).
	OutcomeRejected Outcome = "rejected"
	// OutcomeChallenged: the demand was challenged and ended there (3.3).
	OutcomeChallenged Outcome = "challenged"
	// OutcomeRedirected: the authority went to the customer (4.1.1).
	OutcomeRedirected Outcome = "redirected"
	// OutcomeWithdrawn: the authority withdrew the request.
	OutcomeWithdrawn Outcome = "withdrawn"
)

var outcomes = []Outcome{OutcomeDisclosed, OutcomeNoDataFound, OutcomeRejected, OutcomeChallenged, OutcomeRedirected, OutcomeWithdrawn}

// Outcomes lists every end of a request.
func Outcomes() []Outcome { return slices.Clone(outcomes) }

// Valid reports whether o is one of the ends.
func (o Outcome) Valid() bool { return slices.Contains(outcomes, o) }
