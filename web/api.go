package web

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"easel/policy"
	"easel/secrets"
	"easel/store"
)

// maxAPIBody is the largest request body the API reads.
const maxAPIBody = 1 << 20

// errNoKey is a missing, unknown or revoked x-api-key: API Gateway's bare
// 403 {"message":"Forbidden"}.
var errNoKey = errors.New("forbidden: no valid api key")

// addAPI registers r under the base path behind the checks, in the
// contract's order: key → body validation → identity → permission.
func (s *Server) addAPI(r apiRoute) {
	path := s.cfg.APIBase + echoPath(r.path)
	schema := s.doc.bodies[r.method+" "+r.path]
	s.guards[r.method+" "+path] = r.guard
	s.Echo.Add(r.method, path, r.handler, s.apiHeaders, s.requireKey, s.validateBody(schema), s.identify(r), s.guard(r.guard))
}

// echoPath turns OpenAPI path templates ("/checkpoints/{id}") into echo's
// ("/checkpoints/:id").
func echoPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			parts[i] = ":" + part[1:len(part)-1]
		}
	}
	return strings.Join(parts, "/")
}

// apiHeaders adds ESD's version and CORS headers.
func (s *Server) apiHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		setAPIHeaders(c.Response().Header(), s.cfg.APIVersion)
		return next(c)
	}
}

func setAPIHeaders(h http.Header, version string) {
	h.Set("x-api-version", version)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "*")
	h.Set("Access-Control-Allow-Methods", "*")
}

// preflight answers CORS preflight requests on the API without a key.
func (s *Server) preflight(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodOptions && s.isAPI(c.Request().URL.Path) {
			setAPIHeaders(c.Response().Header(), s.cfg.APIVersion)
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}

// requireKey resolves x-api-key to a live key.
func (s *Server) requireKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		secret := c.Request().Header.Get("x-api-key")
		if secret == "" {
			return errNoKey
		}
		k, ok := s.deps.Policy.Key(secrets.HashKey(secret))
		if !ok || k.Pool != "" { // a worker key serves its pool, nothing else
			return errNoKey
		}
		c.Set("api_key", k)
		if o := store.OriginRef(c.Request().Context()); o != nil {
			o.KeyID = k.ID
		}
		return next(c)
	}
}

// validateBody reads the body (bounded), checks it against the route's
// schema and leaves it readable for the handler; the decoded value is kept
// for the identity check.
func (s *Server) validateBody(schema map[string]any) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if schema == nil {
				return next(c)
			}
			body, err := readBody(c.Request())
			if err != nil {
				return err
			}
			value, err := decodeJSON(body)
			if err != nil {
				return err
			}
			if errs := validateSchema(schema, value); len(errs) > 0 {
				return store.Errorf(store.EInvalid, "[%s]", strings.Join(errs, ", "))
			}
			c.Set("body", value)
			c.Request().Body = io.NopCloser(bytes.NewReader(body))
			return next(c)
		}
	}
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAPIBody+1))
	if err != nil {
		return nil, store.Errorf(store.EInvalid, "Invalid request body: %v", err)
	}
	if len(body) > maxAPIBody {
		return nil, store.Errorf(store.EInvalid, "Request body too large: the limit is %d bytes", maxAPIBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		// API Gateway validates an empty body as an empty object.
		body = []byte("{}")
	}
	return body, nil
}

// decodeJSON decodes exactly one JSON value, numbers kept as json.Number.
func decodeJSON(body []byte) (any, error) {
	if !utf8.Valid(body) {
		return nil, store.Errorf(store.EInvalid, "Invalid request body: not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, store.Errorf(store.EInvalid, "Invalid request body: %s", jsonErrorText(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, store.Errorf(store.EInvalid, "Invalid request body: unexpected data after the JSON value")
	}
	return v, nil
}

func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("malformed JSON at byte %d (%s)", syn.Offset, syn.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "malformed JSON: unexpected end of input"
	}
	return err.Error()
}

// identify decides who the request acts as (docs/COMPATIBILITY.md, identity).
func (s *Server) identify(r apiRoute) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			k, _ := c.Get("api_key").(store.APIKey)
			asserted, err := headerUser(c.Request())
			if err != nil {
				return err
			}
			p, err := s.principal(c, r, k, asserted)
			if err != nil {
				return err
			}
			c.SetRequest(c.Request().WithContext(policy.NewContext(c.Request().Context(), p)))
			c.Set("user", p.Name())
			return next(c)
		}
	}
}

func (s *Server) principal(c echo.Context, r apiRoute, k store.APIKey, asserted string) (policy.Principal, error) {
	if !k.Service {
		if asserted != "" && asserted != k.Username {
			return policy.Principal{}, store.Errorf(store.EForbidden, "This key belongs to %s and cannot act as %s", k.Username, asserted)
		}
		return policy.User(k.Username), nil
	}
	body, _ := c.Get("body").(map[string]any)
	if asserted == "" && r.bodyUser != "" {
		asserted = bodyString(body, r.bodyUser)
	}
	if asserted == "" {
		if r.onBehalf {
			return policy.Principal{}, errNoUser
		}
		return policy.Principal{Service: true}, nil
	}
	if !s.deps.Policy.UserExists(asserted) {
		// The 1.4.0 WebUI's bootstrap names the user it creates, by Bearer
		// header and body creator alike.
		if r.bootstrap && isBootstrapOf(body, asserted) {
			return policy.Principal{Service: true}, nil
		}
		return policy.Principal{}, errUnknownUser
	}
	return policy.User(asserted), nil
}

// bodyString returns the string at a dotted path ("params.creator") of a
// decoded JSON body, "" when absent or not a string.
func bodyString(body map[string]any, path string) string {
	var cur any = body
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}

// isBootstrapOf reports whether body is ESD's POST /users {"initial": true}
// creating the very user it names as creator.
func isBootstrapOf(body map[string]any, creator string) bool {
	initial, _ := body["initial"].(bool)
	username, _ := body["username"].(string)
	return initial && username == creator
}

// How to name a user, said in every 401 of the API.
const nameAUser = `send the "username" header or "Authorization: Bearer <hex of the user name>"`

var (
	errNoUser      = store.Errorf(store.EUnauthorized, "Unauthorized: this request acts on behalf of a user; "+nameAUser)
	errUnknownUser = store.Errorf(store.EUnauthorized, "Unauthorized: the user named by this request does not exist; "+nameAUser)
	errBadUserName = store.Errorf(store.EUnauthorized, "Unauthorized: the user name sent is not readable; "+nameAUser)
)

// headerUser returns the user asserted by the username header (1.5+
// clients) or, failing that, by Authorization: Bearer <hex of the name>
// (upper-case from ESD's WebUI; lower-case accepted too).
func headerUser(r *http.Request) (string, error) {
	if u := r.Header.Get("username"); u != "" {
		if !storableText(u) {
			return "", errBadUserName
		}
		return u, nil
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", nil
	}
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		return "", errBadUserName
	}
	// ESD's WebUI sends upper-case hex; lower-case is the same name.
	b, err := hex.DecodeString(token)
	if err != nil || !storableText(string(b)) {
		return "", errBadUserName
	}
	return string(b), nil
}

// storableText reports whether s is valid UTF-8 without NUL, as Postgres
// text requires.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// guard enforces a route's permission for the resolved principal.
func (s *Server) guard(g policy.Guard) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, _ := policy.FromContext(c.Request().Context())
			if err := s.deps.Policy.Check(g, p); err != nil {
				return err
			}
			return next(c)
		}
	}
}
