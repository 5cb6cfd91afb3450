package views

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"easel/store"
)

// The API keeps ESD's words, statuses and messages; the console speaks
// plainly. This file is the one place that turns the one into the other.

// statusWords are the console's names of the statuses the API reports.
var statusWords = map[string]string{
	// Inference jobs.
	store.InferenceCreated:    "Queued",
	store.InferenceInProgress: "In progress",
	store.InferenceSucceeded:  "Succeeded",
	store.InferenceFailed:     "Failed",
	// Models.
	store.CheckpointInitial:  "Uploading",
	store.CheckpointActive:   "Active",
	store.CheckpointDisabled: "Disabled",
	store.CheckpointFailed:   "Failed",
	// Endpoints.
	"Creating":  "Creating",
	"InService": "In service",
	"Updating":  "Updating",
	"Deleting":  "Deleting",
}

// statusWord is the console's name of an API status; an unknown status is
// shown as it is.
func statusWord(status string) string {
	if w, ok := statusWords[status]; ok {
		return w
	}
	return status
}

// modelStatusWord names a model's status; an Initial model fed by a URL is
// being imported, not uploaded.
func modelStatusWord(c store.Checkpoint) string {
	if c.Status == store.CheckpointInitial && c.SourceURL != "" {
		return "Importing"
	}
	return statusWord(c.Status)
}

// saying turns one API message into the console's words; m holds the
// message's submatches.
type saying struct {
	re  *regexp.Regexp
	say func(m []string, can Can) Note
}

func says(pattern string, say func(m []string, can Can) Note) saying {
	return saying{re: regexp.MustCompile(pattern), say: say}
}

func text(format string) func(m []string, can Can) Note {
	return func(m []string, _ Can) Note {
		args := make([]any, len(m)-1)
		for i, s := range m[1:] {
			args[i] = s
		}
		return Note{Text: fmt.Sprintf(format, args...)}
	}
}

// sayings are the API's messages the console words differently.
var sayings = []saying{
	says(`^(.+) already exists, please use another or rename/delete exists$`,
		text("A model called %s exists already — rename it or delete the old one.")),
	says(`^no available (Async|Real-time) endpoints for user ".*"$`, func(m []string, can Can) Note {
		if can.CreateEndpoints {
			return Note{Text: "No " + m[1] + " endpoint is in service for you — create one in", Href: "/endpoints", Link: "Endpoints"}
		}
		return Note{Text: "No " + m[1] + " endpoint is in service for you. Ask an administrator for one, or pick the other endpoint type."}
	}),
	says(`^role \[(.+)\] has a valid endpoint already, not allow to have another one$`,
		text("Role %s has an endpoint already, and a role can have only one. Delete that one first, or pick another role.")),
	says(`^sagemaker endpoint is not ready with status: (.+)$`,
		func(m []string, _ Can) Note {
			return Note{Text: "That endpoint is not in service yet (" + statusWord(m[1]) + ")."}
		}),
	says(`^endpoint (.+) already exists$`, text("An endpoint called %s exists already; choose another name.")),
	says(`^endpoint_name ".*" must be 1 to 20 letters, digits or dashes, starting with a letter or digit$`,
		text("Use 1 to 20 letters, digits or dashes, starting with a letter or digit.")),
	says(`^initial_instance_count must be a whole number from 1 to (\d+), not .*$`,
		text("Give a whole number of instances from 1 to %s.")),
	says(`^unknown instance_type ".*"; valid types: .*$`, text("Pick an instance type from the list.")),
	says(`^endpoint_type must be Async or Real-time, not .*$`, text("Pick Async or Real-time.")),
	says(`^Autoscaling is not supported for real-time endpoint$`,
		text("Autoscaling works for Async endpoints only; untick it for a Real-time one.")),
	says(`^.+ does not hold role "(.+)": only holders of sagemaker_endpoint:all may assign an endpoint to a role they do not hold$`,
		text("You do not hold role %s, so you cannot give it an endpoint.")),
	says(`^role "(.+)" does not exist$`, text("There is no role called %s any more; reload the page.")),
	says(`^only active can update name$`, text("Only an Active model can be renamed.")),
	says(`^checkpoint not found with id .+$`, text("This model does not exist, or you may not see it.")),
	says(`^inference with id .+ not found$`, text("This job does not exist, or you may not see it.")),
	says(`^username (.+) has already exists, creator .+ does not have permissions to change it$`,
		text("A user called %s exists already, and you may not change it; choose another name.")),
	says(`^already exists$`, text("That name is taken; choose another.")),
}

// say is the console's wording of an API or store message, with a link
// where the viewer may act on it.
func say(msg string, can Can) Note {
	for _, s := range sayings {
		if m := s.re.FindStringSubmatch(msg); m != nil {
			return s.say(m, can)
		}
	}
	return Note{Text: msg}
}

// Plainly is the console's wording of an API or store message, as text
// (for the console's scripts, which show it as is).
func Plainly(msg string) string {
	n := say(msg, Can{})
	if n.Link != "" {
		return n.Text + " " + n.Link + "."
	}
	return n.Text
}

// plainText is say's text alone, for field errors and table cells.
func plainText(msg string) string { return say(msg, Can{}).Text }

// plural writes a count with its noun: "1 model", "3 models".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// changeWords says what an audit action did: the verb and the kind of thing
// it did it to.
var changeWords = map[string][2]string{
	"checkpoint.upload":    {"started uploading", "model"},
	"checkpoint.import":    {"started importing", "model"},
	"checkpoint.update":    {"updated", "model"},
	"checkpoint.share":     {"changed who may use", "model"},
	"checkpoint.delete":    {"deleted", "model"},
	"checkpoint.abandoned": {"dropped the unfinished upload of", "model"},
	"user.upsert":          {"saved", "user"},
	"user.delete":          {"deleted", "user"},
	"role.upsert":          {"saved", "role"},
	"role.delete":          {"deleted", "role"},
	"key.create":           {"created", "API key"},
	"key.revoke":           {"revoked", "API key"},
	"endpoint.create":      {"created", "endpoint"},
	"endpoint.delete":      {"deleted", "endpoint"},
	"inference.create":     {"created", "job"},
	"inference.start":      {"started", "job"},
	"inference.cancel":     {"cancelled", "job"},
	"inference.delete":     {"deleted", "job"},
	"endpoint.status":      {"recorded a new status of", "endpoint"},
	"worker.register":      {"started", "GPU worker"},
	// No thing: the sentence is who and the verb.
	"session.signin":  {"signed in to the console", ""},
	"session.signout": {"signed out of the console", ""},
}

// changeVerb returns what an audit action did and to what kind of thing.
func changeVerb(action string) (verb, kind string) {
	if w, ok := changeWords[action]; ok {
		return w[0], w[1]
	}
	kind, verb, _ = strings.Cut(action, ".")
	return verb, kind
}

// changeActor names who made a change; Easel itself did the clean-ups.
func changeActor(actor string) string {
	if actor == "easel" {
		return "Easel"
	}
	return actor
}

// changeDeletes reports whether an audit action removed its thing.
func changeDeletes(action string) bool {
	return strings.HasSuffix(action, ".delete") || strings.HasSuffix(action, ".revoke") || action == "checkpoint.abandoned"
}

// changeExtra is what an audit entry's detail adds to its sentence.
func changeExtra(a store.AuditEntry) string {
	if st := afterStatus(a); st != "" && a.Action == "endpoint.status" {
		return ": " + statusWord(st)
	}
	if a.Detail == "" {
		if a.Action == "checkpoint.share" {
			return " (now: everyone)"
		}
		return ""
	}
	switch a.Action {
	case "user.upsert":
		return " with roles " + strings.ReplaceAll(a.Detail, ",", ", ")
	case "role.upsert":
		return " with " + plural(strings.Count(a.Detail, ",")+1, "permission", "permissions")
	case "endpoint.create":
		return " on " + a.Detail
	case "inference.create", "inference.start":
		return " on " + a.Detail
	case "checkpoint.share":
		return " (now: " + strings.ReplaceAll(a.Detail, ",", ", ") + ")"
	case "worker.register":
		return " (" + a.Detail + ")"
	}
	return ""
}

// afterStatus is the status an audit entry's after summary records, ""
// when it has none.
func afterStatus(a store.AuditEntry) string {
	var after struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(a.After, &after) != nil {
		return ""
	}
	return after.Status
}

// article is "a" or "an" before a noun.
func article(noun string) string {
	if noun != "" && strings.ContainsRune("AEIOUaeiou", rune(noun[0])) {
		return "an"
	}
	return "a"
}
