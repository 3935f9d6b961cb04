// Package domain holds the notification rules of the Government Data
// Request Policy (clauses 2.2, 4.1.1, 4.1.2, 4.2.1, 4.2.2) as pure Go, so
// they can be read, tested and reasoned about apart from NATS and gRPC.
//
// A decision's [Requirements] become a [Plan] of four steps, always all
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
//   - 4.1.1: C owes the redirect request first. Not C: skipped. R: skipped,
//     because 4.1.1 applies "ordinarily" and an emergency is not ordinary.
//     G does not skip it: asking the authority tells the customer nothing.
//     Agreed ends the request as redirected (support recorded); declined,
//     not possible or identity unknown open the customer notice.
//   - 4.1.2: C owes the notice before disclosure, after the redirect answer.
//     G with an end date: scheduled for the day it ends (it does not block
//     while the gag stands, and blocks again once due if nothing was
//     disclosed yet). G without end date: skipped, flagged for challenge.
//     R: skipped on the recorded basis; R exempts only prior notice, so a
//     later notice is allowed and flagged as owed. Not C: not owed (2.2 names
//     the customer only where data is processed on its behalf).
//   - 4.2.1: not A owes a hold at once and a consultation; unknown or
//     unlisted countries are not A. A skips first (the obligation never
//     arises). G, then R, skip it. The hold lifts only on the lead DPA's
//     recorded outcome (never on an objection) or a recorded exemption.
//   - 4.2.2: owed when G actually suppresses a notice the plan would give
//     (G and C, or G and not A): G+not A is exactly 4.2.2's case, G+C uses
//     its "disclosure to specified personnel at the customer". The record
//     must hold "inform obligations", plus "allow customer personnel" when C
//     and "ask to hold" when not A; under R only "inform obligations", since
//     4.2.2 weighs urgency. A court order is counsel's call, never demanded.
//     A granted waiver lifts G for what it covers, making the notice or the
//     hold owed again.
//   - 1.2: a stricter law's customer-notice period keeps the gate shut until
//     it has run after delivery.
package domain
