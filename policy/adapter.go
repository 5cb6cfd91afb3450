package policy

import (
	"context"
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5"

	"easel/store"
)

// Adapter keeps casbin rules in the casbin_rule table through pgx.
type Adapter struct {
	store *store.Store
}

var (
	_ persist.Adapter      = (*Adapter)(nil)
	_ persist.BatchAdapter = (*Adapter)(nil)
)

// NewAdapter returns an adapter on s.
func NewAdapter(s *store.Store) *Adapter { return &Adapter{store: s} }

// LoadPolicy reads every rule into m.
func (a *Adapter) LoadPolicy(m model.Model) error {
	rows, err := a.store.DB().Query(context.Background(),
		`SELECT ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rule ORDER BY id`)
	if err != nil {
		return fmt.Errorf("load casbin rules: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v [7]string
		if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]); err != nil {
			return fmt.Errorf("scan casbin rule: %w", err)
		}
		fields := v[:]
		for len(fields) > 1 && fields[len(fields)-1] == "" {
			fields = fields[:len(fields)-1]
		}
		if err := persist.LoadPolicyArray(fields, m); err != nil {
			return fmt.Errorf("load casbin rule %v: %w", fields, err)
		}
	}
	return rows.Err()
}

// SavePolicy replaces every stored rule with those of m.
func (a *Adapter) SavePolicy(m model.Model) error {
	ctx := context.Background()
	return a.store.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM casbin_rule`); err != nil {
			return err
		}
		for _, sec := range []string{"p", "g"} {
			for ptype, ast := range m[sec] {
				for _, rule := range ast.Policy {
					if err := insertRule(ctx, tx, ptype, rule); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// AddPolicy stores one rule.
func (a *Adapter) AddPolicy(_ string, ptype string, rule []string) error {
	return insertRule(context.Background(), a.store.DB(), ptype, rule)
}

// AddPolicies stores several rules.
func (a *Adapter) AddPolicies(sec string, ptype string, rules [][]string) error {
	for _, r := range rules {
		if err := a.AddPolicy(sec, ptype, r); err != nil {
			return err
		}
	}
	return nil
}

// RemovePolicy deletes one rule.
func (a *Adapter) RemovePolicy(_ string, ptype string, rule []string) error {
	v := pad(rule)
	_, err := a.store.DB().Exec(context.Background(), `
		DELETE FROM casbin_rule WHERE ptype = $1 AND v0 = $2 AND v1 = $3 AND v2 = $4
		AND v3 = $5 AND v4 = $6 AND v5 = $7`, ptype, v[0], v[1], v[2], v[3], v[4], v[5])
	return err
}

// RemovePolicies deletes several rules.
func (a *Adapter) RemovePolicies(sec string, ptype string, rules [][]string) error {
	for _, r := range rules {
		if err := a.RemovePolicy(sec, ptype, r); err != nil {
			return err
		}
	}
	return nil
}

// RemoveFilteredPolicy deletes the rules whose fields from fieldIndex on
// equal fieldValues (empty values match anything).
func (a *Adapter) RemoveFilteredPolicy(_ string, ptype string, fieldIndex int, fieldValues ...string) error {
	where := []string{"ptype = $1"}
	args := []any{ptype}
	for i, val := range fieldValues {
		if val == "" || fieldIndex+i > 5 {
			continue
		}
		args = append(args, val)
		where = append(where, fmt.Sprintf("v%d = $%d", fieldIndex+i, len(args)))
	}
	_, err := a.store.DB().Exec(context.Background(),
		`DELETE FROM casbin_rule WHERE `+strings.Join(where, " AND "), args...)
	return err
}

func pad(rule []string) [6]string {
	var v [6]string
	copy(v[:], rule)
	return v
}

func insertRule(ctx context.Context, db store.DBTX, ptype string, rule []string) error {
	v := pad(rule)
	_, err := db.Exec(ctx, `
		INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT DO NOTHING`, ptype, v[0], v[1], v[2], v[3], v[4], v[5])
	if err != nil {
		return fmt.Errorf("insert casbin rule: %w", err)
	}
	return nil
}
