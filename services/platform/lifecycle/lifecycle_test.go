package lifecycle_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/lifecycle"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Issue 16, "no dead ends": walk every transition of the table; every
// state is reachable from Received, every state that is not terminal has
// a way out, and from every state some terminal state can be reached.
func TestEveryTransitionWalkedAndNoNonTerminalStateIsADeadEnd(t *testing.T) {
	reach := map[lifecycle.State]bool{lifecycle.Received: true}
	for changed := true; changed; {
		changed = false
		for _, r := range lifecycle.Table() {
			if reach[r.From] && !reach[r.To] {
				reach[r.To], changed = true, true
			}
		}
	}
	for _, s := range lifecycle.States() {
		if !reach[s] {
			t.Errorf("state %s cannot be reached from received", s)
		}
		if !lifecycle.Terminal(s) && len(lifecycle.Exits(s)) == 0 {
			t.Errorf("state %s is not terminal and has no way out", s)
		}
		if !canEnd(s) {
			t.Errorf("from state %s no terminal state can be reached", s)
		}
	}
	for _, r := range lifecycle.Table() {
		got, err := lifecycle.Next(r.From, r.Trigger)
		if err != nil || got.To != r.To || got.Why == "" {
			t.Errorf("Next(%s, %s) = %+v, %v; want %s with a reason", r.From, r.Trigger, got, err, r.To)
		}
		if !slices.Contains(lifecycle.States(), r.To) {
			t.Errorf("%s → unlisted state %s", r.From, r.To)
		}
	}
}

func canEnd(from lifecycle.State) bool {
	seen := map[lifecycle.State]bool{}
	var walk func(lifecycle.State) bool
	walk = func(s lifecycle.State) bool {
		if lifecycle.Terminal(s) {
			return true
		}
		if seen[s] {
			return false
		}
		seen[s] = true
		for _, r := range lifecycle.Exits(s) {
			if walk(r.To) {
				return true
			}
		}
		return false
	}
	return walk(from)
}

// Each real path that dead-ended before issue 16 reaches a closed state.
func TestClause4_1_1_RedirectDeclinedGoesBackToReviewAndCanBeDisclosed(t *testing.T) {
	walk(t, lifecycle.Received, lifecycle.Disclosed,
		lifecycle.CaseOpened, lifecycle.DecisionProposed, lifecycle.DecidedRedirect,
		lifecycle.RedirectDeclined, lifecycle.DecisionProposed, lifecycle.DecidedDisclose,
		lifecycle.StepsDone, lifecycle.DisclosureRecorded)
}

func TestClause4_2_1_DPAObjectionGoesBackToReviewAndCanBeRejected(t *testing.T) {
	walk(t, lifecycle.Received, lifecycle.Rejected,
		lifecycle.CaseOpened, lifecycle.DecisionProposed, lifecycle.DecidedDisclose,
		lifecycle.HoldPlaced, lifecycle.DPAObjected, lifecycle.DecisionProposed, lifecycle.DecidedReject)
}

func TestClause4_2_1_AdequacyLostAfterClearancePutsTheRequestOnHold(t *testing.T) {
	walk(t, lifecycle.Received, lifecycle.Disclosed,
		lifecycle.CaseOpened, lifecycle.DecisionProposed, lifecycle.DecidedDisclose, lifecycle.StepsDone,
		lifecycle.AdequacyLost, lifecycle.DPANoObjection, lifecycle.StepsDone, lifecycle.DisclosureRecorded)
}

func TestClause3_3_MoreInformationIsAnsweredByAnAmendmentAndReviewedAgain(t *testing.T) {
	walk(t, lifecycle.Received, lifecycle.Redirected,
		lifecycle.CaseOpened, lifecycle.InformationAsked, lifecycle.Amended,
		lifecycle.DecisionProposed, lifecycle.DecidedRedirect, lifecycle.RedirectAgreed)
}

func TestClause3_3_ChallengeOutcomeGoesBackToReview(t *testing.T) {
	walk(t, lifecycle.Received, lifecycle.Rejected,
		lifecycle.CaseOpened, lifecycle.DecisionProposed, lifecycle.DecidedChallenge,
		lifecycle.ChallengeOutcome, lifecycle.DecisionProposed, lifecycle.DecidedReject)
}

// A withdrawal stops a request from every state before the data left and
// closes it once acknowledged; after a disclosure it changes nothing.
func TestWithdrawalStopsEveryOpenStateAndUndoesNothingAfterDisclosure(t *testing.T) {
	for _, s := range lifecycle.States() {
		r, err := lifecycle.Next(s, lifecycle.WithdrawalReported)
		switch {
		case s == lifecycle.Disclosed || s == lifecycle.NoDataFound:
			if err != nil || r.To != s {
				t.Errorf("withdrawn after %s: %+v, %v; want recorded, state unchanged", s, r, err)
			}
		case lifecycle.Terminal(s) || s == lifecycle.WithdrawalPending:
			continue
		default:
			if err != nil || r.To != lifecycle.WithdrawalPending {
				t.Errorf("withdrawn while %s: %+v, %v; want withdrawal_pending", s, r, err)
				continue
			}
			if a, err := lifecycle.Next(r.To, lifecycle.WithdrawalAcknowledged); err != nil || a.To != lifecycle.Withdrawn {
				t.Errorf("acknowledged: %+v, %v", a, err)
			}
		}
	}
	if _, err := lifecycle.Next(lifecycle.WithdrawalPending, lifecycle.DisclosureRecorded); err == nil {
		t.Error("a disclosure was accepted after a withdrawal")
	}
}

// A disclosure is accepted only from Cleared, whatever path led there.
func TestClause2_1_DisclosureOnlyFromCleared(t *testing.T) {
	for _, s := range lifecycle.States() {
		_, err := lifecycle.Next(s, lifecycle.DisclosureRecorded)
		if (err == nil) != (s == lifecycle.Cleared) {
			t.Errorf("disclosure recorded while %s: err=%v", s, err)
		}
		var nt *lifecycle.ErrNoTransition
		if err != nil && !errors.As(err, &nt) {
			t.Errorf("refusal of the wrong type: %v", err)
		}
	}
}

// Random walks: wherever a walk stops, the request is closed or has a way
// out; stages stay within the six the member may see.
func TestRandomWalksNeverStrand(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	stages := []lifecycle.Stage{lifecycle.StageReceived, lifecycle.StageInReview, lifecycle.StageInformationRequested, lifecycle.StageOnHold, lifecycle.StageCleared, lifecycle.StageClosed}
	for range 2000 {
		s := lifecycle.Received
		for range 30 {
			if !slices.Contains(stages, lifecycle.StageOf(s)) {
				t.Fatalf("state %s has stage %q", s, lifecycle.StageOf(s))
			}
			exits := lifecycle.Exits(s)
			if len(exits) == 0 {
				if !lifecycle.Terminal(s) {
					t.Fatalf("stranded in %s", s)
				}
				break
			}
			s = exits[rng.IntN(len(exits))].To
		}
	}
}

func walk(t *testing.T, from, want lifecycle.State, triggers ...lifecycle.Trigger) {
	t.Helper()
	s := from
	for _, tr := range triggers {
		r, err := lifecycle.Next(s, tr)
		if err != nil {
			t.Fatalf("from %s: %v", s, err)
		}
		s = r.To
	}
	if s != want {
		t.Fatalf("ended %s, want %s", s, want)
	}
	if lifecycle.StageOf(s) != lifecycle.StageClosed {
		t.Errorf("member stage %s, want closed", lifecycle.StageOf(s))
	}
}

// Intake shows a closed request's end from its state, and closes it in the
// state of a recorded end: the two must meet for every end but a challenge
// (which has no state of its own).
func TestEveryTerminalStateIsAnEndAndBack(t *testing.T) {
	for _, s := range lifecycle.States() {
		end := lifecycle.End(s)
		if lifecycle.Terminal(s) != end.Valid() {
			t.Errorf("state %s: terminal %v, end %q", s, lifecycle.Terminal(s), end)
		}
		if back, ok := lifecycle.EndState(end); lifecycle.Terminal(s) && (!ok || back != s) {
			t.Errorf("end %s: state %s, %v, want %s", end, back, ok, s)
		}
	}
	for _, o := range policy.Outcomes() {
		if s, ok := lifecycle.EndState(o); ok != (o != policy.OutcomeChallenged) || (ok && lifecycle.End(s) != o) {
			t.Errorf("end %s: state %q, %v", o, s, ok)
		}
	}
}
