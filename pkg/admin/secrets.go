package admin

import (
	"context"
	"log/slog"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// dropSecret deletes a secret that is no longer referenced. A failure is
// logged, not returned: the change it follows has been made.
func dropSecret(ctx context.Context, secrets store.Secrets, log *slog.Logger, ref string) {
	if ref == "" {
		return
	}
	if err := secrets.DeleteSecret(ctx, ref); err != nil && !notify.IsCode(err, notify.ENotFound) {
		log.ErrorContext(ctx, "delete an unused secret", "err", err.Error())
	}
}

func orDefault(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
