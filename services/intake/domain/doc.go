// Package domain holds intake's policy rules as pure Go: what a Data
// Disclosure Request must say when a group member hands it over (clauses
// 1.1, 3.1, 3.2), the customers it concerns (4.1, 2.2: a list, or the
// older one-customer form, never both), how a retry is told apart from a
// different submission, and which stage a request is in as the group
// member sees it: the state of platform/lifecycle's one state machine,
// folded from intake's own facts and the other services' (issue 16).
//
// It exists apart from the gRPC and JetStream code so that the rules can be
// read, tested and fuzzed without either; it imports only the standard
// library and pure platform packages (ddrerr, whose error types the
// transport maps to gRPC statuses; policy; lifecycle).
package domain
