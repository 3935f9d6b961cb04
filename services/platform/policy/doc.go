// Package policy is the vocabulary every service shares to speak about the
// Government Data Request Policy (POLICY.md): its clauses, the country of a
// Requesting Authority, and the adequacy registry of clause 4.2.1. It is
// pure Go (standard library only), so domain packages import it; it knows no
// service, and no service needs another service's packages for these words.
//
// # Clauses
//
// [Clause] constants (Clause4_2_1, ...) name every numbered clause; refusals
// (platform/ddrerr), flags, blockers and events cite them, never bare
// strings.
//
// # Countries
//
// A [Country] is an upper-case ISO 3166-1 alpha-2 code or [CountryUnknown]
// ("ZZ"). The intake API spells unknown "UNKNOWN", and intake's events in
// the stream keep that spelling forever; [ParseCountry] reads every
// spelling ever written the same way, so code compares Country values, not
// strings.
//
// # Decisions and ends
//
// [DecisionKind] is the Privacy Team's decision on a request and
// [Outcome] how a request ended; each has one spelling, the one already
// in the stream, which every service's domain uses (intake's API keeps
// its own name for one outcome, mapped in its conversion).
//
// # How adequacy is judged
//
// Clause 4.2.1 puts a request on hold when "the Requesting Authority is in a
// country that does not provide an adequate level of protection". The suite
// reads that as follows, in one function, [AdequacyRegistry.JudgeAuthority]:
//
//   - The registry is data with effective dates and a source per entry
//     (adequacy.json, embedded; a deployment may give a newer file at start
//     with --adequacy-file, see [LoadAdequacy]). EEA members and treaty
//     bridges count as adequate because no third-country transfer happens.
//   - The recipient is a government body (1.1), so only entries whose scope
//     covers public bodies count (a DPF certification or a commercial-sector
//     decision does not make the United States, Canada or Japan adequate for
//     a police request).
//   - An unknown country, or a country with no entry in force, is not
//     adequate: the safe reading, since 4.2.1 is a safeguard.
//   - The date judged is the date the request was received (the decision
//     date of the case: assessment decides on the facts as received).
//     Assessment judges it to flag the case for the reviewer
//     (CaseFacts.country_adequate); notification judges it again, with the
//     same function and the request's received date, to derive the plan and
//     record the finding (PlanDerived.adequacy) on which the hold rests.
//     Both run in processes that load the same registry (the same
//     --adequacy-file), so they agree; the finding recorded in the plan is
//     the one that governs the hold.
//   - Judged again at clearance (notification, Plan.UseRegistry) and at the
//     recorded disclosure date (notification's Plan.CheckDisclosure,
//     reporting's RecordDisclosure), against the registry as of that date:
//     a decision struck down between the decision and the disclosure
//     re-makes the plan with a hold and refuses the disclosure; a gained
//     adequacy changes nothing by itself.
//
// # Safeguards take two people
//
// [Lift] is the one model of lifting or skipping a safeguard (an exemption,
// a DPA outcome, a manual dispatch, a report restriction, a challenge
// outcome, the weakening of a plan): one person records it with basis and
// evidence, a second person with a confirming [Role], never the recorder
// and never the decision's proposer, confirms it ([Lift.CheckConfirm]).
// Every service's domain uses it, so the rule lives once.
// [MostSpecificFirst] orders the clauses a refusal names.
package policy
