package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"easel/store"
)

const (
	sessionCookie = "easel_session"
	sessionMaxAge = 7 * 24 * time.Hour
	sessionUser   = "username"
	// sessionCSRF is the session's CSRF token, new at every sign-in.
	sessionCSRF = "csrf"
)

// pgSessions is a gorilla sessions.Store that keeps session data in
// Postgres; the cookie holds only the signed session id, so deleting the
// row (sign-out, user deleted) ends the session at once.
type pgSessions struct {
	store   *store.Store
	codecs  []securecookie.Codec
	options sessions.Options
}

func newPGSessions(s *store.Store, secret []byte) *pgSessions {
	return &pgSessions{
		store:  s,
		codecs: securecookie.CodecsFromPairs(secret),
		options: sessions.Options{Path: "/", MaxAge: int(sessionMaxAge.Seconds()), HttpOnly: true,
			SameSite: http.SameSiteLaxMode},
	}
}

// Get returns the request's session (cached per request by gorilla).
func (s *pgSessions) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the cookie, or a fresh one.
func (s *pgSessions) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.options
	sess.Options = &opts
	sess.IsNew = true
	cookie, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, cookie.Value, &id, s.codecs...); err != nil {
		return sess, nil
	}
	rec, err := store.FindSession(r.Context(), s.store.DB(), id, s.store.Now())
	if errors.Is(err, store.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	var values map[string]string
	if err := json.Unmarshal(rec.Data, &values); err != nil {
		return sess, nil
	}
	for k, v := range values {
		sess.Values[k] = v
	}
	sess.ID, sess.IsNew = id, false
	return sess, nil
}

// Save writes the session row and the cookie; MaxAge < 0 deletes both.
func (s *pgSessions) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	return s.save(r.Context(), s.store.DB(), w, sess)
}

// save is Save inside db (the transaction of a sign-in or sign-out).
func (s *pgSessions) save(ctx context.Context, db store.DBTX, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := store.DeleteSession(ctx, db, sess.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	if sess.ID == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("session id: %w", err)
		}
		sess.ID = base64.RawURLEncoding.EncodeToString(b)
	}
	values := map[string]string{}
	for k, v := range sess.Values {
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if ok1 && ok2 {
			values[ks] = vs
		}
	}
	data, _ := json.Marshal(values)
	err := store.SaveSession(ctx, db, store.SessionRecord{
		ID: sess.ID, Username: values[sessionUser], Data: data,
		ExpiresAt: s.store.Now().Add(time.Duration(sess.Options.MaxAge) * time.Second),
	})
	if err != nil {
		return err
	}
	encoded, err := securecookie.EncodeMulti(sess.Name(), sess.ID, s.codecs...)
	if err != nil {
		return fmt.Errorf("encode session cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, sess.Options))
	return nil
}

// SignIn starts a fresh session for username (a new id, against fixation),
// audited in the same transaction.
func (s *pgSessions) SignIn(c echo.Context, username string) error {
	old, _ := s.Get(c.Request(), sessionCookie)
	sess := sessions.NewSession(s, sessionCookie)
	opts := s.options
	opts.Secure = c.Scheme() == "https"
	sess.Options = &opts
	sess.Values[sessionUser] = username
	token, err := newCSRFToken()
	if err != nil {
		return err
	}
	sess.Values[sessionCSRF] = token
	// The token of the login page is spent: the session's replaces it.
	c.SetCookie(&http.Cookie{Name: csrfCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: opts.Secure,
		SameSite: http.SameSiteStrictMode})
	ctx := c.Request().Context()
	return s.store.InTx(ctx, func(tx pgx.Tx) error {
		if old != nil && old.ID != "" {
			if err := store.DeleteSession(ctx, tx, old.ID); err != nil {
				return err
			}
		}
		if err := s.save(ctx, tx, c.Response(), sess); err != nil {
			return err
		}
		return store.Audit(ctx, tx, username, "session.signin", username, "")
	})
}

// SignOut ends the request's session, audited in the same transaction.
func (s *pgSessions) SignOut(c echo.Context) error {
	sess, err := s.Get(c.Request(), sessionCookie)
	if err != nil {
		return err
	}
	sess.Options.MaxAge = -1
	name, _ := sess.Values[sessionUser].(string)
	ctx := c.Request().Context()
	return s.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := s.save(ctx, tx, c.Response(), sess); err != nil || name == "" {
			return err
		}
		return store.Audit(ctx, tx, name, "session.signout", name, "")
	})
}

// sessionUser returns the signed-in user's name, "" when none.
func (s *pgSessions) user(r *http.Request) (string, error) {
	sess, err := s.Get(r, sessionCookie)
	if err != nil {
		return "", err
	}
	name, _ := sess.Values[sessionUser].(string)
	return name, nil
}
