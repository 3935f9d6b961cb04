package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	adminv1 "github.com/ddrsuite/ddr/gen/ddr/admin/v1"
)

func dlqCmd(g *globals) *cobra.Command {
	return group("dlq", "Dead letters: events a consumer gave up on, and their replay (SRE)",
		`  ddrctl dlq list --identity spiffe://ddr.local/sre/oncall
  ddrctl dlq replay assessment-open-case 7 --identity spiffe://ddr.local/sre/oncall`,
		dlqListCmd(g), dlqReplayCmd(g))
}

func (g *globals) admin() (adminv1.AdminServiceClient, error) {
	return stub(g, adminv1.NewAdminServiceClient)
}

func dlqListCmd(g *globals) *cobra.Command {
	var consumer string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the dead letters, of every consumer or of one",
		Long: `List shows every event that a consumer dead-lettered: after its last allowed
delivery, as undecodable, or on an error marked permanent. The event itself
stays in the record; the dead letter says which consumer gave up on it and why.`,
		Example: `  ddrctl dlq list
  ddrctl dlq list --consumer notification-plan -o json`,
		Args: args(0),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			ad, err := g.admin()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd)
			defer cancel()
			res, err := ad.ListDeadLetters(ctx, &adminv1.ListDeadLettersRequest{Consumer: consumer})
			if err != nil {
				return err
			}
			return g.print(res, func(t *tw) {
				t.section("", "SEQ", "CONSUMER", "REQUEST", "EVENT", "REASON", "DELIVERIES", "AT")
				for _, d := range res.GetDeadLetters() {
					t.row(fmt.Sprint(d.GetSequence()), d.GetConsumer(), orDash(d.GetRequestId()), d.GetEventType(),
						orDash(d.GetReason()), fmt.Sprint(d.GetDeliveries()), ts(d.GetDeadLetteredAt()))
				}
			})
		}),
	}
	cmd.Flags().StringVar(&consumer, "consumer", "", "only this consumer's dead letters")
	return cmd
}

func dlqReplayCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "replay CONSUMER SEQUENCE",
		Short: "Run a dead letter's event through its consumer's handler again, after a fix",
		Long: `Replay fetches the original event from the record and hands it to the named
consumer's handler once more. The handlers are idempotent, so a replay of an
event that was in fact handled changes nothing. It fails when the handler
fails again (exit 1), the event is still undecodable or the consumer is not
hosted by the process called (exit 5), or no such dead letter exists (exit 3).`,
		Example: `  ddrctl dlq replay assessment-open-case 7`,
		Args:    args(2, "CONSUMER SEQUENCE"),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			seq, err := strconv.ParseUint(a[1], 10, 64)
			if err != nil || seq == 0 {
				return usageErr(fmt.Errorf("SEQUENCE must be a positive number, got %q", a[1]))
			}
			ad, err := g.admin()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd)
			defer cancel()
			res, err := ad.ReplayDeadLetter(ctx, &adminv1.ReplayDeadLetterRequest{Consumer: a[0], Sequence: seq})
			if err != nil {
				return err
			}
			d := res.GetDeadLetter()
			return g.print(res, func(t *tw) {
				t.kv("REPLAYED", fmt.Sprint(d.GetSequence()), "CONSUMER", d.GetConsumer(), "REQUEST", orDash(d.GetRequestId()), "EVENT", d.GetEventType())
			})
		}),
	}
}
