package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

// Issue 16: the course of a request as its record shows it (decisions,
// earlier ones kept and marked superseded, reopenings, questions asked,
// withdrawals and their acknowledgement, links, target reveals, stopped
// steps, DPA objections, the disposition).
func init() { registerSub("record", recordShowCmd) }

func recordShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show REQUEST_ID",
		Short: "Show the course of a request from its record: decisions, reopenings, withdrawal, links, target reveals",
		Long: `Show reads the request's record and prints its course: every decision (an
earlier one stays, marked superseded, beside the one that replaced it), each
reopening with its trigger, questions asked of the member, the withdrawal and
its acknowledgement, links to another request of the same demand, every reveal
of the target values (who, when, with which roles), steps notification
stopped, DPA objections, clearances and the disposition.

Free text the company keeps sealed in its record (a question, why a case was
linked, why targets were revealed) is not printed: the record says that it is
there. 'record get' lists every entry with
its hash.`,
		Example: `  ddrctl record show 0193c0de-...
  ddrctl record show 0193c0de-... -o json`,
		Args: args(1, "REQUEST_ID"),
		RunE: showRecord(g, func(t *tw, rec *reportingv1.Record) { timelineTable(t, rec.GetTimeline()) }),
	}
}

// timelineTable prints a record's course, one step a line.
func timelineTable(t *tw, facts []*reportingv1.RecordFact) {
	t.section("COURSE", "SEQ", "TIME", "WHAT", "BY", "DETAIL")
	if len(facts) == 0 {
		t.row("-", "-", "nothing yet beyond the receipt", "-", "-")
		return
	}
	for _, f := range facts {
		what, detail := factWords(f)
		t.row(fmt.Sprint(f.GetSequence()), ts(f.GetTime()), what, orDash(f.GetBy()), orDash(detail))
	}
}

const sealedNote = "(its text is kept sealed in the record)"

// factWords says a step in words: what happened, and its detail.
func factWords(f *reportingv1.RecordFact) (what, detail string) {
	var d []string
	add := func(s string, args ...any) { d = append(d, fmt.Sprintf(s, args...)) }
	switch f.GetKind() {
	case reportingv1.RecordFactKind_RECORD_FACT_KIND_DECIDED:
		what = "decided"
		add("decision %s: %s", orDash(f.GetDecisionId()), orDash(f.GetDetail()))
		if f.GetSuperseded() {
			add("superseded by a reopening")
		}
	case reportingv1.RecordFactKind_RECORD_FACT_KIND_REOPENED:
		what = "reopened"
		add("trigger %s", orDash(f.GetTrigger()))
		if f.GetDecisionId() != "" {
			add("decision %s no longer in effect", f.GetDecisionId())
		}
		if f.GetReason() != "" {
			add("%s", f.GetReason())
		}
	case reportingv1.RecordFactKind_RECORD_FACT_KIND_INFORMATION_REQUESTED:
		what = "information requested"
		add("a question was asked of the member")
		if f.GetSealedText() {
			add(sealedNote)
		}
	case reportingv1.RecordFactKind_RECORD_FACT_KIND_WITHDRAWN:
		what = "withdrawn"
		add("the authority withdrew the request")
		if f.GetAfterDisclosure() {
			add("after the disclosure: recorded, undoes nothing")
		}
	case reportingv1.RecordFactKind_RECORD_FACT_KIND_WITHDRAWAL_ACKNOWLEDGED:
		what = "withdrawal acknowledged"
		if f.GetAfterDisclosure() {
			add("after the disclosure: recorded, undoes nothing")
		} else {
			add("the request closes as withdrawn")
		}
	case reportingv1.RecordFactKind_RECORD_FACT_KIND_LINKED:
		what = "linked"
		add("same demand as %s", orDash(f.GetLinkedRequestId()))
		if f.GetSealedText() {
			add("why " + sealedNote)
		}
	case reportingv1.RecordFactKind_RECORD_FACT_KIND_TARGETS_REVEALED:
		what = "targets revealed"
		add("the target values were shown")
		if len(f.GetRoles()) > 0 {
			add("roles %s", strings.Join(f.GetRoles(), ", "))
		}
		if f.GetSealedText() {
			add("why " + sealedNote)
		}
	case reportingv1.RecordFactKind_RECORD_FACT_KIND_STEPS_STOPPED:
		what = "steps stopped"
		add("reason %s", orDash(f.GetTrigger()))
		if len(f.GetSteps()) > 0 {
			add("stopped %s", strings.Join(f.GetSteps(), ", "))
		}
	case reportingv1.RecordFactKind_RECORD_FACT_KIND_DPA_OBJECTED:
		what = "DPA objected"
		add("%s objected to decision %s", orDash(f.GetDpa()), orDash(f.GetDecisionId()))
	case reportingv1.RecordFactKind_RECORD_FACT_KIND_CLEARED:
		what = "cleared"
		if f.GetDecisionId() != "" {
			add("decision %s", f.GetDecisionId())
		}
	case reportingv1.RecordFactKind_RECORD_FACT_KIND_DISPOSITION:
		what = "disposition"
		add("%s", orDash(f.GetDetail()))
	default:
		what = enumName(f.GetKind())
	}
	return what, strings.Join(d, "; ")
}
