package domain_test

import "testing"

// Idempotency keys outlive upgrades: a client retrying a submission made
// before sender_address and enforcing_authority_notified existed must get
// the same digest, or its retry is refused as a different request. The
// value was computed by the code before those fields were added.
func TestFingerprint_UnchangedForRequestsWithoutLaterFields(t *testing.T) {
	const before = "a8e63e50994fd28aa04af88b701edd867d2a2d2001df9878ff4ae4381ceff482"
	if got := validRequest().ContentDigest().LegacyHex(); got != before {
		t.Errorf("digest of a request without the later fields = %s, want %s as before", got, before)
	}
}
