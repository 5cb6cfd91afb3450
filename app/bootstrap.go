package app

import (
	"context"
	"fmt"
	"io"

	"easel/actions"
	"easel/secrets"
	"easel/store"
)

// bootstrap seeds a database with no users (actions.SeedDirectory) and
// prints the administrator's generated password once.
func bootstrap(ctx context.Context, s *store.Store, cfg Config, out io.Writer) error {
	n, err := store.CountUsers(ctx, s.DB())
	if err != nil || n > 0 {
		return err
	}
	password, generated := cfg.AdminPassword, false
	if password == "" {
		password, generated = secrets.RandomPassword(), true
	}
	hash, err := secrets.HashPassword(password)
	if err != nil {
		return err
	}
	seeded, err := actions.SeedDirectory(ctx, s, cfg.AdminUser, hash)
	if err != nil {
		return err
	}
	if seeded && generated {
		fmt.Fprintf(out, "\nEasel created the administrator %q with password: %s\n"+
			"It is shown only this once. Change it in the console (Users) or with `easel user passwd`.\n\n",
			cfg.AdminUser, password)
	}
	return nil
}
