// Package domain holds the notification rules of the Government Data
// Request Policy (clauses 2.2, 4.1.1, 4.1.2, 4.2.1, 4.2.2) as pure Go, so
// they can be read, tested and reasoned about apart from NATS and gRPC.
//
// A decision's [Requirements] become a [Plan] of five steps, always all
// listed so the record shows what was considered and why a step is not owed.
// The plan is event-sourced: commands on *Plan return events, [Plan.Apply]
// folds them, and step statuses are recomputed from the requirements and the
// recorded facts. [Blockers] is the disclosure gate.
//
// How the clauses combine (C: the customer is the controller; G: a legal
// prohibition; R: imminent risk of serious harm; A: the authority's country
// is adequate):
//
//   - 2.2: the plan as a whole is "notify and consult the DPAs and the
//     customer unless prohibited or imminent risk". Only decisions that can
//     lead to disclosure (disclose, redirect_to_customer) owe steps; reject,
//     challenge and request_more_information disclose nothing, their steps
//     are skipped NO_DISCLOSURE_DECIDED and a later disclose decision
//     re-plans with every fact already recorded kept.
//   - 2.2 vs 4.2.1 (the reading chosen): 2.2 obliges the company to notify
//     and consult "the competent data protection authorities" for every
//     request, adequate country or not; 4.2.1 says that for a non-adequate
//     country it will "also put the request on hold". The word "also"
//     makes 4.2.1 an addition to 2.2, not its only case. So every plan that
//     may lead to disclosure owes NOTIFY_DPA (2.2): the packet must have
//     gone out to each competent authority (an accepted delivery, or a
//     manual dispatch two people confirmed) before disclosure, but for an
//     adequate country nothing waits for the DPA's answer: 2.2 says notify
//     and consult, not wait. Only HOLD_AND_CONSULT_DPA (4.2.1) waits for a
//     consultation outcome, from the lead authority, confirmed by a second
//     person. The competent authorities ([CompetentAuthorities]) are the
//     lead authority under the BCR, any configured others, and the
//     authority competent for each controller customer's establishment
//     ([DPADirectory]); they are recorded in PlanDerived.
//   - Two people (issue 15): a gag or an imminent risk never skips a
//     notice or a hold by itself. An exemption, a consultation outcome, a
//     manual dispatch and the weakening of a step are each a policy.Lift:
//     one person proposes it with basis and evidence, a second person with
//     the role (legal for exemptions, weakenings and "no reply"; approver or
//     legal for outcomes and dispatches), never the decision's proposer,
//     confirms it ([Plan.ConfirmLift]); the facts are checked at both times.
//     "Prohibited" needs a gag order or a statute cited; "imminent risk"
//     needs a recorded finding (the authority's claim or a reviewer's
//     justification) and why prior notice would defeat it.
//   - Rule 11: a step once owed stays owed when new facts, a new decision's
//     inputs or a new configuration would drop it (customer not controller,
//     country adequate) until a weakening is confirmed ([Plan.Weakenings]).
//   - Adequacy is judged on the date received, again at clearance (with a
//     registry given by [Plan.UseRegistry]) and at the disclosure date
//     ([Plan.CheckDisclosure]): a loss re-makes the plan (AdequacyLost, a
//     hold); a gain changes nothing by itself.
//   - 4.1.1: C owes the redirect request first. Not C: skipped. R: skipped,
//     because 4.1.1 applies "ordinarily" and an emergency is not ordinary.
//     G does not skip it: asking the authority tells the customer nothing.
//     Agreed ends the request as redirected (support recorded); declined,
//     not possible or identity unknown open the customer notice.
//   - 4.1.2: C owes the notice before disclosure, after the redirect answer.
//     G bars delivering it; the notice stays owed until a confirmed
//     exemption: with a gag end date it is then scheduled for that day (it
//     blocks again once due if nothing was disclosed yet); without one it is
//     skipped, flagged for challenge. R: skipped on a confirmed exemption;
//     R exempts only prior notice, so a later notice is allowed and flagged
//     as owed. Not C: not owed (2.2 names the customer only where data is
//     processed on its behalf).
//   - 4.2.1: not A owes a hold at once and a consultation; unknown or
//     unlisted countries are not A. A skips first (the obligation never
//     arises). G or R skip it only through a confirmed exemption. The hold
//     lifts only on the lead DPA's confirmed outcome (never on an objection)
//     or a confirmed exemption.
//   - 4.2.2: owed when G actually suppresses a notice the plan owes (the
//     customer's when C, and the DPAs', which 2.2 owes for every
//     disclosure): G+not A is exactly 4.2.2's case, G+C uses its
//     "disclosure to specified personnel at the customer". The record
//     must hold "inform obligations", plus "allow customer personnel" when C
//     and "ask to hold" when not A; under R only "inform obligations", since
//     4.2.2 weighs urgency. A court order is counsel's call, never demanded.
//     A granted waiver lifts G for what it covers, making the notice or the
//     hold owed again.
//   - 1.2: a stricter law's customer-notice period keeps the gate shut until
//     it has run after delivery.
//
// Issue 16 adds three things, each in its own file. The request's
// lifecycle (lifecycle.go): a withdrawal (intake) or a case back in review
// (assessment) stops every pending step at once (StepsStopped); the gate
// refuses naming why; a superseded decision never derives again; a new
// decision's plan counts what was done (packets, notices per customer,
// redirect answers; the hold stays until its lift); the lead DPA's
// confirmed objection is recorded as DpaObjected, on which assessment
// reopens. Several customers (customers.go): a redirect request and a
// notice per controller customer, each ending on its own; the request is
// redirected only when every one was, and the transparency report counts
// it once, by its most significant outcome. Owed notices with due dates
// (lifecycle.go): the notice after an emergency disclosure (from the
// recorded disclosure) and after a gag ends, each due within
// [Config.NoticeWindow]; overdue is recorded once per due time
// (NoticeOverdue).
//
// Issue 21 (outcome.go): once the request ended (disclosed, no data
// found, rejected, challenged, redirected, withdrawn), the plan gains a
// sixth step, NOTIFY_DPA_OUTCOME (5.1): every DPA the packet reached, or
// that objected, is told how it ended, once per authority and end. It
// blocks nothing and a withdrawal does not stop it.
//
// WIRING.md in this directory lists the events and RPCs that carry these
// rules, and what of them is wired.
package domain
