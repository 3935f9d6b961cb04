package policy

// Clause names a numbered clause of the Government Data Request Policy
// (POLICY.md). Its value is the clause number as the policy prints it
// ("4.2.1"), which is also what goes on the wire (error details, event
// fields), so a typed constant and a string read from an old event compare
// equal. Code names clauses by these constants, never by bare strings, so a
// typo is a build error and every clause has one title.
type Clause string

// The clauses of POLICY.md. Sections 4.1 and 4.2 are headings with numbered
// clauses of their own; they are listed because findings cite the whole
// section (4.1: notice to the customer in general).
const (
	Clause1_1   Clause = "1.1"
	Clause1_2   Clause = "1.2"
	Clause2_1   Clause = "2.1"
	Clause2_2   Clause = "2.2"
	Clause3_1   Clause = "3.1"
	Clause3_2   Clause = "3.2"
	Clause3_3   Clause = "3.3"
	Clause4_1   Clause = "4.1"
	Clause4_1_1 Clause = "4.1.1"
	Clause4_1_2 Clause = "4.1.2"
	Clause4_2   Clause = "4.2"
	Clause4_2_1 Clause = "4.2.1"
	Clause4_2_2 Clause = "4.2.2"
	Clause5_1   Clause = "5.1"
	Clause6_1   Clause = "6.1"
)

// clauses is every clause in the policy's order, with a short title for
// people (logs, reports, ddrctl); the policy text itself is authoritative.
var clauses = []struct {
	c     Clause
	title string
}{
	{Clause1_1, "Scope: requests from a Requesting Authority"},
	{Clause1_2, "Higher standard of applicable law prevails"},
	{Clause2_1, "Disclose only under a compelling legal obligation or an imminent risk of serious harm"},
	{Clause2_2, "Notify and consult the competent data protection authorities and the customer"},
	{Clause3_1, "Pass the request to the Privacy Team immediately"},
	{Clause3_2, "Any request, however made, is a Data Disclosure Request"},
	{Clause3_3, "Case-by-case review of nature, context, purposes, scope, urgency and validity"},
	{Clause4_1, "Notice to the customer"},
	{Clause4_1_1, "Ask the authority to go to the customer directly"},
	{Clause4_1_2, "Notify the customer before disclosing"},
	{Clause4_2, "Notice to the competent data protection authorities"},
	{Clause4_2_1, "Hold and consult the DPA when the country is not adequate"},
	{Clause4_2_2, "Best efforts to waive a prohibition, with a written record"},
	{Clause5_1, "Semi-annual transparency report"},
	{Clause6_1, "No massive, disproportionate or indiscriminate transfers"},
}

// Clauses returns every clause of the policy, in the policy's order.
func Clauses() []Clause {
	out := make([]Clause, len(clauses))
	for i, e := range clauses {
		out[i] = e.c
	}
	return out
}

// Number is the clause number as the policy prints it ("4.2.1").
func (c Clause) Number() string { return string(c) }

// String is [Clause.Number].
func (c Clause) String() string { return string(c) }

// Title is a short title for people; empty for a clause the policy does not
// have.
func (c Clause) Title() string {
	for _, e := range clauses {
		if e.c == c {
			return e.title
		}
	}
	return ""
}

// Known reports whether c is a clause of the policy. A clause read from the
// wire may be unknown (a newer peer); it is kept as it is, not rejected.
func (c Clause) Known() bool { return c.Title() != "" }

// ParseClause reads a clause number ("4.2.1"); ok is false for a number the
// policy does not have.
func ParseClause(s string) (c Clause, ok bool) {
	c = Clause(s)
	return c, c.Known()
}
