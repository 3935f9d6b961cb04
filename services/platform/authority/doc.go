// Package authority is the authority directory (issue 18): the
// authorities the company knows, with contact channels it verified itself,
// as data with effective dates and sources, loaded at start like the
// adequacy registry. Intake's requests are matched to it: an authority
// the directory does not know, a kind that does not match, or a sender
// outside the authority's verified channels makes the requester
// unverified, with the reason (clause 3.3 review; clause 2.1 for an
// emergency, where forged requests do the most harm). Verification calls
// back through [Entry.Callback], never through contacts the request gave.
// Forgeries confirmed later are [Flag]s layered over the file by events.
//
// Pure: no gRPC, NATS or network lookups; a domain is compared as
// written (lower-case ASCII, an IDN only in its xn-- form, so a
// look-alike Unicode domain never matches).
package authority
