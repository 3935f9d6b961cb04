// Package domain holds the reporting rules of the suite, free of transport
// and storage so that they can be tested alone and audited by reading them.
//
// It answers three questions the policy asks of the reporting service:
//
//   - Is the written record intact? Each request's events form a hash chain
//     ([Chain], [Verify]); the chain stores digests of payloads, never the
//     payloads, so it holds no personal data in clear.
//     Once a request reaches a terminal point its chain head is written into
//     the stream itself ([Seal], [VerifySeals]), so a later change to a
//     stored entry shows.
//   - How did a request end? [RequestFold] folds a request's events into
//     its report facts, its terminal point and its disposition state. A
//     [Disposition] records what was disclosed, and is accepted only once
//     the request was cleared (clauses 2.1, 2.2), only as an outcome the
//     effective decision allows ([OutcomeTable]), never beyond the approved
//     accounts and data categories (an un-narrowed decision approves exactly
//     what was requested; no recorded scope is no scope), and not after the
//     authority's country lost adequacy (4.2.1).
//   - What does the request's lifecycle change (issue 16, lifecycle.go)? A
//     withdrawal refuses any later disclosure (2.1: no demand stands) and
//     undoes nothing after one; stopped steps and a clearance voided by a
//     reopening refuse it until the new decision is cleared; the record
//     closes as withdrawn when a Privacy Team member acknowledges the
//     withdrawal. The record's [Timeline] keeps every decision, an earlier
//     one marked superseded. A demand is counted once ([CountDemandsOnce],
//     [MostSignificant]).
//   - Who may keep a request out of the report? A restriction is a
//     policy.Lift ([ProposeRestriction]): one person records it with its
//     legal reference, a second person with the legal role confirms it.
//   - What does the semi-annual transparency report say (clause 5.1)?
//     [BuildReport] counts [ReportFacts] for a [Period] in one pass, leaves out
//     what a court order keeps out, bands national security process, and
//     commits to what it counted with a Merkle root that a data protection
//     authority can check ([VerifyReport], [ProveInclusion], [VerifyInclusion]).
package domain
