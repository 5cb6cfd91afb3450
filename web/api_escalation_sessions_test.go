package web_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"easel/actions"
	"easel/internal/testenv"
	"easel/policy"
)

// Item 10: a new password ends the user's other console sessions.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	s := testenv.NewServer(t)
	s.MustCall(t, 201, "POST", "/users", testenv.As("admin"), map[string]any{"username": "sam", "password": "sam-password-1", "roles": []string{}, "creator": "admin"})
	signedIn := func(c *http.Client) bool {
		res, err := c.Get(s.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	sessionsOf := func() []string {
		rows, err := s.App.Store.DB().Query(context.Background(), `SELECT id FROM sessions WHERE username = 'sam' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		return ids
	}
	a, b := signIn(t, s, "sam", "sam-password-1"), signIn(t, s, "sam", "sam-password-1")
	if !signedIn(a) || !signedIn(b) {
		t.Fatal("not signed in")
	}
	// Reset by an administrator through the API: every session ends.
	s.MustCall(t, 201, "POST", "/users", testenv.As("admin"), map[string]any{"username": "sam", "password": "sam-password-2", "roles": []string{}, "creator": "admin"})
	if signedIn(a) || signedIn(b) {
		t.Error("a session survived the password reset")
	}
	// A change made from one session keeps that one and ends the others.
	signIn(t, s, "sam", "sam-password-2")
	signIn(t, s, "sam", "sam-password-2")
	ids := sessionsOf()
	if len(ids) != 2 {
		t.Fatalf("sessions = %v", ids)
	}
	users := s.App.Actions.Users
	pw := "sam-password-3"
	if err := users.Upsert(context.Background(), policy.User("admin"), actions.UserInput{Username: "sam", Password: &pw, Roles: []string{}, KeepSession: ids[0]}); err != nil {
		t.Fatal(err)
	}
	if got := sessionsOf(); !slices.Equal(got, ids[:1]) {
		t.Errorf("sessions after the change = %v, want %v", got, ids[:1])
	}
	// Changing roles only ends nothing.
	if err := users.Upsert(context.Background(), policy.User("admin"), actions.UserInput{Username: "sam", Roles: []string{"byoc"}}); err != nil {
		t.Fatal(err)
	}
	if got := sessionsOf(); !slices.Equal(got, ids[:1]) {
		t.Errorf("sessions after a role change = %v, want %v", got, ids[:1])
	}
}
