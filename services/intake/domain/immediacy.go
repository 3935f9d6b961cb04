package domain

import (
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Clause 3.1: the receiving group member passes a request on "immediately
// upon receipt". Intake cannot refuse a late request (it must still reach
// the Privacy Team), so lateness is measured and flagged instead.
const (
	// FlagLateForwarding marks a request forwarded later than the threshold.
	FlagLateForwarding = "LATE_FORWARDING"
	// ClauseImmediacy is the policy clause behind [FlagLateForwarding].
	ClauseImmediacy = policy.Clause3_1
	// DefaultLateThreshold is used when no positive threshold is configured.
	DefaultLateThreshold = 24 * time.Hour
)

// ForwardingDelay is the time between receipt by the group member and
// submission to intake. A received time after submission (clock skew
// between the two systems) counts as no delay.
func ForwardingDelay(received, submitted time.Time) time.Duration {
	if submitted.Before(received) {
		return 0
	}
	return submitted.Sub(received)
}

// IsLate reports whether delay exceeds threshold; a threshold of zero or
// less means [DefaultLateThreshold]. A delay equal to the threshold is not late.
func IsLate(delay, threshold time.Duration) bool {
	if threshold <= 0 {
		threshold = DefaultLateThreshold
	}
	return delay > threshold
}
