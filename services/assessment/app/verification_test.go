package app_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/authority"
)

// Issue 18: the scope configured when a case opens decides whether any
// disclosure, not only an emergency one, waits for a call back; an
// authority flagged for a forgery makes it required whatever the scope.
// The finding is frozen in RequesterChecked, so a later change of the
// configuration does not touch cases already open.
func TestClause2_1_VerifyScopeIsFrozenWhenTheCaseOpens(t *testing.T) {
	ctx := context.Background()
	base, err := authority.Default()
	if err != nil {
		t.Fatal(err)
	}
	garda := func(sender string) authority.Requester {
		return authority.Requester{Name: "Garda", Country: "IE", Kind: "police", Sender: authority.Sender{Channel: authority.Email, Address: sender}}
	}
	for i, c := range []struct {
		scope    app.VerifyScope
		sender   string
		flagged  bool
		required bool
	}{
		{app.VerifyEmergency, "x@gmail.com", false, false},
		{app.VerifyUnverified, "x@gmail.com", false, true},
		{app.VerifyUnverified, "x@garda.ie", false, false},
		{app.VerifyAll, "x@garda.ie", false, true},
		{app.VerifyEmergency, "x@garda.ie", true, true},
	} {
		dir := app.NewDirectory(base)
		if c.flagged {
			dir.Flag("INC-1", authority.Flag{AuthorityID: "ie-garda", At: t0, Reason: "confirmed forged"})
		}
		a, err := app.New(app.Config{Policy: policy(), Adequacy: notAdequateUnlessIE, Now: func() time.Time { return t0 }, Directory: dir, VerifyScope: c.scope}, newStore(t))
		if err != nil {
			t.Fatal(err)
		}
		id := "req-" + strconv.Itoa(i)
		if err := a.OpenReceivedCase(ctx, "ev-"+id, codec.FactsFromReceived(richRequest(id)), garda(c.sender), time.Time{}); err != nil {
			t.Fatal(err)
		}
		st, err := a.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		v := st.Case.Verification()
		if !v.Checked || v.AuthorityID != "ie-garda" || v.Required != c.required || st.Case.HasFlag(domain.FlagUnverifiedRequester) == v.SenderVerified {
			t.Errorf("%+v: verification %+v, flagged %v; want required=%v", c, v, st.Case.HasFlag(domain.FlagUnverifiedRequester), c.required)
		}
	}
}
