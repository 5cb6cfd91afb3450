// Package views holds the console's templ components and their view models.
package views

import (
	"time"

	"easel/store"
)

// Base is what every page's layout needs.
type Base struct {
	Title string
	// User is the signed-in user's name; empty on the login page.
	User   string
	CSRF   string
	Active string
	Can    Can
}

// Can holds the permission-dependent choices of the UI (the server still
// enforces every one).
type Can struct {
	ListUsers     bool
	CreateUsers   bool
	AllUsers      bool
	ListRoles     bool
	CreateRoles   bool
	ListModels    bool
	ListEndpoints bool
	ListJobs      bool
	CreateJobs    bool
	ListTrainings bool
	// Set on console pages (not the error page): what they offer to create.
	AllJobs         bool
	CreateModels    bool
	CreateEndpoints bool
}

// LoginPage is the sign-in screen.
type LoginPage struct {
	Base
	Username string
	Error    string
	Next     string
}

// DashboardPage is the landing screen.
type DashboardPage struct {
	Base
	Users, Roles, Keys int
	Models, Endpoints  int
	Running            int
	Changes            []Change
}

// Change is one audit entry with the thing it changed, resolved for the
// viewer: its name now, and its page when the viewer may open it.
type Change struct {
	Entry store.AuditEntry
	// Name is the thing's name; "" when it cannot be told.
	Name string
	// Href is where the thing is shown; "" when it is gone or hidden.
	Href string
	// Gone says the thing has been deleted since.
	Gone bool
}

// FormErrors maps a field name to its message; "" is the form-wide one.
type FormErrors map[string]string

// UsersPage lists users and offers the create form.
type UsersPage struct {
	Base
	Users []store.User
	Form  UserForm
}

// UserForm is the create or edit form of a user.
type UserForm struct {
	CSRF     string
	Editing  bool
	Username string
	Roles    []string
	// Choices are the roles the actor may assign.
	Choices []string
	Errors  FormErrors
}

// UserRow is one row of the users table.
type UserRow struct {
	User      store.User
	CanModify bool
	CSRF      string
}

// RolesPage lists roles and offers the create form.
type RolesPage struct {
	Base
	Roles []store.Role
	Form  RoleForm
}

// RoleForm is the create or edit form of a role with its permission matrix.
type RoleForm struct {
	CSRF      string
	Editing   bool
	Name      string
	Granted   map[string]bool
	Resources []string
	Actions   []string
	// Grantable marks the permissions the actor holds and so may grant.
	Grantable map[string]bool
	Errors    FormErrors
}

// RoleRow is one row of the roles table.
type RoleRow struct {
	Role      store.Role
	CanModify bool
	CSRF      string
}

// KeysPage lists API keys and offers the create form.
type KeysPage struct {
	Base
	Keys       []store.APIKey
	CanService bool
	Form       KeyForm
}

// KeyForm is the create form; Secret is set once, right after creation.
type KeyForm struct {
	CSRF       string
	Name       string
	CanService bool
	Secret     string
	Errors     FormErrors
}

// ErrorPage shows a failed page request.
type ErrorPage struct {
	Base
	Status  int
	Message string
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }
